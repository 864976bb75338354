import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { attendedPairs, denseMask, type ExecutionForm, FormBuilder, validateForm } from "./form.ts";

/** A random order of 0…n−1 drawn from `next`. */
function shuffled(n: number, next: () => number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Two tiles [0, cut) and [cut, L), each with one key range, queries and keys in their own orders. */
function keyedForm(tokens: number, seed: number): {
  form: ExecutionForm;
  tiles: Array<{ rows: [number, number]; keys: [number, number] }>;
} {
  let s = seed;
  const next = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const cut = 1 + Math.floor(next() * (tokens - 1));
  const tiles = [0, 1].map((t) => {
    const a = Math.floor(next() * tokens);
    const b = a + 1 + Math.floor(next() * (tokens - a));
    return {
      rows: (t === 0 ? [0, cut] : [cut, tokens]) as [number, number],
      keys: [a, b] as [number, number],
    };
  });
  const builder = new FormBuilder(tokens, 4);
  for (const tile of tiles) builder.range(...tile.keys).endTile(tile.rows[1]);
  const form = builder.build(shuffled(tokens, next), "random", null, shuffled(tokens, next));
  return { form: validateForm(form), tiles };
}

Deno.test("key permutation: denseMask maps query positions by permutation, key positions by keyPermutation", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 40 }),
      fc.integer({ min: 1, max: 1e6 }),
      (tokens, seed) => {
        const { form, tiles } = keyedForm(tokens, seed);
        const expected = new Uint8Array(tokens * tokens);
        for (const { rows, keys } of tiles) {
          for (let p = rows[0]; p < rows[1]; p++) {
            for (let k = keys[0]; k < keys[1]; k++) {
              expected[form.permutation![p] * tokens + form.keyPermutation![k]] = 1;
            }
          }
        }
        deepEqual(denseMask(form), expected);
        equal(attendedPairs(form), expected.reduce((sum, bit) => sum + bit, 0));
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("key permutation: validation names the field", () => {
  const base = new FormBuilder(4, 2).range(0, 4).endTile(4);
  throws(
    () => validateForm(base.build(null, null, null, Uint32Array.from([1, 0, 2, 3]))),
    /keyPermutation needs a permutation/,
  );
  const order = Uint32Array.from([0, 1, 2, 3]);
  throws(
    () => validateForm(base.build(order, "q", null, Uint32Array.from([1, 1, 2, 3]))),
    /form: keyPermutation is not a permutation \(at 1\)/,
  );
  throws(
    () => validateForm(base.build(order, "q", null, Uint32Array.from([1, 0, 2]))),
    /form: keyPermutation must have 4 entries/,
  );
});

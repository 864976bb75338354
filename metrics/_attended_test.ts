import { deepEqual, throws } from "node:assert/strict";
import {
  denseMask,
  type ExecutionForm,
  FormBuilder,
  MASK_ROWS,
  MASK_TOKENS,
  tokenMaskRowWords,
} from "../form/form.ts";
import { attendedKeyLister } from "./_attended.ts";
import { Prng } from "../scenarios/prng.ts";

/** A random form: random tiles, ranges with no mask, row masks or token masks, permuted. */
function randomForm(tokens: number, seed: number): ExecutionForm {
  const prng = new Prng(seed, 0, 0);
  const random = () => prng.uniform();
  const builder = new FormBuilder(tokens, 4);
  while (builder.tileStart < tokens) {
    const start = builder.tileStart;
    const end = Math.min(tokens, start + 1 + Math.floor(random() * 9));
    const rows = end - start;
    for (let r = 0; r < 3; r++) {
      const k0 = Math.floor(random() * tokens);
      const k1 = Math.min(tokens, k0 + 1 + Math.floor(random() * 12));
      const kind = Math.floor(random() * 3);
      if (kind === 0) builder.range(k0, k1);
      if (kind === MASK_ROWS) {
        const words = Array.from({ length: Math.ceil(rows / 32) }, () => random() * 2 ** 32);
        builder.range(k0, k1, { kind: MASK_ROWS, words });
      }
      if (kind === MASK_TOKENS) {
        const length = rows * tokenMaskRowWords(k1 - k0);
        const words = Array.from({ length }, () => random() * 2 ** 32);
        builder.range(k0, k1, { kind: MASK_TOKENS, words });
      }
    }
    builder.endTile(end);
  }
  const permutation = Uint32Array.from({ length: tokens }, (_, i) => i);
  for (let i = tokens - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [permutation[i], permutation[j]] = [permutation[j], permutation[i]];
  }
  return builder.build(permutation, "random");
}

Deno.test("attendedKeyLister agrees with denseMask on random permuted, masked forms", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const tokens = 40 + seed;
    const form = randomForm(tokens, seed);
    const mask = denseMask(form);
    const listKeys = attendedKeyLister(form);
    const out = new Uint8Array(tokens);
    for (let query = 0; query < tokens; query++) {
      deepEqual(listKeys(query, out), mask.subarray(query * tokens, (query + 1) * tokens));
    }
  }
});

Deno.test("attendedKeyLister rejects a query outside the sequence and a short buffer", () => {
  const listKeys = attendedKeyLister(randomForm(10, 1));
  throws(() => listKeys(10), /query must be an integer in \[0, 10\)/);
  throws(() => listKeys(0, new Uint8Array(3)), /out must hold 10 keys/);
});

Deno.test("attendedKeyLister maps key positions by the key permutation when the form has one", () => {
  // Tile [0, 2) attends key positions [0, 2), tile [2, 4) key positions [3, 4).
  const form = new FormBuilder(4, 2).range(0, 2).endTile(2).range(3, 4).endTile(4).build(
    Uint32Array.from([2, 0, 3, 1]),
    "queries",
    null,
    Uint32Array.from([1, 3, 0, 2]),
  );
  const lister = attendedKeyLister(form);
  // Query 2 sits at position 0: keys 1 and 3. Query 1 sits at position 3: key 2.
  deepEqual([...lister(2)], [0, 1, 0, 1]);
  deepEqual([...lister(1)], [0, 0, 1, 0]);
  for (let query = 0; query < 4; query++) {
    deepEqual(lister(query), denseMask(form).subarray(query * 4, query * 4 + 4));
  }
});

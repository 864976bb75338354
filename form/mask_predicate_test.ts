import { deepEqual, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  attendedPairs,
  blockGrid,
  countedFlops,
  denseMask,
  MASK_NONE,
  MASK_TOKENS,
  tileCount,
} from "./form.ts";
import {
  formFromBlockGrid,
  formFromPredicate,
  formFromSegments,
  uniformBounds,
} from "./mask_predicate.ts";

/** A seeded predicate mixing structure (bands, blocks) and noise, so full and partial blocks occur. */
function randomPredicate(seed: number, kind: number): (q: number, k: number) => boolean {
  const hash = (q: number, k: number) => {
    let h = Math.imul(q * 73856093 ^ k * 19349663 ^ seed, 0x9e3779b1);
    h ^= h >>> 15;
    return (h >>> 0) / 2 ** 32;
  };
  switch (kind) {
    case 0:
      return (q, k) => hash(q, k) < 0.3;
    case 1:
      return (q, k) => Math.abs(q - k) <= seed % 7;
    case 2:
      return (q, k) => Math.floor(q / 5) === Math.floor(k / 5) || k < 3;
    default:
      return (q, k) => (q + k + seed) % 3 !== 0;
  }
}

Deno.test("formFromPredicate attends exactly the predicate's pairs", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
      (tokens, blockSize, seed, kind, permuted) => {
        const predicate = randomPredicate(seed, kind);
        const permutation = permuted
          ? Uint32Array.from({ length: tokens }, (_, i) => (i * 7 + seed) % tokens)
          : null;
        const bijective = !permutation || new Set(permutation).size === tokens;
        if (!bijective) return;
        const form = formFromPredicate(tokens, blockSize, predicate, { permutation });
        const mask = denseMask(form);
        let pairs = 0;
        for (let q = 0; q < tokens; q++) {
          for (let k = 0; k < tokens; k++) {
            const want = predicate(q, k) ? 1 : 0;
            pairs += want;
            if (mask[q * tokens + k] !== want) {
              throw new Error(`pair (${q}, ${k}): form ${mask[q * tokens + k]}, predicate ${want}`);
            }
          }
        }
        deepEqual(attendedPairs(form), pairs);
        deepEqual(countedFlops(form, 64), 4 * 64 * pairs);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("formFromPredicate merges full blocks and keeps partial ones as token masks", () => {
  // Keys 0..7 always attended (two full blocks of 4), then a diagonal (partial blocks).
  const form = formFromPredicate(16, 4, (q, k) => k < 8 || q === k);
  deepEqual(tileCount(form), 4);
  // Tile 0: keys [0, 8) in one plain range; the diagonal block lies inside it already.
  deepEqual([form.rangeStarts[0], form.rangeEnds[0], form.rangeMaskKinds[0]], [0, 8, MASK_NONE]);
  deepEqual(form.rangeOffsets[1], 1);
  // Tile 2: [0, 8) plain, then its diagonal block [8, 12) with bits.
  const r = form.rangeOffsets[2];
  deepEqual([form.rangeStarts[r + 1], form.rangeEnds[r + 1]], [8, 12]);
  deepEqual(form.rangeMaskKinds[r + 1], MASK_TOKENS);
  deepEqual(attendedPairs(form), 16 * 8 + 8);
});

Deno.test("formFromSegments merges runs of attended segments", () => {
  const form = formFromSegments([0, 3, 5, 9, 10], (q, k) => k !== 2 || q === 2, {
    blockSize: 4,
  });
  deepEqual(tileCount(form), 4);
  // Tile 0 attends segments 0, 1 (merged: [0, 5)) and 3 ([9, 10)).
  deepEqual(Array.from(form.rangeStarts.subarray(0, 2)), [0, 9]);
  deepEqual(Array.from(form.rangeEnds.subarray(0, 2)), [5, 10]);
  // Tile 2 attends all four segments: one range.
  const r = form.rangeOffsets[2];
  deepEqual(form.rangeOffsets[3] - r, 1);
  deepEqual([form.rangeStarts[r], form.rangeEnds[r]], [0, 10]);
});

Deno.test("formFromBlockGrid reproduces the grid", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 32 }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      (tokens, blockSize, seed) => {
        const blocks = Math.ceil(tokens / blockSize);
        const bits = Uint8Array.from(
          { length: blocks * blocks },
          (_, i) => (Math.imul(i + 1, 2654435761) ^ seed) >>> 0 & 4 ? 1 : 0,
        );
        const form = formFromBlockGrid({ blockSize, blocks, bits }, tokens);
        deepEqual(blockGrid(form).bits, bits);
      },
    ),
    { numRuns: 100 },
  );
  throws(
    () => formFromBlockGrid({ blockSize: 4, blocks: 2, bits: new Uint8Array(4) }, 9),
    RangeError,
  );
});

Deno.test("uniformBounds ends with a short last segment", () => {
  deepEqual(Array.from(uniformBounds(10, 4)), [0, 4, 8, 10]);
});

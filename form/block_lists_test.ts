import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { type BlockLists, blockLists } from "./block_lists.ts";
import { attendedPairs, denseMask, type ExecutionForm, FormBuilder, MASK_ROWS } from "./form.ts";
import { formFromPredicate, formFromSegments } from "./mask_predicate.ts";

/**
 * The L×L mask in ORIGINAL token order that the lists describe, decoded the way a peer library
 * reads them (full blocks whole, partial blocks bit by bit), independently of the code under test.
 */
function maskFromLists(lists: BlockLists, tokens: number, permutation: Uint32Array | null) {
  const B = lists.blockSize;
  const mask = new Uint8Array(tokens * tokens);
  const original = (p: number) => permutation ? permutation[p] : p;
  const mark = (q: number, k: number) => {
    if (q >= tokens || k >= tokens) throw new Error(`pair (${q}, ${k}) lies past L = ${tokens}`);
    mask[original(q) * tokens + original(k)] = 1;
  };
  let partial = 0;
  for (let qb = 0; qb < lists.blocks; qb++) {
    for (let i = 0; i < lists.fullCounts[qb]; i++) {
      const kb = lists.fullIndices[qb * lists.fullWidth + i];
      for (let q = qb * B; q < (qb + 1) * B; q++) {
        for (let k = kb * B; k < (kb + 1) * B; k++) mark(q, k);
      }
    }
    for (let i = 0; i < lists.partialCounts[qb]; i++, partial++) {
      const kb = lists.partialIndices[qb * lists.partialWidth + i];
      for (let row = 0; row < B; row++) {
        for (let col = 0; col < B; col++) {
          const byte = lists.partialBits[(partial * B + row) * (B / 8) + (col >> 3)];
          if ((byte >> (col & 7)) & 1) mark(qb * B + row, kb * B + col);
        }
      }
    }
  }
  equal(partial * B * (B / 8), lists.partialBits.length);
  return mask;
}

function hash(q: number, k: number, seed: number): number {
  let h = Math.imul(q * 73856093 ^ k * 19349663 ^ seed, 0x9e3779b1);
  h ^= h >>> 15;
  return (h >>> 0) / 2 ** 32;
}

/** A form with row-mask ranges (MoC's kind): tiles of uneven length, seeded row choices. */
function rowMaskForm(tokens: number, seed: number): ExecutionForm {
  const builder = new FormBuilder(tokens, 8);
  for (let start = 0; start < tokens;) {
    const end = Math.min(tokens, start + 1 + Math.floor(hash(start, 1, seed) * 40));
    const rows = end - start;
    for (let k = 0; k < tokens; k += 13) {
      const words = new Uint32Array(Math.ceil(rows / 32));
      for (let r = 0; r < rows; r++) if (hash(start + r, k, seed) < 0.5) words[r >>> 5] |= 1 << r;
      const keyEnd = Math.min(tokens, k + 13);
      if (hash(k, start, seed) < 0.3) builder.range(k, keyEnd);
      else if (hash(k, start, seed) < 0.7) builder.range(k, keyEnd, { kind: MASK_ROWS, words });
    }
    builder.endTile(end);
    start = end;
  }
  return builder.build();
}

function checkLists(form: ExecutionForm, blockSize: number): void {
  const lists = blockLists(form, blockSize);
  deepEqual(maskFromLists(lists, form.tokens, form.permutation), denseMask(form));
  equal(lists.attendedPairs, attendedPairs(form));
  for (let qb = 0; qb < lists.blocks; qb++) {
    const row = [
      ...lists.fullIndices.subarray(
        qb * lists.fullWidth,
        qb * lists.fullWidth + lists.fullCounts[qb],
      ),
      ...lists.partialIndices.subarray(
        qb * lists.partialWidth,
        qb * lists.partialWidth + lists.partialCounts[qb],
      ),
    ];
    equal(new Set(row).size, row.length, `query block ${qb} lists a key block twice`);
  }
}

Deno.test("blockLists of token-mask forms decode to the form's exact mask", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom(8, 16, 32),
      fc.integer({ min: 0, max: 1000 }),
      fc.boolean(),
      (tokens, compileBlock, blockSize, seed, permuted) => {
        const permutation = permuted
          ? Uint32Array.from({ length: tokens }, (_, i) => i).sort((a, b) =>
            hash(a, 7, seed) - hash(b, 7, seed)
          )
          : null;
        const density = hash(seed, 3, seed);
        const form = formFromPredicate(
          tokens,
          compileBlock,
          (q, k) => Math.abs(q - k) < seed % 9 || hash(q, k, seed) < density,
          { permutation },
        );
        checkLists(form, blockSize);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("blockLists of row-mask and plain-range forms decode to the form's exact mask", () => {
  for (const [tokens, seed] of [[1, 0], [37, 1], [64, 2], [100, 3], [129, 4]]) {
    checkLists(rowMaskForm(tokens, seed), 8);
    checkLists(rowMaskForm(tokens, seed), 32);
    const bounds = [0, 5, 17, 40, 41, tokens].filter((b, i, all) =>
      b <= tokens && all[i - 1] !== b
    );
    if (bounds.length > 1) {
      checkLists(formFromSegments(bounds, (q, k) => (q + k) % 2 === 0, { blockSize: 8 }), 16);
    }
  }
});

Deno.test("blockLists: a whole-block sequence has only full blocks; a ragged edge is partial", () => {
  const dense64 = formFromSegments([0, 64], () => true, { blockSize: 16 });
  const even = blockLists(dense64, 16);
  deepEqual([...even.fullCounts], [4, 4, 4, 4]);
  deepEqual([...even.partialCounts], [0, 0, 0, 0]);
  equal(even.partialBits.length, 0);
  const ragged = blockLists(formFromSegments([0, 60], () => true, { blockSize: 16 }), 16);
  deepEqual([...ragged.fullCounts], [3, 3, 3, 0]);
  deepEqual([...ragged.partialCounts], [1, 1, 1, 4]);
  deepEqual([...ragged.partialIndices.subarray(0, ragged.partialWidth)], [3, 0, 0, 0]);
});

Deno.test("blockLists refuses a block size that is not a multiple of 8", () => {
  const form = formFromSegments([0, 8], () => true, { blockSize: 8 });
  throws(() => blockLists(form, 12), /blockSize must be a multiple of 8/);
});

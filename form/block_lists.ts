/**
 * A form's blocks as the block-sparse lists FlexAttention's `BlockMask` and FlashInfer's BSR
 * wrappers take: per query block, the key blocks every pair of which is attended (full blocks,
 * run without a mask) and the key blocks only some pairs of which are attended (partial blocks,
 * run with the exact bits, which are exported too). Blocks are square, `blockSize` tokens a side,
 * over the form's own (permuted) token order; the last block of a sequence that is not whole
 * blocks is shorter, and it is never full (its bits say which pairs exist).
 *
 * Partial-block bits: block p of the partial blocks (numbered in query-block order, then key-block
 * order) holds `blockSize` rows of `blockSize / 8` bytes; bit `k & 7` of byte `k >> 3` of row `q`
 * is set when query `q` of the block attends key `k` of the block (numpy's
 * `packbits(..., bitorder="little")`).
 *
 * @module
 */
import { type ExecutionForm, MASK_NONE, MASK_ROWS, tileCount, tokenMaskRowWords } from "./form.ts";

/** The block lists of one form (see the module doc). Index arrays are row-major. */
export interface BlockLists {
  /** Block size in tokens, a multiple of 8. */
  blockSize: number;
  /** Query blocks = key blocks = ceil(L / blockSize). */
  blocks: number;
  /** Full key blocks of each query block. */
  fullCounts: Int32Array;
  /** [blocks × fullWidth]: the full key blocks of each query block, ascending, then 0s. */
  fullIndices: Int32Array;
  /** Row width of `fullIndices`: the most full blocks of a query block, at least 1. */
  fullWidth: number;
  /** Partial key blocks of each query block. */
  partialCounts: Int32Array;
  /** [blocks × partialWidth]: the partial key blocks of each query block, ascending, then 0s. */
  partialIndices: Int32Array;
  /** Row width of `partialIndices`, at least 1. */
  partialWidth: number;
  /** [partial blocks × blockSize × blockSize/8] packed bits of every partial block. */
  partialBits: Uint8Array;
  /** (query, key) pairs the blocks attend, full and partial together. */
  attendedPairs: number;
}

/** Calls `visit(block, from, to)` for each block-sized piece of the key span [start, end). */
function forEachBlockPiece(
  start: number,
  end: number,
  blockSize: number,
  visit: (block: number, from: number, to: number) => void,
): void {
  for (let block = Math.floor(start / blockSize); block * blockSize < end; block++) {
    visit(block, Math.max(start, block * blockSize), Math.min(end, (block + 1) * blockSize));
  }
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Whether row `row` of a tile is on in a MASK_ROWS range's bits. */
function rowOn(form: ExecutionForm, range: number, row: number): boolean {
  const word = form.maskWords[form.rangeMaskOffsets[range] + (row >>> 5)];
  return ((word >>> (row & 31)) & 1) === 1;
}

/** Bits [from, to) of a token-mask row starting at word `offset` of `maskWords`, in 32-bit words. */
function rowWord(words: Uint32Array, offset: number, bit: number): number {
  const shift = bit & 31;
  const low = words[offset + (bit >>> 5)] >>> shift;
  return shift === 0 ? low : (low | (words[offset + (bit >>> 5) + 1] << (32 - shift))) >>> 0;
}

/** Sets bits [from, to) of one row of packed bits starting at byte `rowOffset`. */
function setBitRun(bits: Uint8Array, rowOffset: number, from: number, to: number): void {
  for (let k = from; k < to;) {
    if ((k & 7) === 0 && k + 8 <= to) {
      bits[rowOffset + (k >>> 3)] = 0xff;
      k += 8;
    } else {
      bits[rowOffset + (k >>> 3)] |= 1 << (k & 7);
      k++;
    }
  }
}

/** Walks the form's (tile, range) pairs with the attended pairs of each row, per key block. */
interface RangeVisitor {
  /** A range every row of [q0, q1) attends on keys [k0, k1) of key block `kb`. */
  rows(q0: number, q1: number, kb: number, k0: number, k1: number): void;
  /** Token bits of row `q` on keys [k0, k1) of key block `kb`; `bitsAt(k)` reads 32 keys at k. */
  tokens(q: number, kb: number, k0: number, k1: number, bitsAt: (key: number) => number): void;
}

function walkForm(form: ExecutionForm, blockSize: number, visitor: RangeVisitor): void {
  for (let t = 0; t < tileCount(form); t++) {
    const t0 = form.tileBounds[t];
    const t1 = form.tileBounds[t + 1];
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      const start = form.rangeStarts[r];
      const end = form.rangeEnds[r];
      const kind = form.rangeMaskKinds[r];
      if (kind === MASK_NONE || kind === MASK_ROWS) {
        let runStart = -1;
        for (let q = t0; q <= t1; q++) {
          const on = q < t1 && (kind === MASK_NONE || rowOn(form, r, q - t0));
          if (on && runStart < 0) runStart = q;
          if (on || runStart < 0) continue;
          forEachBlockPiece(
            runStart,
            q,
            blockSize,
            (_qb, q0, q1) =>
              forEachBlockPiece(
                start,
                end,
                blockSize,
                (kb, k0, k1) => visitor.rows(q0, q1, kb, k0, k1),
              ),
          );
          runStart = -1;
        }
        continue;
      }
      const rowWords = tokenMaskRowWords(end - start);
      for (let q = t0; q < t1; q++) {
        const offset = form.rangeMaskOffsets[r] + (q - t0) * rowWords;
        const bitsAt = (key: number) => rowWord(form.maskWords, offset, key - start);
        forEachBlockPiece(
          start,
          end,
          blockSize,
          (kb, k0, k1) => visitor.tokens(q, kb, k0, k1, bitsAt),
        );
      }
    }
  }
}

/** Ones in bits [0, n) of a word, n in 1..32. */
function lowBits(word: number, n: number): number {
  return popcount(n === 32 ? word : word & ((1 << n) - 1));
}

/**
 * The form's full and partial blocks at `blockSize` (see the module doc).
 *
 * @example
 * ```ts
 * import { blockLists } from "./block_lists.ts";
 * import { formFromPredicate } from "./mask_predicate.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * // Causal over 16 tokens in blocks of 8: block (0,0) and (1,1) partial, (1,0) full.
 * const lists = blockLists(formFromPredicate(16, 8, (q, k) => k <= q), 8);
 * deepEqual([...lists.fullCounts], [0, 1]);
 * deepEqual([...lists.partialCounts], [1, 1]);
 * deepEqual([...lists.partialIndices], [0, 1]);
 * equal(lists.partialBits[0], 0b1); // query 0 of block 0 attends key 0 only
 * equal(lists.attendedPairs, 16 * 17 / 2);
 * ```
 */
export function blockLists(form: ExecutionForm, blockSize: number): BlockLists {
  if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize % 8 !== 0) {
    throw new RangeError(`blockSize must be a multiple of 8, at least 8 (got ${blockSize})`);
  }
  const blocks = Math.ceil(form.tokens / blockSize);
  const counts = new Float64Array(blocks * blocks);
  const blockOf = (q: number, kb: number) => Math.floor(q / blockSize) * blocks + kb;
  walkForm(form, blockSize, {
    rows: (q0, q1, kb, k0, k1) => {
      counts[blockOf(q0, kb)] += (q1 - q0) * (k1 - k0);
    },
    tokens: (q, kb, k0, k1, bitsAt) => {
      let on = 0;
      for (let k = k0; k < k1; k += 32) on += lowBits(bitsAt(k), Math.min(32, k1 - k));
      counts[blockOf(q, kb)] += on;
    },
  });

  const full = blockSize * blockSize;
  const partialId = new Int32Array(blocks * blocks).fill(-1);
  const fullCounts = new Int32Array(blocks);
  const partialCounts = new Int32Array(blocks);
  let partials = 0;
  let attendedPairs = 0;
  for (let b = 0; b < counts.length; b++) {
    attendedPairs += counts[b];
    if (counts[b] === full) fullCounts[Math.floor(b / blocks)]++;
    else if (counts[b] > 0) {
      partialId[b] = partials++;
      partialCounts[Math.floor(b / blocks)]++;
    }
  }
  const fullWidth = Math.max(1, ...fullCounts);
  const partialWidth = Math.max(1, ...partialCounts);
  const fullIndices = new Int32Array(blocks * fullWidth);
  const partialIndices = new Int32Array(blocks * partialWidth);
  for (let qb = 0; qb < blocks; qb++) {
    let f = 0;
    let p = 0;
    for (let kb = 0; kb < blocks; kb++) {
      const c = counts[qb * blocks + kb];
      if (c === full) fullIndices[qb * fullWidth + f++] = kb;
      else if (c > 0) partialIndices[qb * partialWidth + p++] = kb;
    }
  }

  const rowBytes = blockSize / 8;
  const partialBits = new Uint8Array(partials * blockSize * rowBytes);
  const rowOffset = (q: number, kb: number) => {
    const id = partialId[blockOf(q, kb)];
    return id < 0 ? -1 : (id * blockSize + (q % blockSize)) * rowBytes;
  };
  walkForm(form, blockSize, {
    rows: (q0, q1, kb, k0, k1) => {
      if (partialId[blockOf(q0, kb)] < 0) return;
      const base = kb * blockSize;
      for (let q = q0; q < q1; q++) setBitRun(partialBits, rowOffset(q, kb), k0 - base, k1 - base);
    },
    tokens: (q, kb, k0, k1, bitsAt) => {
      const offset = rowOffset(q, kb);
      if (offset < 0) return;
      const base = kb * blockSize;
      for (let k = k0; k < k1; k += 32) {
        const n = Math.min(32, k1 - k);
        let word = n === 32 ? bitsAt(k) : bitsAt(k) & ((1 << n) - 1);
        while (word !== 0) {
          const key = k - base + 31 - Math.clz32(word & -word);
          partialBits[offset + (key >>> 3)] |= 1 << (key & 7);
          word &= word - 1;
        }
      }
    },
  });
  return {
    blockSize,
    blocks,
    fullCounts,
    fullIndices,
    fullWidth,
    partialCounts,
    partialIndices,
    partialWidth,
    partialBits,
    attendedPairs,
  };
}

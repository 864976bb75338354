/**
 * The execution form every method returns (docs/methods.md, "One execution form for all of them"):
 * an optional token permutation, then query tiles (contiguous ranges of the permuted sequence,
 * any length) each with a CSR list of key ranges [start, end). A range may carry a mask: a row
 * mask (which queries of the tile attend the whole range, as MoC's per-query choices need) or a
 * token mask (exact (query, key) bits, as partial blocks compiled from a predicate need).
 *
 * Keys may run in an order of their own (`keyPermutation`, SVG2's key clusters): key ranges are then
 * positions of that order, query tiles positions of `permutation`.
 *
 * The key ranges of one tile never overlap (a key is attended at most once per query).
 * Counted FLOPs, token sparsity and block sparsity are computed from this form and nowhere else.
 *
 * @module
 */

/** A range attended by every query of its tile. */
export const MASK_NONE = 0;
/** A range attended only by the tile's queries whose bit is set (one bit a tile row). */
export const MASK_ROWS = 1;
/** A range with one bit per (tile row, key): rows of ceil(rangeLength / 32) words. */
export const MASK_TOKENS = 2;

/** The execution form (see module doc). Coordinates are positions of the permuted sequence. */
export interface ExecutionForm {
  /** Sequence length L (self-attention: queries and keys alike). */
  tokens: number;
  /** `permutation[p]` is the original token at permuted position p; null = original order. */
  permutation: Uint32Array | null;
  /** Name of the token order (`"sta-tile-major"`, `"moga-group-sorted"`…), null = original. */
  permutationName: string | null;
  /**
   * `keyPermutation[p]` is the original token whose key and value sit at key position p; absent or
   * null = keys in the same order as the queries (`permutation`). Needs `permutation`.
   */
  keyPermutation?: Uint32Array | null;
  /** Block size used for block sparsity and `blockMask` (the method's own block). */
  blockSize: number;
  /** Ascending tile bounds from 0 to L: tile i is [tileBounds[i], tileBounds[i+1]). */
  tileBounds: Uint32Array;
  /** CSR offsets: tile i owns ranges rangeOffsets[i] … rangeOffsets[i+1]-1. */
  rangeOffsets: Uint32Array;
  /** First key of each range (a position of the key order). */
  rangeStarts: Uint32Array;
  /** One past the last key of each range. */
  rangeEnds: Uint32Array;
  /** Mask kind of each range: {@link MASK_NONE}, {@link MASK_ROWS} or {@link MASK_TOKENS}. */
  rangeMaskKinds: Uint8Array;
  /** Offset of each range's mask in `maskWords` (0 for MASK_NONE). */
  rangeMaskOffsets: Uint32Array;
  /** Mask bits, 32 a word, least significant bit first. */
  maskWords: Uint32Array;
  /** Per original token multiplier of the output (MoGA's gate), or null. */
  outputScale: Float32Array | null;
  /**
   * PV-skip threshold λ (SpargeAttn), in base-2 log units of the scaled scores
   * (s·log2(e)/√d); absent or null = never skip. While the kernel walks a row's key ranges in
   * steps of its own key block, a step whose largest score is below the row's running maximum
   * by more than λ adds nothing to the row (no exp, no row sum, no P·V); docs/methods.md
   * "The execution form".
   */
  pvSkipThreshold?: number | null;
  /**
   * The form's query block: tiles hold a multiple of this many rows, except short tiles at the
   * edges (VSA: a cube's 64 queries; partial cubes at the video's far edges, the last text
   * tile). A kernel whose row block divides it runs idle rows only in those short tiles; absent
   * or null = tiles of any length (the kernel then judges by the tiles themselves,
   * kernels/row_block.ts).
   */
  queryBlock?: number | null;
}

/** Builds a form tile by tile (the one builder every method and compiler uses). */
export class FormBuilder {
  readonly #tokens: number;
  readonly #blockSize: number;
  #tileBounds: number[] = [0];
  #rangeOffsets: number[] = [0];
  #starts: number[] = [];
  #ends: number[] = [];
  #kinds: number[] = [];
  #maskOffsets: number[] = [];
  #words: number[] = [];

  /**
   * Creates the instance.
   * @param tokens sequence length L
   * @param blockSize the method's reporting block size
   */
  constructor(tokens: number, blockSize: number) {
    if (!Number.isInteger(tokens) || tokens < 1) {
      throw new RangeError(`tokens must be ≥ 1 (got ${tokens})`);
    }
    this.#tokens = tokens;
    this.#blockSize = blockSize;
  }

  /** Start of the tile being built (end of the last one). */
  get tileStart(): number {
    return this.#tileBounds[this.#tileBounds.length - 1];
  }

  /** Adds a key range to the current tile; `mask` (row or token bits) restricts it. */
  range(start: number, end: number, mask?: { kind: 1 | 2; words: ArrayLike<number> }): this {
    if (!(start >= 0 && start < end && end <= this.#tokens)) {
      throw new RangeError(`key range [${start}, ${end}) must lie in [0, ${this.#tokens})`);
    }
    this.#starts.push(start);
    this.#ends.push(end);
    if (mask) {
      this.#kinds.push(mask.kind);
      this.#maskOffsets.push(this.#words.length);
      for (let i = 0; i < mask.words.length; i++) this.#words.push(mask.words[i] >>> 0);
    } else {
      this.#kinds.push(MASK_NONE);
      this.#maskOffsets.push(0);
    }
    return this;
  }

  /** Closes the current tile at `end` (its queries are [tileStart, end)). */
  endTile(end: number): this {
    if (!(end > this.tileStart && end <= this.#tokens)) {
      throw new RangeError(`tile end ${end} must lie in (${this.tileStart}, ${this.#tokens}]`);
    }
    this.#tileBounds.push(end);
    this.#rangeOffsets.push(this.#starts.length);
    return this;
  }

  /**
   * The finished form; every query must be in a tile. `keyPermutation` (with `permutation`) puts
   * the keys in an order of their own.
   */
  build(
    permutation: Uint32Array | null = null,
    permutationName: string | null = null,
    outputScale: Float32Array | null = null,
    keyPermutation: Uint32Array | null = null,
  ): ExecutionForm {
    if (this.tileStart !== this.#tokens) {
      throw new RangeError(`query tiles end at ${this.tileStart}, not at L = ${this.#tokens}`);
    }
    return {
      tokens: this.#tokens,
      permutation,
      permutationName: permutation ? permutationName ?? "custom" : null,
      ...(keyPermutation ? { keyPermutation } : {}),
      blockSize: this.#blockSize,
      tileBounds: Uint32Array.from(this.#tileBounds),
      rangeOffsets: Uint32Array.from(this.#rangeOffsets),
      rangeStarts: Uint32Array.from(this.#starts),
      rangeEnds: Uint32Array.from(this.#ends),
      rangeMaskKinds: Uint8Array.from(this.#kinds),
      rangeMaskOffsets: Uint32Array.from(this.#maskOffsets),
      maskWords: Uint32Array.from(this.#words),
      outputScale,
    };
  }
}

/** Full attention: one tile, one range. */
export function denseForm(tokens: number, blockSize = 128): ExecutionForm {
  return new FormBuilder(tokens, blockSize).range(0, tokens).endTile(tokens).build();
}

/**
 * Checks the form's invariants and throws a RangeError naming the first broken one: tiles
 * cover [0, L) in order, ranges lie in [0, L) and do not overlap within a tile, masks lie inside
 * `maskWords`, the permutation (and the key permutation, which needs one) is a permutation of
 * 0…L−1, the output scale has L entries and the PV-skip threshold, when set, is a finite number ≥ 0.
 */
export function validateForm(form: ExecutionForm): ExecutionForm {
  const L = form.tokens;
  const tiles = tileCount(form);
  if (form.tileBounds[0] !== 0 || form.tileBounds[tiles] !== L) {
    throw new RangeError(`form: query tiles must cover [0, ${L})`);
  }
  for (let t = 0; t < tiles; t++) {
    if (form.tileBounds[t + 1] <= form.tileBounds[t]) {
      throw new RangeError(`form: tile ${t} is empty or out of order`);
    }
    const rows = form.tileBounds[t + 1] - form.tileBounds[t];
    const order = [];
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      const [start, end] = [form.rangeStarts[r], form.rangeEnds[r]];
      if (!(start < end && end <= L)) {
        throw new RangeError(`form: range ${r} [${start}, ${end}) is out of [0, ${L})`);
      }
      const kind = form.rangeMaskKinds[r];
      const words = kind === MASK_ROWS
        ? Math.ceil(rows / 32)
        : kind === MASK_TOKENS
        ? rows * tokenMaskRowWords(end - start)
        : 0;
      if (form.rangeMaskOffsets[r] + words > form.maskWords.length) {
        throw new RangeError(`form: mask of range ${r} runs past maskWords`);
      }
      order.push([start, end]);
    }
    order.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < order.length; i++) {
      if (order[i][0] < order[i - 1][1]) {
        throw new RangeError(`form: key ranges of tile ${t} overlap at key ${order[i][0]}`);
      }
    }
  }
  if (form.permutation) checkPermutation("permutation", form.permutation, L);
  if (form.keyPermutation) {
    if (!form.permutation) {
      throw new RangeError("form: keyPermutation needs a permutation (the query order)");
    }
    checkPermutation("keyPermutation", form.keyPermutation, L);
  }
  if (form.outputScale && form.outputScale.length !== L) {
    throw new RangeError(`form: outputScale must have ${L} entries`);
  }
  const skip = form.pvSkipThreshold;
  if (skip !== undefined && skip !== null && !(Number.isFinite(skip) && skip >= 0)) {
    throw new RangeError(`form: pvSkipThreshold must be null or a finite number ≥ 0 (got ${skip})`);
  }
  const block = form.queryBlock;
  if (block !== undefined && block !== null && !(Number.isInteger(block) && block >= 1)) {
    throw new RangeError(`form: queryBlock must be null or an integer ≥ 1 (got ${block})`);
  }
  return form;
}

function checkPermutation(field: string, order: Uint32Array, L: number): void {
  if (order.length !== L) throw new RangeError(`form: ${field} must have ${L} entries`);
  const seen = new Uint8Array(L);
  for (const p of order) {
    if (p >= L || seen[p]) throw new RangeError(`form: ${field} is not a permutation (at ${p})`);
    seen[p] = 1;
  }
}

/** The order of the keys: `keyPermutation`, else `permutation` (null = original order). */
export function keyOrder(form: ExecutionForm): Uint32Array | null {
  return form.keyPermutation ?? form.permutation;
}

/** Number of tiles of a form. */
export function tileCount(form: ExecutionForm): number {
  return form.tileBounds.length - 1;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Words of one row of a token mask over a range of `rangeLength` keys. */
export function tokenMaskRowWords(rangeLength: number): number {
  return Math.ceil(rangeLength / 32);
}

/** Whether row `row` (index inside the tile) attends key `key` of range `r`. */
export function rangeAttends(form: ExecutionForm, r: number, row: number, key: number): boolean {
  const kind = form.rangeMaskKinds[r];
  if (kind === MASK_NONE) return true;
  const off = form.rangeMaskOffsets[r];
  if (kind === MASK_ROWS) return ((form.maskWords[off + (row >>> 5)] >>> (row & 31)) & 1) === 1;
  const rel = key - form.rangeStarts[r];
  const rowWords = tokenMaskRowWords(form.rangeEnds[r] - form.rangeStarts[r]);
  return ((form.maskWords[off + row * rowWords + (rel >>> 5)] >>> (rel & 31)) & 1) === 1;
}

/** (query, key) pairs the form attends, token-exact (masks applied, duplicates not merged). */
export function attendedPairs(form: ExecutionForm): number {
  let pairs = 0;
  for (let t = 0; t < tileCount(form); t++) {
    const rows = form.tileBounds[t + 1] - form.tileBounds[t];
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      const len = form.rangeEnds[r] - form.rangeStarts[r];
      const kind = form.rangeMaskKinds[r];
      if (kind === MASK_NONE) {
        pairs += rows * len;
        continue;
      }
      const off = form.rangeMaskOffsets[r];
      const words = kind === MASK_ROWS ? Math.ceil(rows / 32) : rows * tokenMaskRowWords(len);
      let bits = 0;
      for (let w = 0; w < words; w++) bits += popcount(form.maskWords[off + w]);
      pairs += kind === MASK_ROWS ? bits * len : bits;
    }
  }
  return pairs;
}

/** (query, key) pairs the kernel computes: every tile row against every key of its ranges. */
export function executedPairs(form: ExecutionForm): number {
  let pairs = 0;
  for (let t = 0; t < tileCount(form); t++) {
    const rows = form.tileBounds[t + 1] - form.tileBounds[t];
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      pairs += rows * (form.rangeEnds[r] - form.rangeStarts[r]);
    }
  }
  return pairs;
}

/**
 * (query, key) pairs a kernel with a row block of `rowBlock` rows executes: each tile runs in
 * blocks of `rowBlock` rows, every block against every key of the tile's ranges, and the last
 * block of a tile is padded with idle rows (a workgroup's rows walk one key list together).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { executedPairs, FormBuilder, tiledPairs } from "./form.ts";
 * // Two tiles of 64 queries, each attending its own 64 keys.
 * const form = new FormBuilder(128, 64).range(0, 64).endTile(64).range(64, 128).endTile(128).build();
 * equal(tiledPairs(form, 64), executedPairs(form));
 * equal(tiledPairs(form, 128), 2 * executedPairs(form)); // half of each 128-row block idles
 * ```
 */
export function tiledPairs(form: ExecutionForm, rowBlock: number): number {
  if (!(Number.isInteger(rowBlock) && rowBlock >= 1)) {
    throw new RangeError(`rowBlock must be an integer ≥ 1 (got ${rowBlock})`);
  }
  let pairs = 0;
  for (let t = 0; t < tileCount(form); t++) {
    const rows = form.tileBounds[t + 1] - form.tileBounds[t];
    let keys = 0;
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      keys += form.rangeEnds[r] - form.rangeStarts[r];
    }
    pairs += Math.ceil(rows / rowBlock) * rowBlock * keys;
  }
  return pairs;
}

/** Counted forward FLOPs of one head: 4·d·(attended pairs) (docs/metrics.md). */
export function countedFlops(form: ExecutionForm, headDim: number): number {
  return 4 * headDim * attendedPairs(form);
}

/** Token sparsity = 1 − attended pairs / L². */
export function tokenSparsity(form: ExecutionForm): number {
  return 1 - attendedPairs(form) / (form.tokens * form.tokens);
}

/** A square bit grid of query blocks × key blocks. */
export interface BlockGrid {
  /** Block size in tokens (the last block may be partial). */
  blockSize: number;
  /** Blocks a side, ceil(L / blockSize). */
  blocks: number;
  /** Row-major bits, 1 = the block holds at least one attended pair. */
  bits: Uint8Array;
}

/**
 * The blocks (over the permuted sequence, `blockSize` tokens a side) that hold at least one
 * attended pair: what a block-sparse kernel of that block size computes.
 */
export function blockGrid(form: ExecutionForm, blockSize = form.blockSize): BlockGrid {
  const blocks = Math.ceil(form.tokens / blockSize);
  const bits = new Uint8Array(blocks * blocks);
  for (let t = 0; t < tileCount(form); t++) {
    const t0 = form.tileBounds[t];
    const t1 = form.tileBounds[t + 1];
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      const k0 = form.rangeStarts[r];
      const k1 = form.rangeEnds[r];
      const kind = form.rangeMaskKinds[r];
      if (kind === MASK_NONE) {
        markBlocks(bits, blocks, blockSize, t0, t1, k0, k1);
        continue;
      }
      for (let q = t0; q < t1; q++) {
        if (kind === MASK_ROWS) {
          if (rangeAttends(form, r, q - t0, k0)) {
            markBlocks(bits, blocks, blockSize, q, q + 1, k0, k1);
          }
          continue;
        }
        for (let k = k0; k < k1; k++) {
          if (rangeAttends(form, r, q - t0, k)) {
            bits[Math.floor(q / blockSize) * blocks + Math.floor(k / blockSize)] = 1;
          }
        }
      }
    }
  }
  return { blockSize, blocks, bits };
}

function markBlocks(
  bits: Uint8Array,
  blocks: number,
  blockSize: number,
  q0: number,
  q1: number,
  k0: number,
  k1: number,
): void {
  const qb1 = Math.ceil(q1 / blockSize);
  const kb1 = Math.ceil(k1 / blockSize);
  for (let qb = Math.floor(q0 / blockSize); qb < qb1; qb++) {
    bits.fill(1, qb * blocks + Math.floor(k0 / blockSize), qb * blocks + kb1);
  }
}

/** Block sparsity = 1 − computed blocks / all blocks, at `blockSize`. */
export function blockSparsity(form: ExecutionForm, blockSize = form.blockSize): number {
  const grid = blockGrid(form, blockSize);
  let on = 0;
  for (const b of grid.bits) on += b;
  return 1 - on / grid.bits.length;
}

/** The block grid as strings of `1`/`0`, one per query block (docs/cli.md `blockMask`). */
export function blockMaskStrings(grid: BlockGrid): string[] {
  const rows: string[] = [];
  for (let q = 0; q < grid.blocks; q++) {
    rows.push(grid.bits.subarray(q * grid.blocks, (q + 1) * grid.blocks).join(""));
  }
  return rows;
}

/**
 * The attended (query, key) pairs as an L×L byte matrix in the ORIGINAL token order (small L
 * only: tests and the CPU reference).
 */
export function denseMask(form: ExecutionForm): Uint8Array {
  const L = form.tokens;
  if (L > 8192) throw new RangeError(`denseMask is for L ≤ 8192 (got ${L})`);
  const mask = new Uint8Array(L * L);
  const orig = (p: number) => form.permutation ? form.permutation[p] : p;
  const keys = keyOrder(form);
  const origKey = (p: number) => keys ? keys[p] : p;
  for (let t = 0; t < tileCount(form); t++) {
    const t0 = form.tileBounds[t];
    for (let q = t0; q < form.tileBounds[t + 1]; q++) {
      const row = orig(q) * L;
      for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
        for (let k = form.rangeStarts[r]; k < form.rangeEnds[r]; k++) {
          if (rangeAttends(form, r, q - t0, k)) mask[row + origKey(k)] = 1;
        }
      }
    }
  }
  return mask;
}

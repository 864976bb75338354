/**
 * Mask compilers: turn a mask into the execution form, the way FlexAttention turns a `mask_mod`
 * into a BlockMask (docs/methods.md, "One execution form for all of them").
 *
 * - {@link formFromSegments}: a sequence cut into segments (tiles) and a segment-level mask; each
 *   segment is a query tile, consecutive attended segments merge into one key range.
 * - {@link formFromBlockGrid}: the same over a square block grid of equal blocks.
 * - {@link formFromPredicate}: a token-level predicate; full blocks become plain ranges (consecutive
 *   ones merged), partial blocks carry exact token bits, empty blocks are skipped.
 *
 * @module
 */
import { type BlockGrid, type ExecutionForm, FormBuilder, tokenMaskRowWords } from "./form.ts";
import { type Scenario, textTokens, videoTokens } from "../scenarios/scenario.ts";

/** The token order a compiled form executes in (default: the original order). */
export interface FormOrder {
  /** `permutation[p]` is the original token at permuted position p. */
  permutation?: Uint32Array | null;
  /** Name of the order (`"sta-tile-major"`…). */
  permutationName?: string | null;
}

/** Options of {@link formFromSegments}. */
export interface SegmentFormOptions extends FormOrder {
  /** Block size the form reports block sparsity and `blockMask` at. */
  blockSize: number;
}

/**
 * A form whose query tiles are the segments `[bounds[i], bounds[i+1])` of the (permuted)
 * sequence; tile i attends segment j when `attends(i, j)`, and runs of consecutive attended
 * segments become one key range.
 *
 * @example
 * ```ts
 * import { formFromSegments } from "./mask_predicate.ts";
 * import { attendedPairs } from "./form.ts";
 * import { deepEqual } from "node:assert/strict";
 * // Two segments of 2 and 3 tokens, each attending only itself.
 * const form = formFromSegments([0, 2, 5], (q, k) => q === k, { blockSize: 2 });
 * deepEqual(attendedPairs(form), 2 * 2 + 3 * 3);
 * ```
 */
export function formFromSegments(
  bounds: ArrayLike<number>,
  attends: (querySegment: number, keySegment: number) => boolean,
  options: SegmentFormOptions,
): ExecutionForm {
  const segments = bounds.length - 1;
  if (segments < 1 || bounds[0] !== 0) {
    throw new RangeError(`segment bounds must start at 0 and hold at least 2 entries`);
  }
  const tokens = bounds[segments];
  const builder = new FormBuilder(tokens, options.blockSize);
  for (let q = 0; q < segments; q++) {
    let runStart = -1;
    for (let k = 0; k <= segments; k++) {
      const on = k < segments && attends(q, k);
      if (on && runStart < 0) runStart = k;
      if (!on && runStart >= 0) {
        builder.range(bounds[runStart], bounds[k]);
        runStart = -1;
      }
    }
    builder.endTile(bounds[q + 1]);
  }
  return builder.build(options.permutation ?? null, options.permutationName ?? null);
}

/** Segments of a scenario's joint sequence (see {@link jointSegments}). */
export interface JointSegments {
  /** Ascending bounds from 0 to L. */
  bounds: number[];
  /** Per segment: the index of its video segment, or -1 for a text chunk. */
  videoSegment: number[];
}

/**
 * Cuts a scenario's joint sequence into segments: the video cut at `videoEnds` (ascending ends
 * inside the video segment, the last one N), offset by a text prefix, and the text in chunks of
 * at most `textChunk` tokens before (prefix) or after (suffix) it.
 *
 * @example
 * ```ts
 * import { jointSegments } from "./mask_predicate.ts";
 * import { deepEqual } from "node:assert/strict";
 * const scenario = {
 *   name: "tiny", latent: [1, 2, 3] as [number, number, number],
 *   text: { tokens: 5, position: "prefix" as const }, shots: [1], textSegments: [5],
 *   heads: 1, headDim: 64, modelType: "hunyuan" as const,
 * };
 * deepEqual(jointSegments(scenario, [4, 6], 4).bounds, [0, 4, 5, 9, 11]);
 * ```
 */
export function jointSegments(
  scenario: Scenario,
  videoEnds: ArrayLike<number>,
  textChunk: number,
): JointSegments {
  const video = videoTokens(scenario);
  const text = textTokens(scenario);
  if (videoEnds[videoEnds.length - 1] !== video) {
    throw new RangeError(`video segments end at ${videoEnds[videoEnds.length - 1]}, not ${video}`);
  }
  const prefix = scenario.text.position === "prefix";
  const segments: JointSegments = { bounds: [0], videoSegment: [] };
  const push = (end: number, segment: number) => {
    segments.bounds.push(end);
    segments.videoSegment.push(segment);
  };
  const pushText = (start: number) => {
    for (let end = start + textChunk; end < start + text; end += textChunk) push(end, -1);
    if (text > 0) push(start + text, -1);
  };
  if (prefix) pushText(0);
  const offset = prefix ? text : 0;
  for (let i = 0; i < videoEnds.length; i++) push(offset + videoEnds[i], i);
  if (!prefix) pushText(video);
  return segments;
}

/** Bounds 0, size, 2·size, …, tokens (the last segment may be shorter). */
export function uniformBounds(tokens: number, size: number): Uint32Array {
  const count = Math.ceil(tokens / size);
  const bounds = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) bounds[i] = i * size;
  bounds[count] = tokens;
  return bounds;
}

/**
 * A form for a block grid over `tokens` tokens in the original order: one query tile per block
 * row, consecutive on-blocks merged into one key range.
 *
 * @example
 * ```ts
 * import { formFromBlockGrid } from "./mask_predicate.ts";
 * import { blockGrid } from "./form.ts";
 * import { deepEqual } from "node:assert/strict";
 * const grid = { blockSize: 4, blocks: 2, bits: Uint8Array.from([1, 0, 1, 1]) };
 * deepEqual(blockGrid(formFromBlockGrid(grid, 7)).bits, grid.bits);
 * ```
 */
export function formFromBlockGrid(grid: BlockGrid, tokens: number): ExecutionForm {
  const blocks = Math.ceil(tokens / grid.blockSize);
  if (blocks !== grid.blocks) {
    throw new RangeError(
      `block grid has ${grid.blocks} blocks a side; ${tokens} tokens in blocks of ` +
        `${grid.blockSize} need ${blocks}`,
    );
  }
  return formFromSegments(
    uniformBounds(tokens, grid.blockSize),
    (q, k) => grid.bits[q * blocks + k] === 1,
    { blockSize: grid.blockSize },
  );
}

/** A mask predicate over ORIGINAL token indices: true when query q attends key k. */
export type MaskPredicate = (q: number, k: number) => boolean;

/**
 * Compiles a token-level predicate to a form over blocks of `blockSize` (of the permuted
 * sequence when `options.permutation` is given; the predicate still sees original indices).
 * Evaluates the predicate L² times: meant for sequences up to a few tens of thousands of tokens.
 *
 * @example
 * ```ts
 * import { formFromPredicate } from "./mask_predicate.ts";
 * import { attendedPairs } from "./form.ts";
 * import { deepEqual } from "node:assert/strict";
 * const causal = formFromPredicate(10, 4, (q, k) => k <= q);
 * deepEqual(attendedPairs(causal), 55);
 * ```
 */
export function formFromPredicate(
  tokens: number,
  blockSize: number,
  predicate: MaskPredicate,
  options: FormOrder = {},
): ExecutionForm {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new RangeError(`blockSize must be an integer ≥ 1 (got ${blockSize})`);
  }
  const permutation = options.permutation ?? null;
  if (permutation && permutation.length !== tokens) {
    throw new RangeError(`permutation has ${permutation.length} entries, not ${tokens}`);
  }
  const original = (p: number) => permutation ? permutation[p] : p;
  const builder = new FormBuilder(tokens, blockSize);
  const blocks = Math.ceil(tokens / blockSize);
  const words = new Uint32Array(blockSize * tokenMaskRowWords(blockSize));
  for (let qb = 0; qb < blocks; qb++) {
    const q0 = qb * blockSize;
    const q1 = Math.min(tokens, q0 + blockSize);
    let fullRunStart = -1;
    const closeFullRun = (end: number) => {
      if (fullRunStart >= 0) builder.range(fullRunStart, end);
      fullRunStart = -1;
    };
    for (let kb = 0; kb < blocks; kb++) {
      const k0 = kb * blockSize;
      const k1 = Math.min(tokens, k0 + blockSize);
      const rowWords = tokenMaskRowWords(k1 - k0);
      const used = (q1 - q0) * rowWords;
      words.fill(0, 0, used);
      let on = 0;
      for (let q = q0; q < q1; q++) {
        const oq = original(q);
        const rowOffset = (q - q0) * rowWords;
        for (let k = k0; k < k1; k++) {
          if (!predicate(oq, original(k))) continue;
          const rel = k - k0;
          words[rowOffset + (rel >>> 5)] |= 1 << (rel & 31);
          on++;
        }
      }
      if (on === (q1 - q0) * (k1 - k0)) {
        if (fullRunStart < 0) fullRunStart = k0;
        continue;
      }
      closeFullRun(k0);
      if (on > 0) builder.range(k0, k1, { kind: 2, words: words.subarray(0, used) });
    }
    closeFullRun(tokens);
    builder.endTile(q1);
  }
  return builder.build(permutation, options.permutationName ?? null);
}

/**
 * MoC's key-chunk-major execution (docs/methods.md, "Mixture of Contexts"; the paper's scheme):
 * every query's attention is cut into disjoint parts, each run as a branch and merged by
 * log-sum-exp (methods/method.ts `merge: "lse"`), so no query tile runs keys that none of its
 * queries attends:
 *
 * - the anchor branch ({@link mocAnchorForm}), the same for every head: the text rows attend
 *   everything; the video queries that share one anchor (a chunk, or with `intraShot` a whole
 *   shot) form one query span whose tiles attend all text and that anchor;
 * - one choice branch per top-k slot s ({@link mocChoiceForm}): the video queries ordered by
 *   their s-th chosen chunk (stable), so the queries that chose chunk c in slot s are adjacent,
 *   and their tiles attend chunk c alone, with no mask. Keys keep their own order
 *   (`keyPermutation` is the identity). Text rows and queries with an empty slot attend nothing
 *   here (one empty tile each side).
 *
 * Tiles hold at most {@link MOC_TILE_ROWS} rows and never mix two chunks' queries, so the only
 * work beyond the attended pairs is the idle rows of each group's last tile.
 *
 * @module
 */
import { type ExecutionForm, FormBuilder } from "../form/form.ts";
import {
  type MocChunks,
  type MocSelection,
  mocVideoChunks,
  mocVideoTokens,
  NO_CHUNK,
} from "../kernels/moc_chunks.ts";
import { MOC_TILE_ROWS } from "./moc_form.ts";

/** Name of the query order of MoC's choice branches. */
export const MOC_CHOICE_PERMUTATION = "moc-slot-chunk-major";

/** Tiles of at most {@link MOC_TILE_ROWS} rows over [start, end), each with `ranges`' key ranges. */
function tiles(
  builder: FormBuilder,
  [start, end]: [number, number],
  ranges: readonly [number, number][],
): void {
  for (let t = start; t < end; t += MOC_TILE_ROWS) {
    for (const [from, to] of ranges) builder.range(from, to);
    builder.endTile(Math.min(end, t + MOC_TILE_ROWS));
  }
}

/**
 * The anchor branch: text rows attend every key; each run of video chunks with one anchor is a
 * query span whose tiles attend the text and the anchor (keys in ascending order).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { attendedPairs } from "../form/form.ts";
 * import { mocChunks } from "../kernels/moc_chunks.ts";
 * import { mocAnchorForm } from "./moc_chunk_major_form.ts";
 * // Two shots of two 6-token frames, no text; each query's anchor is its own shot (12 tokens).
 * const chunks = mocChunks({
 *   name: "two-shots", latent: [4, 2, 3], text: { tokens: 0, position: "none" }, shots: [2, 2], textSegments: [0, 0],
 *   heads: 1, headDim: 64, modelType: "wan",
 * }, { intraShot: true, causal: true, chunking: "frame" });
 * equal(attendedPairs(mocAnchorForm(chunks, { blockSize: 16 })), 24 * 12);
 * ```
 */
export function mocAnchorForm(chunks: MocChunks, options: { blockSize: number }): ExecutionForm {
  const L = chunks.tokens;
  const v0 = chunks.videoStart;
  const builder = new FormBuilder(L, options.blockSize);
  const text = chunks.textRange;
  const textFirst = text !== null && text[0] < v0;
  if (text && textFirst) tiles(builder, text, [[0, L]]);
  const C = mocVideoChunks(chunks);
  const { anchorFirst, anchorEnd, chunkStart } = chunks;
  for (let c = 0; c < C;) {
    let end = c + 1;
    while (end < C && anchorFirst[end] === anchorFirst[c] && anchorEnd[end] === anchorEnd[c]) end++;
    const anchor: [number, number] = [
      v0 + chunkStart[anchorFirst[c]],
      v0 + chunkStart[anchorEnd[c]],
    ];
    const ranges = text === null ? [anchor] : textFirst ? [text, anchor] : [anchor, text];
    tiles(builder, [v0 + chunkStart[c], v0 + chunkStart[end]], ranges);
    c = end;
  }
  if (text && !textFirst) tiles(builder, text, [[0, L]]);
  return builder.build();
}

/**
 * The choice branch of top-k slot `slot` for one head's selection (a slot at or past the
 * selection's k is empty for every query): the video queries in order of their chunk in that
 * slot, empty slots last, each chunk's queries in tiles that attend that chunk only.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { attendedPairs } from "../form/form.ts";
 * import { mocChunks, NO_CHUNK } from "../kernels/moc_chunks.ts";
 * import { mocChoiceForm } from "./moc_chunk_major_form.ts";
 * // Three 6-token frames, causal, frame chunks: frame 0 has no candidate, frames 1 and 2 chose
 * // frame 0 in slot 0; frame 2 chose frame 1 in slot 1.
 * const chunks = mocChunks({
 *   name: "three-frames", latent: [3, 2, 3], text: { tokens: 0, position: "none" }, shots: [3], textSegments: [0],
 *   heads: 1, headDim: 64, modelType: "wan",
 * }, { intraShot: false, causal: true, chunking: "frame" });
 * const chosen = new Uint32Array(18 * 2).fill(NO_CHUNK);
 * for (let q = 6; q < 18; q++) chosen[2 * q] = 0;
 * for (let q = 12; q < 18; q++) chosen[2 * q + 1] = 1;
 * const selection = { k: 2, chosen };
 * equal(attendedPairs(mocChoiceForm(chunks, { selection, slot: 0, blockSize: 16 })), 12 * 6);
 * equal(attendedPairs(mocChoiceForm(chunks, { selection, slot: 1, blockSize: 16 })), 6 * 6);
 * equal(attendedPairs(mocChoiceForm(chunks, { selection, slot: 2, blockSize: 16 })), 0);
 * ```
 */
export function mocChoiceForm(
  chunks: MocChunks,
  options: { selection: MocSelection; slot: number; blockSize: number },
): ExecutionForm {
  const { selection, slot, blockSize } = options;
  const { k, chosen } = selection;
  const L = chunks.tokens;
  const v0 = chunks.videoStart;
  const N = mocVideoTokens(chunks);
  const C = mocVideoChunks(chunks);
  // Counting sort of the video queries by their chunk in `slot` (bucket C: empty), stable.
  const bucketOf = (q: number) => {
    const c = slot < k ? chosen[q * k + slot] : NO_CHUNK;
    return c === NO_CHUNK ? C : c;
  };
  const starts = new Uint32Array(C + 2);
  for (let q = 0; q < N; q++) starts[bucketOf(q) + 1]++;
  for (let c = 0; c <= C; c++) starts[c + 1] += starts[c];
  const order = new Uint32Array(N);
  const next = starts.slice(0, C + 1);
  for (let q = 0; q < N; q++) order[next[bucketOf(q)]++] = q;
  const permutation = Uint32Array.from({ length: L }, (_, i) => i);
  permutation.set(order.map((q) => v0 + q), v0);
  const builder = new FormBuilder(L, blockSize);
  const text = chunks.textRange;
  const textFirst = text !== null && text[0] < v0;
  if (text && textFirst) builder.endTile(text[1]);
  for (let c = 0; c < C; c++) {
    const chunk: [number, number] = [v0 + chunks.chunkStart[c], v0 + chunks.chunkStart[c + 1]];
    tiles(builder, [v0 + starts[c], v0 + starts[c + 1]], [chunk]);
  }
  if (starts[C + 1] > starts[C]) builder.endTile(v0 + N);
  if (text && !textFirst) builder.endTile(L);
  const keyOrder = Uint32Array.from({ length: L }, (_, i) => i);
  return builder.build(permutation, MOC_CHOICE_PERMUTATION, null, keyOrder);
}

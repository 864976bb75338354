/**
 * MoC's execution form (docs/methods.md, "Mixture of Contexts"): query tiles are the queries of one
 * video chunk, at most {@link MOC_TILE_ROWS} a tile; a tile's key ranges are its anchors (all
 * text, its own shot or own chunk) and, for every chunk chosen by ANY query of the tile, one range
 * whose row mask marks the queries that chose it (adjacent chunks with the same row mask merge
 * into one range; a chunk chosen by every row needs no mask). The kernel thus runs the union of
 * the tile's choices and masks per query: executed pairs ≥ attended pairs, and the gap is
 * reported. Text queries attend densely.
 *
 * To keep that union small, the queries of each chunk are reordered by their choices (the sorted
 * chunk list, stable in token order) — permutation `moc-choice-sorted`: queries that chose the
 * same chunks share tiles. The reordering stays inside each chunk, so every key range (whole
 * chunks, shots, the text) is the same set of keys in either order.
 *
 * @module
 */
import { type ExecutionForm, FormBuilder, MASK_ROWS } from "../form/form.ts";
import {
  isMocCandidate,
  type MocChunks,
  type MocSelection,
  mocVideoChunks,
  mocVideoTokens,
  NO_CHUNK,
} from "../kernels/moc_chunks.ts";

/** Largest query tile (rows) of MoC's form. */
export const MOC_TILE_ROWS = 128;

/** Words of a tile's row mask. */
const ROW_WORDS = Math.ceil(MOC_TILE_ROWS / 32);

/** Splits [start, end) into query tiles of at most {@link MOC_TILE_ROWS} rows attending [0, L). */
function denseTiles(builder: FormBuilder, start: number, end: number, tokens: number): void {
  for (let t = start; t < end; t += MOC_TILE_ROWS) {
    builder.range(0, tokens).endTile(Math.min(end, t + MOC_TILE_ROWS));
  }
}

/** Name of the token order of MoC's form. */
export const MOC_PERMUTATION = "moc-choice-sorted";

/** Row masks of one tile: bit `row` of chunk c is set when the tile's query `row` chose c. */
function tileChunkMasks(
  chunks: MocChunks,
  tile: { selection: MocSelection; own: number; queries: Uint32Array },
  masks: Uint32Array,
): void {
  const { k, chosen } = tile.selection;
  masks.fill(0);
  tile.queries.forEach((query, row) => {
    for (const c of chosen.subarray(query * k, (query + 1) * k)) {
      if (c === NO_CHUNK) break;
      if (!isMocCandidate(chunks, tile.own, c)) {
        throw new RangeError(`moc: video query ${query} chose chunk ${c}, not a candidate`);
      }
      masks[c * ROW_WORDS + (row >>> 5)] |= 1 << (row & 31);
    }
  });
}

/** The video queries [first, end) ordered by their chosen chunks (sorted lists), then by index. */
function choiceOrder(selection: MocSelection, first: number, end: number): Uint32Array {
  const { k, chosen } = selection;
  const keys = Array.from({ length: end - first }, (_, i) => {
    const query = first + i;
    return {
      query,
      choice: Array.from(chosen.subarray(query * k, (query + 1) * k)).sort((a, b) => a - b),
    };
  });
  keys.sort((a, b) => {
    for (let s = 0; s < k; s++) if (a.choice[s] !== b.choice[s]) return a.choice[s] - b.choice[s];
    return a.query - b.query;
  });
  return Uint32Array.from(keys, (key) => key.query);
}

/**
 * One range per run of adjacent chosen chunks in [from, to) with equal row masks (no mask when
 * all rows chose them).
 */
function addChosenRanges(
  builder: FormBuilder,
  chunks: MocChunks,
  tile: { rows: number; from: number; to: number; masks: Uint32Array },
): void {
  const words = Math.ceil(tile.rows / 32);
  const maskOf = (c: number) => tile.masks.subarray(c * ROW_WORDS, c * ROW_WORDS + words);
  const fullLast = tile.rows % 32 === 0 ? 0xffffffff : (2 ** (tile.rows % 32) - 1) >>> 0;
  let c = tile.from;
  while (c < tile.to) {
    const bits = maskOf(c);
    if (bits.every((w) => w === 0)) {
      c++;
      continue;
    }
    let end = c + 1;
    while (end < tile.to && maskOf(end).every((w, i) => w === bits[i])) end++;
    const full = bits.every((w, i) => w === (i === words - 1 ? fullLast : 0xffffffff));
    const start = chunks.videoStart + chunks.chunkStart[c];
    const stop = chunks.videoStart + chunks.chunkStart[end];
    if (full) builder.range(start, stop);
    else builder.range(start, stop, { kind: MASK_ROWS, words: Array.from(bits) });
    c = end;
  }
}

/** The form of one head's selection; `blockSize` is the reporting block. */
export function mocForm(
  chunks: MocChunks,
  options: { selection: MocSelection; blockSize: number },
): ExecutionForm {
  const { selection, blockSize } = options;
  const L = chunks.tokens;
  const v0 = chunks.videoStart;
  const videoQueries = mocVideoTokens(chunks);
  if (selection.chosen.length !== videoQueries * selection.k) {
    throw new RangeError(
      `moc: selection holds ${selection.chosen.length} slots, expected ${videoQueries}·${selection.k}`,
    );
  }
  const builder = new FormBuilder(L, blockSize);
  const permutation = Uint32Array.from({ length: L }, (_, i) => i);
  const text = chunks.textRange;
  const textFirst = text !== null && text[0] < v0;
  if (textFirst) denseTiles(builder, text[0], text[1], L);
  const C = mocVideoChunks(chunks);
  const masks = new Uint32Array(C * ROW_WORDS);
  for (let c = 0; c < C; c++) {
    const [first, end] = [chunks.chunkStart[c], chunks.chunkStart[c + 1]];
    const order = choiceOrder(selection, first, end);
    permutation.set(order.map((query) => v0 + query), v0 + first);
    const anchor = [chunks.anchorFirst[c], chunks.anchorEnd[c]];
    for (let q0 = first; q0 < end; q0 += MOC_TILE_ROWS) {
      const rows = Math.min(end, q0 + MOC_TILE_ROWS) - q0;
      const queries = order.subarray(q0 - first, q0 - first + rows);
      tileChunkMasks(chunks, { selection, own: c, queries }, masks);
      // Ranges run in ascending key order: prefix text, chosen chunks before the anchor, the
      // anchor, chosen chunks after it (non-causal routing), suffix text.
      if (text && textFirst) builder.range(text[0], text[1]);
      addChosenRanges(builder, chunks, { rows, from: 0, to: anchor[0], masks });
      builder.range(v0 + chunks.chunkStart[anchor[0]], v0 + chunks.chunkStart[anchor[1]]);
      addChosenRanges(builder, chunks, { rows, from: anchor[1], to: C, masks });
      if (text && !textFirst) builder.range(text[0], text[1]);
      builder.endTile(v0 + q0 + rows);
    }
  }
  if (text && !textFirst) denseTiles(builder, text[0], text[1], L);
  return builder.build(permutation, MOC_PERMUTATION);
}

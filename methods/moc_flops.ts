/**
 * MoC's FLOPs figures (docs/metrics.md): the routing work the kernels do, the attended pairs of a
 * selection, and the paper's analytic formula L·d + 2·L·C·d + 4·L·k·m̄·d (C chunks, k selected,
 * m̄ the mean length of a selected chunk).
 *
 * @module
 */
import type { Scenario } from "../scenarios/scenario.ts";
import {
  mocCandidateCount,
  mocChunkLength,
  type MocChunks,
  type MocSelection,
  mocTextTokens,
  mocVideoChunks,
  mocVideoTokens,
  NO_CHUNK,
} from "../kernels/moc_chunks.ts";

/** A FLOPs figure of the MoC paper (one head, one layer, d = 128) and the setting that runs it. */
export interface MocPaperFigure {
  /** Our preset of the paper's video (scenarios/presets.ts). */
  preset: string;
  /** Where the paper gives it. */
  source: string;
  /** Dense attention FLOPs the paper reports. */
  denseFlops: number;
  /** MoC FLOPs the paper reports. */
  mocFlops: number;
  /** The `--methods` spec Longshot runs for the row. */
  spec: string;
  /** `paper`: the paper's own k and chunking; `fit`: a k chosen here to meet `mocFlops`. */
  kind: "paper" | "fit";
  /** What the setting assumes where the paper is silent. */
  assumption: string;
}

const SINGLE_SHOT = {
  preset: "moc-single-shot",
  source: "MoC (arXiv 2508.21058) Table 1, 8 s single shot at 320×192",
  denseFlops: 1.9e10,
  mocFlops: 4.1e9,
};

const MULTI_SHOT = {
  preset: "moc-multi-shot",
  source: "MoC (arXiv 2508.21058) Table 2, 8 shots, 64 s at 480p",
  denseFlops: 1.66e13,
  mocFlops: 2.32e12,
};

/**
 * The paper's FLOPs rows, each with the paper's own setting and with the older fitted k, checked
 * by methods/moc_test.ts.
 */
export const MOC_PAPER_FIGURES: readonly MocPaperFigure[] = [
  {
    ...SINGLE_SHOT,
    spec: "moc:chunk=256;k=3;causal=false",
    kind: "paper",
    assumption: "the paper's single-shot setting (appendix: 256-token chunks, k = 3, no causal " +
      "routing); the own chunk is the local anchor (the own shot would be the whole video); " +
      "prompt length 92 from the dense figure",
  },
  {
    ...SINGLE_SHOT,
    spec: "moc:k=4",
    kind: "fit",
    assumption: "fit: frame chunks with causal routing, k = 4 chosen here to meet 4.1e9",
  },
  {
    ...MULTI_SHOT,
    spec: "moc:chunk=1280;k=5",
    kind: "paper",
    assumption: "the paper's multi-shot setting at the end of its schedule (appendix: k = 5, " +
      "chunks shrinking 10240 → 5120 → 2560 → 1280 during training, causal routing, own shot " +
      "anchored); frame size, frames per shot and prompt length are not given: the preset's",
  },
  {
    ...MULTI_SHOT,
    spec: "moc:k=2",
    kind: "fit",
    assumption: "fit: frame chunks, k = 2 and the preset's 64-token prompts chosen here to " +
      "meet 2.32e12",
  },
];

/** (query, candidate chunk) pairs the scoring kernel visits: Σ over video queries of candidates. */
export function mocCandidatePairs(chunks: MocChunks): number {
  let pairs = 0;
  for (let c = 0; c < mocVideoChunks(chunks); c++) {
    pairs += mocChunkLength(chunks, c) * mocCandidateCount(chunks, c);
  }
  return pairs;
}

/**
 * Routing FLOPs of one head: pooling (one add per video key element, one division per
 * descriptor element), scoring (2·d per (query, candidate)), and top-k compares counted at their
 * worst case, k per (query, candidate). Text chunks get no descriptor: text is always attended.
 */
export function mocRoutingFlops(
  chunks: MocChunks,
  options: { k: number; headDim: number },
): number {
  const { k, headDim: d } = options;
  const pooling = mocVideoTokens(chunks) * d + mocVideoChunks(chunks) * d;
  const candidates = mocCandidatePairs(chunks);
  return pooling + 2 * d * candidates + k * candidates;
}

/**
 * Attended (query, key) pairs of one head's selection, counted from the chunk structure: a video
 * query attends all text, its anchor and the tokens of its chosen chunks (the sets are disjoint
 * by construction); text queries attend all L keys.
 *
 * @example
 * ```ts
 * import { mocChunks } from "../kernels/moc_chunks.ts";
 * import { mocAttendedPairs } from "./moc_flops.ts";
 * import { deepEqual } from "node:assert/strict";
 * const chunks = mocChunks({
 *   name: "tiny", latent: [3, 1, 2], text: { tokens: 1, position: "suffix" },
 *   shots: [3], textSegments: [1], heads: 1, headDim: 64, modelType: "hunyuan",
 * }, { intraShot: false, causal: true, chunking: "frame" });
 * const none = 0xffffffff;
 * // Frames 1 and 2 chose frame 0; frame 2 also chose frame 1.
 * const selection = { k: 2, chosen: Uint32Array.from([none, none, none, none, 0, none, 0, none,
 *   0, 1, 1, 0]) };
 * // Video: 6 queries × (1 text + 2 own frame) + 2·2 + 2·4; text: 1 × 7.
 * deepEqual(mocAttendedPairs(chunks, selection), 18 + 4 + 8 + 7);
 * ```
 */
export function mocAttendedPairs(chunks: MocChunks, selection: MocSelection): number {
  const text = mocTextTokens(chunks);
  const { k, chosen } = selection;
  let pairs = text * chunks.tokens;
  let query = 0;
  for (let c = 0; c < mocVideoChunks(chunks); c++) {
    const anchor = chunks.chunkStart[chunks.anchorEnd[c]] -
      chunks.chunkStart[chunks.anchorFirst[c]];
    for (; query < chunks.chunkStart[c + 1]; query++) {
      pairs += text + anchor;
      for (const picked of chosen.subarray(query * k, (query + 1) * k)) {
        if (picked !== NO_CHUNK) pairs += mocChunkLength(chunks, picked);
      }
    }
  }
  return pairs;
}

/**
 * The MoC paper's FLOPs formula for all heads, L·d + 2·L·C·d + 4·L·k·m̄·d per head: C = video
 * chunks + text chunks, and m̄, which the paper defines as the mean length of a selected chunk,
 * taken as the mean video chunk length N / C_video (the assumption: a selected chunk is an
 * average one). The formula counts k selected chunks for every query and no anchors.
 */
export function mocAnalyticFlops(
  scenario: Scenario,
  options: { chunks: MocChunks; k: number },
): number {
  const { chunks, k } = options;
  const L = chunks.tokens;
  const d = scenario.headDim;
  const C = mocVideoChunks(chunks) + chunks.textChunks;
  const meanSelected = mocVideoTokens(chunks) / mocVideoChunks(chunks);
  return scenario.heads * (L * d + 2 * L * C * d + 4 * L * k * meanSelected * d);
}

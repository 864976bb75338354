/**
 * MoC's FLOPs figures (docs/metrics.md): the routing work the kernels do, the attended pairs that
 * follow from the chunk structure alone, and the paper's analytic formula
 * L·d + 2·L·C·d + 4·L·k·m̄·d (C chunks, k selected, m̄ mean chunk length).
 *
 * @module
 */
import type { Scenario } from "../scenarios/scenario.ts";
import { type MocChunks, mocTextTokens, mocVideoTokens } from "../kernels/moc_chunks.ts";

/** A figure of the MoC paper (one head, one layer, d = 128) and the k that reproduces it. */
export interface MocPaperFigure {
  /** Our preset of the paper's setting (scenarios/presets.ts). */
  preset: string;
  /** Where the paper gives it. */
  source: string;
  /** Dense attention FLOPs the paper reports. */
  denseFlops: number;
  /** MoC FLOPs the paper reports. */
  mocFlops: number;
  /** The k (1…16) whose counted FLOPs on the preset come closest to `mocFlops`. */
  k: number;
}

/**
 * The paper's figures and the preset-specific k that reproduces each (checked by
 * methods/moc_test.ts): use `moc:k=4` on moc-single-shot and `moc:k=2` on moc-multi-shot.
 */
export const MOC_PAPER_FIGURES: readonly MocPaperFigure[] = [
  {
    preset: "moc-single-shot",
    source: "MoC (arXiv 2508.21058) Table 1, 8 s single shot at 320×192",
    denseFlops: 1.9e10,
    mocFlops: 4.1e9,
    k: 4,
  },
  {
    preset: "moc-multi-shot",
    source: "MoC (arXiv 2508.21058) Table 2, 8 shots, 64 s at 480p",
    denseFlops: 1.66e13,
    mocFlops: 2.32e12,
    k: 2,
  },
];

/** (query, candidate chunk) pairs the scoring kernel visits: Σ over video queries of c_f. */
export function mocCandidatePairs(chunks: MocChunks): number {
  let pairs = 0;
  for (let f = 0; f < chunks.frames; f++) pairs += chunks.candidateEnd[f];
  return pairs * chunks.tokensPerFrame;
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
  const pooling = mocVideoTokens(chunks) * d + chunks.frames * d;
  const candidates = mocCandidatePairs(chunks);
  return pooling + 2 * d * candidates + k * candidates;
}

/**
 * Attended (query, key) pairs of one head, from the structure alone: a video query of frame f
 * attends all text, its anchor and min(k, c_f) chunks of P tokens (the sets are disjoint by
 * construction); text queries attend all L keys. Equals `attendedPairs(mocForm(…))` for any
 * selection that fills min(k, c_f) slots, which every top-k does.
 *
 * @example
 * ```ts
 * import { mocChunks } from "../kernels/moc_chunks.ts";
 * import { mocAttendedPairs } from "./moc_flops.ts";
 * import { deepEqual } from "node:assert/strict";
 * const chunks = mocChunks({
 *   name: "tiny", latent: [3, 1, 2], text: { tokens: 1, position: "suffix" },
 *   shots: [3], textSegments: [1], heads: 1, headDim: 64, modelType: "hunyuan",
 * }, { intraShot: false });
 * // Video: 6 queries × (1 text + 2 own frame) + 2·(1·2) + 2·(2·2); text: 1 × 7.
 * deepEqual(mocAttendedPairs(chunks, { k: 4 }), 18 + 4 + 8 + 7);
 * ```
 */
export function mocAttendedPairs(chunks: MocChunks, options: { k: number }): number {
  const P = chunks.tokensPerFrame;
  const text = mocTextTokens(chunks);
  let pairs = text * chunks.tokens;
  for (let f = 0; f < chunks.frames; f++) {
    const anchor = chunks.anchorEnd[f] - chunks.anchorStart[f];
    pairs += P * (text + anchor + Math.min(options.k, chunks.candidateEnd[f]) * P);
  }
  return pairs;
}

/**
 * The MoC paper's FLOPs formula for all heads, L·d + 2·L·C·d + 4·L·k·m̄·d per head, with C = video
 * chunks + text chunks and m̄ = L / C.
 */
export function mocAnalyticFlops(
  scenario: Scenario,
  options: { chunks: MocChunks; k: number },
): number {
  const { chunks, k } = options;
  const L = chunks.tokens;
  const d = scenario.headDim;
  const C = chunks.frames + chunks.textChunks;
  const meanChunk = L / C;
  return scenario.heads * (L * d + 2 * L * C * d + 4 * L * k * meanChunk * d);
}

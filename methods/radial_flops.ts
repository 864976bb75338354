/**
 * Radial Attention's analytic FLOPs as the paper counts them (arXiv 2506.19852, §4.2 "Complexity
 * analysis" and Appendix A.1): the cost is proportional to the number of attended entries of the
 * ideal token-level mask M̃ of Eq. 4, with the attention sink of Eq. 8 (every frame attends all of
 * frame 0). The count here is exact for f frames of s tokens, not the paper's upper bound; it has
 * no block rounding and no decay factor (both belong to the official code, not to Eq. 4).
 *
 * @module
 */
import { type Scenario, tokensPerFrame, totalTokens, videoTokens } from "../scenarios/scenario.ts";

/** Inputs of {@link radialPaperPairs}: the video's shape as the paper writes it. */
export interface RadialPaperShape {
  /** Latent frames f. */
  frames: number;
  /** Tokens per frame s. */
  tokensPerFrame: number;
}

/**
 * Attended (query, key) entries of one frame pair at frame distance `dist` under Eq. 4, with
 * r = ⌊log2 max(dist, 1)⌋: the band |k − l| + 1 ≤ s / 2^r while 2^r ≤ s, else the diagonal
 * (k = l) on every ⌈2^r / s⌉-th distance only.
 */
function pairEntries(dist: number, s: number): number {
  const spacing = 2 ** (31 - Math.clz32(Math.max(dist, 1)));
  if (spacing <= s) {
    // |k − l| ≤ w with w = ⌊s / 2^r⌋ − 1: s entries on the diagonal, 2·(s − t) at offset t.
    const w = Math.floor(s / spacing) - 1;
    return (2 * w + 1) * s - w * (w + 1);
  }
  return dist % Math.ceil(spacing / s) === 0 ? s : 0;
}

/**
 * Attended entries of the paper's ideal video mask (Eq. 4 plus the frame-0 sink of Eq. 8) for f
 * frames of s tokens: Σ over ordered frame pairs of each pair's entries, the pairs (i, 0) with
 * i ≥ 2 counted as full s² blocks.
 *
 * @example
 * ```ts
 * import { radialPaperPairs } from "./radial_flops.ts";
 * import { equal } from "node:assert/strict";
 * // f = 4, s = 4: distances 0 and 1 dense (10 pairs × 16); distance 2 (r = 1) is the band
 * // |k − l| ≤ 1 (10 entries, 4 pairs); distance 3 (r = 1) too (2 pairs); the sink turns
 * // (2, 0) and (3, 0) dense (+6 each).
 * equal(radialPaperPairs({ frames: 4, tokensPerFrame: 4 }), 160 + 40 + 20 + 12);
 * ```
 */
export function radialPaperPairs(shape: RadialPaperShape): number {
  const { frames: f, tokensPerFrame: s } = shape;
  for (const [field, value] of [["frames", f], ["tokensPerFrame", s]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`radial: ${field} must be an integer ≥ 1 (got ${value})`);
    }
  }
  let entries = f * s * s;
  for (let dist = 1; dist < f; dist++) entries += 2 * (f - dist) * pairEntries(dist, s);
  for (let i = 2; i < f; i++) entries += s * s - pairEntries(i, s);
  return entries;
}

/**
 * Radial's analytic FLOPs for all heads: 4·d·H_n·(paper's video entries + L² − N²), text rows
 * and columns dense as in the method's form.
 */
export function radialAnalyticFlops(scenario: Scenario): number {
  const video = videoTokens(scenario);
  const total = totalTokens(scenario);
  const videoEntries = radialPaperPairs({
    frames: scenario.latent[0],
    tokensPerFrame: tokensPerFrame(scenario),
  });
  return 4 * scenario.headDim * scenario.heads * (videoEntries + total * total - video * video);
}

/** The record's note on what the analytic figure assumes. */
export const RADIAL_ANALYTIC_NOTE = "Radial analytic FLOPs: the paper's count of attended " +
  "entries of the ideal token mask (Eq. 4, band |k − l| + 1 ≤ s/2^⌊log2 dist⌋, sparser diagonals " +
  "beyond) with the frame-0 attention sink of Eq. 8 for every model type, counted exactly rather " +
  "than bounded (Eq. 5); no block rounding and no decay factor; text rows and columns dense";

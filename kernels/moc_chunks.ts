/**
 * The chunk structure of Mixture of Contexts (docs/methods.md, "Mixture of Contexts"; arXiv 2508.21058)
 * for one scenario: every latent frame of every shot is one video chunk, every shot's prompt
 * segment one text chunk. A video query of frame f attends all text, its local anchor (its own
 * shot with `intraShot`, else its own frame) and its top-k among the video chunks strictly before
 * its own chunk that no anchor covers. Those candidates are always the frames 0 … c_f − 1
 * (c_f = f, or the first frame of f's shot with `intraShot`), so the structure is a few arrays.
 *
 * @module
 */
import {
  type Scenario,
  shotFrameBounds,
  textSegmentRanges,
  textStart,
  textTokens,
  tokensPerFrame,
  totalTokens,
  videoStart,
} from "../scenarios/scenario.ts";

/** MoC's chunks and anchors for one scenario (positions in the original token order). */
export interface MocChunks {
  /** Sequence length L. */
  tokens: number;
  /** First video token. */
  videoStart: number;
  /** Video chunk length: tokens per latent frame P. */
  tokensPerFrame: number;
  /** Video chunks: latent frames T. */
  frames: number;
  /** All text tokens [start, end), or null without text. */
  textRange: [number, number] | null;
  /** Text chunks (one per prompt segment). */
  textChunks: number;
  /** Whether the own-shot anchor is on. */
  intraShot: boolean;
  /** Per frame: start of its local anchor (own shot or own frame). */
  anchorStart: Uint32Array;
  /** Per frame: end of its local anchor. */
  anchorEnd: Uint32Array;
  /** Per frame: its queries' candidates are the video chunks 0 … candidateEnd[f] − 1. */
  candidateEnd: Uint32Array;
}

/**
 * The chunks of `scenario` with the own-shot anchor on or off.
 *
 * @example
 * ```ts
 * import { mocChunks } from "./moc_chunks.ts";
 * import { deepEqual } from "node:assert/strict";
 * const chunks = mocChunks({
 *   name: "two-shots", latent: [4, 2, 2], text: { tokens: 6, position: "suffix" },
 *   shots: [2, 2], textSegments: [3, 3], heads: 1, headDim: 64, modelType: "hunyuan",
 * }, { intraShot: true });
 * deepEqual([...chunks.candidateEnd], [0, 0, 2, 2]); // earlier shots' frames only
 * deepEqual(chunks.textRange, [16, 22]);
 * ```
 */
export function mocChunks(scenario: Scenario, options: { intraShot: boolean }): MocChunks {
  const P = tokensPerFrame(scenario);
  const T = scenario.latent[0];
  const v0 = videoStart(scenario);
  const text = textTokens(scenario);
  const shotBounds = shotFrameBounds(scenario);
  const anchorStart = new Uint32Array(T);
  const anchorEnd = new Uint32Array(T);
  const candidateEnd = new Uint32Array(T);
  for (let s = 0; s < scenario.shots.length; s++) {
    for (let f = shotBounds[s]; f < shotBounds[s + 1]; f++) {
      const first = options.intraShot ? shotBounds[s] : f;
      const last = options.intraShot ? shotBounds[s + 1] : f + 1;
      anchorStart[f] = v0 + first * P;
      anchorEnd[f] = v0 + last * P;
      candidateEnd[f] = first;
    }
  }
  return {
    tokens: totalTokens(scenario),
    videoStart: v0,
    tokensPerFrame: P,
    frames: T,
    textRange: text > 0 ? [textStart(scenario), textStart(scenario) + text] : null,
    textChunks: textSegmentRanges(scenario).length,
    intraShot: options.intraShot,
    anchorStart,
    anchorEnd,
    candidateEnd,
  };
}

/** Number of video tokens, T·P. */
export function mocVideoTokens(chunks: MocChunks): number {
  return chunks.frames * chunks.tokensPerFrame;
}

/** Text tokens in the sequence. */
export function mocTextTokens(chunks: MocChunks): number {
  return chunks.textRange ? chunks.textRange[1] - chunks.textRange[0] : 0;
}

/** Chunk sentinel of an empty top-k slot (a query with fewer than k candidates). */
export const NO_CHUNK = 0xffffffff;

/** The routing result of one head: each video query's chosen chunks. */
export interface MocSelection {
  /** Slots per query. */
  k: number;
  /**
   * `chosen[i·k + s]`: the s-th best chunk (frame index) of video query i (i counted from the
   * first video token), best first, ties to the lower chunk; {@link NO_CHUNK} when empty.
   */
  chosen: Uint32Array;
}

/**
 * The chunk structure of Mixture of Contexts (docs/methods.md, "Mixture of Contexts"; arXiv 2508.21058)
 * for one scenario. Every shot's video tokens are cut into chunks that never cross a shot
 * boundary: one chunk per latent frame (`frame`), one per shot (`shot`), or runs of N tokens
 * (`N`, the last run of a shot shorter). Every shot's prompt segment is one text chunk.
 *
 * A video query of chunk c attends all text, its local anchor (its own shot with `intraShot`, else
 * its own chunk) and its top-k among the candidate chunks: the video chunks no anchor covers,
 * restricted to the chunks before the anchor when routing is causal. Anchors are runs of whole
 * chunks, so the candidates of chunk c are always the chunks [0, anchorFirst[c]) and
 * [candidateResume[c], C).
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

/** How a shot's video tokens are cut: per latent frame, the whole shot, or runs of N tokens. */
export type MocChunking = "frame" | "shot" | number;

/** MoC's chunks and anchors for one scenario (positions in the original token order). */
export interface MocChunks {
  /** Sequence length L. */
  tokens: number;
  /** First video token. */
  videoStart: number;
  /** How the video was cut. */
  chunking: MocChunking;
  /**
   * Video chunk c holds the video tokens [chunkStart[c], chunkStart[c + 1]), counted from the
   * first video token; length C + 1, the last entry is the number of video tokens N.
   */
  chunkStart: Uint32Array;
  /** All text tokens [start, end), or null without text. */
  textRange: [number, number] | null;
  /** Text chunks (one per prompt segment). */
  textChunks: number;
  /** Whether the own-shot anchor is on. */
  intraShot: boolean;
  /** Whether only chunks before the anchor are candidates. */
  causal: boolean;
  /** Per video chunk: its queries' local anchor is the chunks [anchorFirst[c], anchorEnd[c]). */
  anchorFirst: Uint32Array;
  /** Per video chunk: end of its anchor (exclusive). */
  anchorEnd: Uint32Array;
  /**
   * Per video chunk: its queries' candidates are the chunks [0, anchorFirst[c]) and
   * [candidateResume[c], C) (C when causal: no candidate after the anchor).
   */
  candidateResume: Uint32Array;
}

/** Chunk starts (relative to the first video token) of one shot's tokens [first, end). */
function shotChunkStarts(first: number, end: number, step: number): number[] {
  const starts: number[] = [];
  for (let t = first; t < end; t += step) starts.push(t);
  return starts;
}

/**
 * The chunks of `scenario` for one setting of chunking, own-shot anchor and causality.
 *
 * @example
 * ```ts
 * import { mocChunks } from "./moc_chunks.ts";
 * import { deepEqual } from "node:assert/strict";
 * const scenario = {
 *   name: "two-shots", latent: [4, 2, 2] as [number, number, number],
 *   text: { tokens: 6, position: "suffix" as const },
 *   shots: [2, 2], textSegments: [3, 3], heads: 1, headDim: 64, modelType: "hunyuan" as const,
 * };
 * const byFrame = mocChunks(scenario, { intraShot: true, causal: true, chunking: "frame" });
 * deepEqual([...byFrame.anchorFirst], [0, 0, 2, 2]); // earlier shots' frames only
 * deepEqual(byFrame.textRange, [16, 22]);
 * // Runs of 3 tokens never cross a shot: each 8-token shot gives 3 + 3 + 2.
 * const byTokens = mocChunks(scenario, { intraShot: false, causal: false, chunking: 3 });
 * deepEqual([...byTokens.chunkStart], [0, 3, 6, 8, 11, 14, 16]);
 * deepEqual([...byTokens.candidateResume], [1, 2, 3, 4, 5, 6]);
 * ```
 */
export function mocChunks(
  scenario: Scenario,
  options: { intraShot: boolean; causal: boolean; chunking: MocChunking },
): MocChunks {
  const { intraShot, causal, chunking } = options;
  const P = tokensPerFrame(scenario);
  const shotBounds = shotFrameBounds(scenario);
  const starts: number[] = [];
  const shotOfChunk: number[] = [];
  for (let s = 0; s < scenario.shots.length; s++) {
    const first = shotBounds[s] * P;
    const end = shotBounds[s + 1] * P;
    const step = chunking === "frame" ? P : chunking === "shot" ? end - first : chunking;
    for (const start of shotChunkStarts(first, end, step)) {
      starts.push(start);
      shotOfChunk.push(s);
    }
  }
  const C = starts.length;
  starts.push(shotBounds[scenario.shots.length] * P);
  const anchorFirst = new Uint32Array(C);
  const anchorEnd = new Uint32Array(C);
  const candidateResume = new Uint32Array(C);
  for (let c = 0; c < C; c++) {
    let [first, end] = [c, c + 1];
    if (intraShot) {
      while (first > 0 && shotOfChunk[first - 1] === shotOfChunk[c]) first--;
      while (end < C && shotOfChunk[end] === shotOfChunk[c]) end++;
    }
    anchorFirst[c] = first;
    anchorEnd[c] = end;
    candidateResume[c] = causal ? C : end;
  }
  const text = textTokens(scenario);
  return {
    tokens: totalTokens(scenario),
    videoStart: videoStart(scenario),
    chunking,
    chunkStart: Uint32Array.from(starts),
    textRange: text > 0 ? [textStart(scenario), textStart(scenario) + text] : null,
    textChunks: textSegmentRanges(scenario).length,
    intraShot,
    causal,
    anchorFirst,
    anchorEnd,
    candidateResume,
  };
}

/** Number of video chunks C. */
export function mocVideoChunks(chunks: MocChunks): number {
  return chunks.chunkStart.length - 1;
}

/** Number of video tokens N. */
export function mocVideoTokens(chunks: MocChunks): number {
  return chunks.chunkStart[chunks.chunkStart.length - 1];
}

/** Tokens of video chunk c. */
export function mocChunkLength(chunks: MocChunks, c: number): number {
  return chunks.chunkStart[c + 1] - chunks.chunkStart[c];
}

/** Text tokens in the sequence. */
export function mocTextTokens(chunks: MocChunks): number {
  return chunks.textRange ? chunks.textRange[1] - chunks.textRange[0] : 0;
}

/** Candidate chunks of the queries of chunk c. */
export function mocCandidateCount(chunks: MocChunks, c: number): number {
  return chunks.anchorFirst[c] + mocVideoChunks(chunks) - chunks.candidateResume[c];
}

/** Whether chunk `candidate` is a candidate of the queries of chunk c. */
export function isMocCandidate(chunks: MocChunks, c: number, candidate: number): boolean {
  return candidate < chunks.anchorFirst[c] ||
    (candidate >= chunks.candidateResume[c] && candidate < mocVideoChunks(chunks));
}

/** The video chunk of every video query (counted from the first video token). */
export function mocQueryChunks(chunks: MocChunks): Uint32Array {
  const chunkOf = new Uint32Array(mocVideoTokens(chunks));
  for (let c = 0; c < mocVideoChunks(chunks); c++) {
    chunkOf.fill(c, chunks.chunkStart[c], chunks.chunkStart[c + 1]);
  }
  return chunkOf;
}

/** Chunk sentinel of an empty top-k slot (a query with fewer than k candidates). */
export const NO_CHUNK = 0xffffffff;

/** The routing result of one head: each video query's chosen chunks. */
export interface MocSelection {
  /** Slots per query. */
  k: number;
  /**
   * `chosen[i·k + s]`: the s-th best video chunk of video query i (i counted from the first
   * video token), best first, ties to the lower chunk; {@link NO_CHUNK} when empty.
   */
  chosen: Uint32Array;
}

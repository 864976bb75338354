/**
 * Float64 CPU reference of MoC routing (docs/methods.md, "Mixture of Contexts"): mean-pooled key
 * descriptors per video chunk, then for every video query the top-k of q·descriptor over its
 * candidate chunks (not covered by an anchor; only those before the anchor when routing is
 * causal). Used by `plan` without a GPU and as the ground truth of the GPU kernels.
 *
 * Top-k rule (shared with kernels/chunk_scores_topk_wgsl.ts): candidates are scanned in
 * ascending chunk order and a candidate displaces the current k-th only with a strictly higher
 * score, so equal scores keep the lower chunk index.
 *
 * @module
 */
import {
  mocChunkLength,
  type MocChunks,
  mocQueryChunks,
  type MocSelection,
  mocVideoChunks,
  mocVideoTokens,
  NO_CHUNK,
} from "../../kernels/moc_chunks.ts";

/** One head's queries and keys, [tokens, d] row-major in the original order. */
export interface QueryKeyTensors {
  /** Queries. */
  q: ArrayLike<number>;
  /** Keys. */
  k: ArrayLike<number>;
}

/** Mean of the keys of every video chunk, [C, d] in float64. */
export function mocDescriptorsReference(
  keys: ArrayLike<number>,
  shape: { chunks: MocChunks; headDim: number },
): Float64Array {
  const { chunks, headDim: d } = shape;
  const descriptors = new Float64Array(mocVideoChunks(chunks) * d);
  for (let c = 0; c < mocVideoChunks(chunks); c++) {
    const row = descriptors.subarray(c * d, (c + 1) * d);
    for (let t = chunks.chunkStart[c]; t < chunks.chunkStart[c + 1]; t++) {
      const base = (chunks.videoStart + t) * d;
      for (let j = 0; j < d; j++) row[j] += keys[base + j];
    }
    for (let j = 0; j < d; j++) row[j] /= mocChunkLength(chunks, c);
  }
  return descriptors;
}

/**
 * The chosen chunks of every video query of one head.
 *
 * @example
 * ```ts
 * import { mocChunks } from "../../kernels/moc_chunks.ts";
 * import { mocRoutingReference } from "./moc_reference.ts";
 * import { deepEqual } from "node:assert/strict";
 * // Three frames of one token each, d = 1 (tests use d = 64; any d works here).
 * const scenario = {
 *   name: "tiny", latent: [3, 1, 1] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const },
 *   shots: [3], textSegments: [0], heads: 1, headDim: 64, modelType: "wan" as const,
 * };
 * const tensors = { q: [1, 1, 1], k: [2, 5, 7] };
 * const causal = mocChunks(scenario, { intraShot: false, causal: true, chunking: "frame" });
 * const early = mocRoutingReference(tensors, { chunks: causal, headDim: 1, k: 1 });
 * deepEqual([...early.chosen], [0xffffffff, 0, 1]); // frame 0 has no earlier chunk
 * const open = mocChunks(scenario, { intraShot: false, causal: false, chunking: "frame" });
 * const any = mocRoutingReference(tensors, { chunks: open, headDim: 1, k: 1 });
 * deepEqual([...any.chosen], [2, 2, 1]); // the best chunk other than the own one
 * ```
 */
export function mocRoutingReference(
  tensors: QueryKeyTensors,
  shape: { chunks: MocChunks; headDim: number; k: number },
): MocSelection {
  const { chunks, headDim: d, k } = shape;
  const descriptors = mocDescriptorsReference(tensors.k, { chunks, headDim: d });
  const chunkOf = mocQueryChunks(chunks);
  const C = mocVideoChunks(chunks);
  const chosen = new Uint32Array(mocVideoTokens(chunks) * k).fill(NO_CHUNK);
  const bestScore = new Float64Array(k);
  for (let i = 0; i < chunkOf.length; i++) {
    const own = chunkOf[i];
    const qBase = (chunks.videoStart + i) * d;
    const slots = chosen.subarray(i * k, (i + 1) * k);
    let filled = 0;
    for (let c = 0; c < C; c++) {
      if (c === chunks.anchorFirst[own]) c = chunks.candidateResume[own];
      if (c >= C) break;
      let score = 0;
      for (let j = 0; j < d; j++) score += tensors.q[qBase + j] * descriptors[c * d + j];
      if (filled === k && !(score > bestScore[k - 1])) continue;
      let at = filled < k ? filled++ : k - 1;
      while (at > 0 && bestScore[at - 1] < score) {
        bestScore[at] = bestScore[at - 1];
        slots[at] = slots[at - 1];
        at--;
      }
      bestScore[at] = score;
      slots[at] = c;
    }
  }
  return { k, chosen };
}

/**
 * VSA's coarse-stage routing in float64 (docs/methods.md, "Video Sparse Attention"): Q and K
 * mean-pooled per cube, a score q̄·k̄ for every (query cube, key cube) pair, and per query cube the
 * `topk` key cubes of highest score (ties to the lower cube). The GPU routing
 * (kernels/vsa_routing.ts) must give the same choices wherever f32 orders the scores alike.
 *
 * @module
 */
import { poolRows } from "../../form/pooling.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import { cubePooling, type VsaCubes } from "../vsa_cubes.ts";

/** The key cubes each query cube attends. */
export interface VsaSelection {
  /** Cubes chosen per query cube, min(topk, C). */
  k: number;
  /** [C, k] key cubes, best first. */
  chosen: Uint32Array;
}

/** The `k` highest entries of `scores` (ties to the lower index), best first. */
export function topIndices(scores: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    let at = best.length;
    while (at > 0 && scores[i] > scores[best[at - 1]]) at--;
    if (at < k) {
      best.splice(at, 0, i);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

/** The coarse routing of one head in float64. */
export function vsaReferenceSelection(
  tensors: Pick<HeadTensors, "q" | "k">,
  cubes: VsaCubes,
  options: { topk: number; headDim: number },
): VsaSelection {
  const { topk, headDim: d } = options;
  const pooling = cubePooling(cubes);
  const q = poolRows(tensors.q, pooling, d);
  const k = poolRows(tensors.k, pooling, d);
  const C = cubes.cubes;
  const kept = Math.min(topk, C);
  const chosen = new Uint32Array(C * kept);
  const scores = new Float64Array(C);
  for (let a = 0; a < C; a++) {
    for (let b = 0; b < C; b++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += q[a * d + c] * k[b * d + c];
      scores[b] = s;
    }
    chosen.set(topIndices(scores, kept), a * kept);
  }
  return { k: kept, chosen };
}

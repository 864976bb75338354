/**
 * Float64 CPU reference of MoGA routing (see kernels/moga_groups.ts for the rules):
 * seeded spherical k-means on the routed keys, router logits, argmax group (ties to the lower
 * group), softmax gate, and a stable counting sort by group. Used by `plan` without a GPU and as
 * the ground truth of the GPU kernels.
 *
 * @module
 */
import type { MogaRouting, RoutedRange } from "../../kernels/moga_groups.ts";

/** Keys of one head, [tokens, d] row-major in the original order, and the routed range. */
export interface RoutedKeys extends RoutedRange {
  /** All keys of the head. */
  keys: ArrayLike<number>;
  /** Head dimension d. */
  headDim: number;
}

/** Writes `sum / |sum|` into `row`, or leaves it (`keep`) / zeroes it when the sum is zero. */
function normalizeInto(row: Float64Array, sum: Float64Array, keep: boolean): void {
  let norm2 = 0;
  for (const x of sum) norm2 += x * x;
  if (norm2 === 0) {
    if (!keep) row.fill(0);
    return;
  }
  const norm = Math.sqrt(norm2);
  for (let j = 0; j < row.length; j++) row[j] = sum[j] / norm;
}

/** Each routed token's group (argmax of router·key, ties to the lower group) and gate. */
export function routeReference(
  routed: RoutedKeys,
  router: { weights: ArrayLike<number>; groups: number },
): { assignment: Uint32Array; gate: Float32Array } {
  const { keys, headDim: d, start, count } = routed;
  const { weights, groups } = router;
  const assignment = new Uint32Array(count);
  const gate = new Float32Array(count);
  const logits = new Float64Array(groups);
  for (let i = 0; i < count; i++) {
    const base = (start + i) * d;
    let best = 0;
    for (let g = 0; g < groups; g++) {
      let logit = 0;
      for (let j = 0; j < d; j++) logit += weights[g * d + j] * keys[base + j];
      logits[g] = logit;
      if (logit > logits[best]) best = g;
    }
    let sum = 0;
    for (let g = 0; g < groups; g++) sum += Math.exp(logits[g] - logits[best]);
    assignment[i] = best;
    gate[i] = 1 / sum;
  }
  return { assignment, gate };
}

/** The router built by seeded spherical k-means: [G, d] unit rows (zero for a zero seed key). */
export function kmeansRouterReference(
  routed: RoutedKeys,
  options: { seeds: Uint32Array; iters: number },
): Float64Array {
  const { keys, headDim: d, start } = routed;
  const groups = options.seeds.length;
  const weights = new Float64Array(groups * d);
  const sums = new Float64Array(groups * d);
  for (let g = 0; g < groups; g++) {
    const base = (start + options.seeds[g]) * d;
    for (let j = 0; j < d; j++) sums[g * d + j] = keys[base + j];
    normalizeInto(weights.subarray(g * d, (g + 1) * d), sums.subarray(g * d, (g + 1) * d), false);
  }
  for (let iter = 0; iter < options.iters; iter++) {
    const { assignment } = routeReference(routed, { weights, groups });
    sums.fill(0);
    const counts = new Uint32Array(groups);
    for (let i = 0; i < assignment.length; i++) {
      const g = assignment[i];
      counts[g]++;
      const base = (start + i) * d;
      for (let j = 0; j < d; j++) sums[g * d + j] += keys[base + j];
    }
    for (let g = 0; g < groups; g++) {
      if (counts[g] === 0) continue;
      normalizeInto(weights.subarray(g * d, (g + 1) * d), sums.subarray(g * d, (g + 1) * d), true);
    }
  }
  return weights;
}

/**
 * Stable counting sort by group: the permutation (sorted position → token) and the G + 1 group
 * offsets.
 *
 * @example
 * ```ts
 * import { stableGroupSort } from "./moga_reference.ts";
 * import { deepEqual } from "node:assert/strict";
 * const { permutation, groupOffsets } = stableGroupSort(Uint32Array.from([1, 0, 1, 0]), 3);
 * deepEqual([...permutation], [1, 3, 0, 2]);
 * deepEqual([...groupOffsets], [0, 2, 4, 4]);
 * ```
 */
export function stableGroupSort(
  assignment: Uint32Array,
  groups: number,
): { permutation: Uint32Array; groupOffsets: Uint32Array } {
  const groupOffsets = new Uint32Array(groups + 1);
  for (const g of assignment) groupOffsets[g + 1]++;
  for (let g = 0; g < groups; g++) groupOffsets[g + 1] += groupOffsets[g];
  const next = groupOffsets.slice(0, groups);
  const permutation = new Uint32Array(assignment.length);
  for (let i = 0; i < assignment.length; i++) permutation[next[assignment[i]]++] = i;
  return { permutation, groupOffsets };
}

/**
 * One head's routing: with `seeds`, the k-means router of `iters` iterations; with `weights`, a
 * given router ([G, d]).
 */
export function mogaRoutingReference(
  routed: RoutedKeys,
  router: { seeds: Uint32Array; iters: number } | { weights: ArrayLike<number>; groups: number },
): MogaRouting {
  const resolved = "seeds" in router
    ? { weights: kmeansRouterReference(routed, router), groups: router.seeds.length }
    : router;
  const { assignment, gate } = routeReference(routed, resolved);
  return {
    groups: resolved.groups,
    assignment,
    gate,
    ...stableGroupSort(assignment, resolved.groups),
  };
}

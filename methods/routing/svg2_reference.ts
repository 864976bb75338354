/**
 * Float64 CPU reference of Sparse-VideoGen 2's routing (rules: kernels/svg2_clusters.ts): Euclidean
 * k-means of the routed queries and of the routed keys from seed tokens, the centroid-estimated
 * attention mass of every (Q cluster, K cluster) pair, and the top-p choice of K clusters per Q
 * cluster. Used by `plan` without a GPU and as the ground truth of the GPU kernels.
 *
 * @module
 */
import type { RoutedRange } from "../../kernels/moga_groups.ts";
import type {
  Svg2Clustering,
  Svg2Routing,
  Svg2RoutingOptions,
} from "../../kernels/svg2_clusters.ts";

/** Rows [tokens, d] of one head in the original order, and the routed range. */
export interface RoutedRows extends RoutedRange {
  /** All rows of the head (queries or keys). */
  rows: ArrayLike<number>;
  /** Head dimension d. */
  headDim: number;
}

/** Each routed row's nearest centroid (least ‖c‖² − 2·x·c, ties to the lower cluster). */
function assign(routed: RoutedRows, centroids: Float64Array, assignment: Uint32Array): void {
  const { rows, headDim: d, start, count } = routed;
  const clusters = centroids.length / d;
  const norms = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) {
    for (let j = 0; j < d; j++) norms[c] += centroids[c * d + j] ** 2;
  }
  for (let i = 0; i < count; i++) {
    const base = (start + i) * d;
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < clusters; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += centroids[c * d + j] * rows[base + j];
      const distance = norms[c] - 2 * dot;
      if (distance < bestDistance) [best, bestDistance] = [c, distance];
    }
    assignment[i] = best;
  }
}

/**
 * Euclidean k-means of the routed rows from `seeds` (one routed token a cluster): labels and
 * sizes of the last assignment, and the centroids [C, d] after the last move.
 */
export function kmeansReference(
  routed: RoutedRows,
  options: { seeds: Uint32Array; iters: number },
): Svg2Clustering & { centroids: Float64Array } {
  const { rows, headDim: d, start, count } = routed;
  const clusters = options.seeds.length;
  const centroids = new Float64Array(clusters * d);
  options.seeds.forEach((token, c) => {
    for (let j = 0; j < d; j++) centroids[c * d + j] = rows[(start + token) * d + j];
  });
  const assignment = new Uint32Array(count);
  const sizes = new Uint32Array(clusters);
  for (let iter = 0; iter < options.iters; iter++) {
    assign(routed, centroids, assignment);
    const sums = new Float64Array(clusters * d);
    sizes.fill(0);
    for (let i = 0; i < count; i++) {
      const c = assignment[i];
      sizes[c]++;
      for (let j = 0; j < d; j++) sums[c * d + j] += rows[(start + i) * d + j];
    }
    for (let c = 0; c < clusters; c++) {
      if (sizes[c] === 0) continue;
      for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] / sizes[c];
    }
  }
  return { clusters, assignment, sizes, centroids };
}

/**
 * The K clusters each Q cluster keeps: masses from the centroids and K cluster sizes, ranked, kept
 * by top-p with at least `minKept` (row-major [C_q, C_k] bytes).
 */
export function keptClustersReference(
  centroids: { query: Float64Array; key: Float64Array; keySizes: Uint32Array },
  options: { headDim: number; topP: number; minKept: number },
): Uint8Array {
  const { query, key, keySizes } = centroids;
  const { headDim: d, topP, minKept } = options;
  const qc = query.length / d;
  const kc = key.length / d;
  const kept = new Uint8Array(qc * kc);
  const scores = new Float64Array(kc);
  const mass = new Float64Array(kc);
  for (let i = 0; i < qc; i++) {
    let max = -Infinity;
    for (let j = 0; j < kc; j++) {
      let dot = 0;
      for (let x = 0; x < d; x++) dot += query[i * d + x] * key[j * d + x];
      scores[j] = dot / Math.sqrt(d);
      max = Math.max(max, scores[j]);
    }
    let total = 0;
    for (let j = 0; j < kc; j++) total += mass[j] = keySizes[j] * Math.exp(scores[j] - max);
    for (let j = 0; j < kc; j++) mass[j] /= total;
    const ranked = Array.from({ length: kc }, (_, j) => j).sort((a, b) =>
      mass[b] - mass[a] || a - b
    );
    let before = 0;
    ranked.forEach((j, rank) => {
      if (rank === 0 || before <= topP || rank < minKept) kept[i * kc + j] = 1;
      before += mass[j];
    });
  }
  return kept;
}

/** One head's routing from its queries and keys (the same routed range for both). */
export function svg2RoutingReference(
  head: { queries: ArrayLike<number>; keys: ArrayLike<number>; headDim: number } & RoutedRange,
  options: Svg2RoutingOptions & { querySeeds: Uint32Array; keySeeds: Uint32Array },
): Svg2Routing {
  const { headDim, start, count } = head;
  const query = kmeansReference(
    { rows: head.queries, headDim, start, count },
    { seeds: options.querySeeds, iters: options.iters },
  );
  const key = kmeansReference(
    { rows: head.keys, headDim, start, count },
    { seeds: options.keySeeds, iters: options.iters },
  );
  const kept = keptClustersReference(
    { query: query.centroids, key: key.centroids, keySizes: key.sizes },
    { headDim, topP: options.topP, minKept: options.minKept },
  );
  return {
    query: { clusters: query.clusters, assignment: query.assignment, sizes: query.sizes },
    key: { clusters: key.clusters, assignment: key.assignment, sizes: key.sizes },
    kept,
  };
}

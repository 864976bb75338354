/**
 * What Sparse-VideoGen 2's CPU and GPU routings share (docs/methods.md, "Sparse-VideoGen 2";
 * arXiv 2505.18875): the shape of one head's routing and the rules both implement.
 *
 * Rules. Queries and keys of the routed (video) tokens are clustered apart by Euclidean k-means:
 * centroids start at seed tokens (kernels/moga_groups.ts `kmeansSeedTokens`), then each of
 * `iters` rounds assigns every token to the centroid of least ‖c‖² − 2·x·c (ties to the lower
 * cluster) and moves every centroid to the mean of its tokens (an empty cluster keeps its
 * centroid). Labels and sizes are those of the last assignment, centroids those after the last
 * move. The attention mass of the pair (Q cluster i, K cluster j) is
 * `m_ij = s_j·exp(c_i·k_j/√d) / Σ_j' s_j'·exp(c_i·k_j'/√d)` (s_j the K cluster's size). Per Q
 * cluster, K clusters are ranked by descending mass (ties to the lower cluster); the cluster at
 * rank r is kept when r = 0, when the masses ranked before it sum to at most `topP`, or when
 * r < `minKept`.
 *
 * @module
 */

/** One k-means clustering of R routed tokens (indices relative to the routed range). */
export interface Svg2Clustering {
  /** Clusters C. */
  clusters: number;
  /** Cluster of each routed token. */
  assignment: Uint32Array;
  /** Tokens of each cluster (C entries). */
  sizes: Uint32Array;
}

/** One head's SVG2 routing. */
export interface Svg2Routing {
  /** The queries' clustering. */
  query: Svg2Clustering;
  /** The keys' clustering. */
  key: Svg2Clustering;
  /** `kept[i * key.clusters + j]` = 1 when Q cluster i attends K cluster j. */
  kept: Uint8Array;
}

/** The settings of one routing besides the seeds (whose counts are C_q and C_k). */
export interface Svg2RoutingOptions {
  /** k-means rounds (≥ 1). */
  iters: number;
  /** Cumulative mass share to keep, in (0, 1]. */
  topP: number;
  /** K clusters kept per Q cluster whatever their mass (floor(minKeptRatio · C_k)). */
  minKept: number;
}

/**
 * Stable counting sort of cluster labels: `order[p]` is the routed token at cluster-sorted
 * position p, cluster c holds positions [offsets[c], offsets[c+1]).
 *
 * @example
 * ```ts
 * import { clusterOrder } from "./svg2_clusters.ts";
 * import { deepEqual } from "node:assert/strict";
 * const { order, offsets } = clusterOrder(Uint32Array.from([2, 0, 2, 0]), 3);
 * deepEqual([...order], [1, 3, 0, 2]);
 * deepEqual([...offsets], [0, 2, 2, 4]);
 * ```
 */
export function clusterOrder(
  assignment: Uint32Array,
  clusters: number,
): { order: Uint32Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(clusters + 1);
  for (const c of assignment) offsets[c + 1]++;
  for (let c = 0; c < clusters; c++) offsets[c + 1] += offsets[c];
  const next = offsets.slice(0, clusters);
  const order = new Uint32Array(assignment.length);
  for (let i = 0; i < assignment.length; i++) order[next[assignment[i]]++] = i;
  return { order, offsets };
}

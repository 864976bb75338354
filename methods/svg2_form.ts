/**
 * Sparse-VideoGen 2's execution form (docs/methods.md, "Sparse-VideoGen 2"): queries in Q-cluster
 * order (the permutation), keys in K-cluster order (the key permutation), each stable inside a
 * cluster, the unrouted (text) tokens after the video in both orders. One query tile a non-empty
 * Q cluster, attending its kept K clusters (adjacent ones merged into one range) and every text
 * key; text queries attend everything.
 *
 * @module
 */
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import { type ExecutionForm, FormBuilder } from "../form/form.ts";
import type { RoutedRange } from "../kernels/moga_groups.ts";
import { clusterOrder, type Svg2Clustering, type Svg2Routing } from "../kernels/svg2_clusters.ts";

/** Name of SVG2's token order (queries by Q cluster, keys by K cluster). */
export const SVG2_PERMUTATION_NAME = "svg2-cluster-sorted";

/** The cluster-sorted order of the whole sequence and where each cluster starts. */
function sortedOrder(
  tokens: number,
  clustering: Svg2Clustering,
  routed: RoutedRange,
): { permutation: Uint32Array; offsets: Uint32Array } {
  const { order, offsets } = clusterOrder(clustering.assignment, clustering.clusters);
  const permutation = new Uint32Array(tokens);
  for (let p = 0; p < routed.count; p++) permutation[p] = routed.start + order[p];
  let p = routed.count;
  for (let t = 0; t < tokens; t++) {
    if (t < routed.start || t >= routed.start + routed.count) permutation[p++] = t;
  }
  return { permutation, offsets };
}

/** The form of one head's routing (`blockSize` only for block-sparsity figures). */
export function svg2Form(
  scenario: Scenario,
  options: { routing: Svg2Routing; routed: RoutedRange; blockSize: number },
): ExecutionForm {
  const { routing, routed, blockSize } = options;
  const L = totalTokens(scenario);
  const R = routed.count;
  if (routing.query.assignment.length !== R || routing.key.assignment.length !== R) {
    throw new RangeError(`svg2 routing must cover the ${R} routed tokens`);
  }
  const queries = sortedOrder(L, routing.query, routed);
  const keys = sortedOrder(L, routing.key, routed);
  const kc = routing.key.clusters;
  const builder = new FormBuilder(L, blockSize);
  for (let i = 0; i < routing.query.clusters; i++) {
    const end = queries.offsets[i + 1];
    if (end === queries.offsets[i]) continue;
    let open = -1;
    for (let j = 0; j <= kc; j++) {
      const on = j < kc && routing.kept[i * kc + j] === 1 &&
        keys.offsets[j + 1] > keys.offsets[j];
      const empty = j < kc && keys.offsets[j + 1] === keys.offsets[j];
      if (on && open < 0) open = keys.offsets[j];
      if (!on && !empty && open >= 0) {
        builder.range(open, keys.offsets[j]);
        open = -1;
      }
    }
    if (R < L) builder.range(R, L);
    builder.endTile(end);
  }
  if (R < L) builder.range(0, L).endTile(L);
  return builder.build(queries.permutation, SVG2_PERMUTATION_NAME, null, keys.permutation);
}

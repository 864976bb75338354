/**
 * MoGA's router as published (arXiv 2510.18692, "Mixture-of-Groups Attention"): one linear map of
 * each token's hidden state x to M group logits, the group g(x) = argmax (ties to the lower
 * group), the gate p(g(x)|x) = softmax of the logits at g(x); one grouping for every head. Runs
 * in float64 on the CPU (one pass over the routed tokens, no clustering).
 *
 * A benchmark has no trained router: the default weights are seeded standard normal entries, so
 * a logit's spread is about |x| (untrained, as the record notes say); a router file replaces them;
 * or W is fitted to the inputs as seeded spherical k-means centroids of x (the rules of
 * kernels/moga_groups.ts, on x instead of a head's keys), a stand-in for a trained router
 * that groups alike content.
 *
 * @module
 */
import type { HiddenStates } from "../../scenarios/inputs.ts";
import { Prng } from "../../scenarios/prng.ts";
import { kmeansSeedTokens, type MogaRouting, type RoutedRange } from "../../kernels/moga_groups.ts";
import { mogaRoutingReference } from "./moga_reference.ts";

/** Stream of the seeded generator that draws the untrained router's weights (scenarios/prng.ts). */
export const CONTENT_ROUTER_STREAM = 7002;

/**
 * The untrained router: [groups, dims] standard normal entries drawn from (seed, stream
 * {@link CONTENT_ROUTER_STREAM}).
 *
 * @example
 * ```ts
 * import { seededRouterWeights } from "./content_router.ts";
 * import { deepEqual } from "node:assert/strict";
 * const a = seededRouterWeights({ groups: 3, dims: 4 }, { seed: 1 });
 * deepEqual(a.length, 12);
 * deepEqual(a, seededRouterWeights({ groups: 3, dims: 4 }, { seed: 1 }));
 * ```
 */
export function seededRouterWeights(
  shape: { groups: number; dims: number },
  options: { seed: number },
): Float64Array {
  const prng = new Prng(options.seed, -1, CONTENT_ROUTER_STREAM);
  return Float64Array.from({ length: shape.groups * shape.dims }, () => prng.normal());
}

/** A content router: given weights [groups, dims], or k-means on x from seed tokens. */
export type ContentRouter =
  | { weights: ArrayLike<number>; groups: number }
  | { seeds: Uint32Array; iters: number };

/** The k-means router's G seed tokens of the routed range, drawn from `seed` (head −1). */
export function contentKmeansSeeds(
  shape: { count: number; groups: number },
  options: { seed: number },
): Uint32Array {
  return kmeansSeedTokens(shape, { seed: options.seed, head: -1 });
}

/** Routes the hidden states of `routed` with `router`, in float64. */
export function routeHiddenStates(
  hidden: HiddenStates,
  routing: { routed: RoutedRange; router: ContentRouter },
): MogaRouting {
  const { routed, router } = routing;
  const groups = "seeds" in router ? router.seeds.length : router.groups;
  if ("weights" in router && router.weights.length !== groups * hidden.dims) {
    throw new RangeError(
      `moga: router holds ${router.weights.length} weights, not groups × dims = ` +
        `${groups * hidden.dims}`,
    );
  }
  if (groups > routed.count) {
    throw new RangeError(`moga: groups (${groups}) must be ≤ routed tokens (${routed.count})`);
  }
  return mogaRoutingReference({ keys: hidden.x, headDim: hidden.dims, ...routed }, router);
}

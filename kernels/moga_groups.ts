/**
 * MoGA's routing result and what the CPU and GPU routings share (docs/methods.md, "Mixture-of-Groups
 * Attention"; arXiv 2510.18692): the routed tokens, the seeded k-means initialisation, and the
 * shape of a routing (each routed token's group and gate, the stable group-sorted order, the group
 * segments).
 *
 * The default router is spherical k-means on the keys: centroids are unit vectors, a token goes to
 * the centroid of highest dot product (ties to the lower group), a centroid becomes the normalised
 * sum of its tokens' keys (an empty group, or a zero sum, keeps its centroid). The router is then
 * W = the centroids, logits W·k, gate softmax(logits)_g, so its argmax is the k-means assignment.
 *
 * @module
 */
import { Prng } from "../scenarios/prng.ts";

/** The routed tokens: the joint-sequence range [start, start + count). */
export interface RoutedRange {
  /** First routed token. */
  start: number;
  /** Routed tokens R. */
  count: number;
}

/** One head's MoGA routing over R routed tokens (indices relative to the routed range). */
export interface MogaRouting {
  /** Groups G. */
  groups: number;
  /** Group of each routed token. */
  assignment: Uint32Array;
  /** Gate p(g(x)|x) of each routed token, in [1/G, 1]. */
  gate: Float32Array;
  /** `permutation[p]`: the routed token at group-sorted position p (stable inside a group). */
  permutation: Uint32Array;
  /** Group g holds sorted positions [groupOffsets[g], groupOffsets[g+1]); G + 1 entries. */
  groupOffsets: Uint32Array;
}

/** Stream of the seeded generator that draws the k-means seeds (scenarios/prng.ts). */
export const KMEANS_SEED_STREAM = 7001;

/**
 * G distinct routed tokens whose keys start the k-means of head `head`, in group order: drawn
 * uniformly by the counter-based generator of (seed, head), so CPU and GPU start alike.
 *
 * @example
 * ```ts
 * import { kmeansSeedTokens } from "./moga_groups.ts";
 * import { deepEqual } from "node:assert/strict";
 * const seeds = kmeansSeedTokens({ count: 100, groups: 4 }, { seed: 1, head: 0 });
 * deepEqual(new Set(seeds).size, 4);
 * deepEqual(seeds, kmeansSeedTokens({ count: 100, groups: 4 }, { seed: 1, head: 0 }));
 * ```
 */
export function kmeansSeedTokens(
  shape: { count: number; groups: number },
  options: { seed: number; head: number },
): Uint32Array {
  const { count, groups } = shape;
  if (groups > count) {
    throw new RangeError(`moga: groups (${groups}) must be ≤ routed tokens (${count})`);
  }
  const prng = new Prng(options.seed, options.head, KMEANS_SEED_STREAM);
  const taken = new Set<number>();
  const seeds = new Uint32Array(groups);
  for (let g = 0; g < groups;) {
    const token = Math.floor(prng.uniform() * count);
    if (taken.has(token)) continue;
    taken.add(token);
    seeds[g++] = token;
  }
  return seeds;
}

/** Token counts of each group. */
export function groupSizes(routing: MogaRouting): number[] {
  return Array.from(
    { length: routing.groups },
    (_, g) => routing.groupOffsets[g + 1] - routing.groupOffsets[g],
  );
}

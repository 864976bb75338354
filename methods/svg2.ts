/**
 * `svg2`, Sparse-VideoGen 2's semantic-aware permutation (docs/methods.md, "Sparse-VideoGen 2";
 * arXiv 2505.18875; github.com/svg-project/Sparse-VideoGen): per head, Euclidean k-means of the
 * video queries into C_q clusters and of the video keys into C_k clusters, queries and keys each
 * sorted by cluster (two permutations), and per Q cluster the K clusters of largest estimated
 * attention mass kept until their share reaches top-p. Text is attended by every query and
 * attends densely, as the official HunyuanVideo processor does with the prompt.
 *
 * The paper warm-starts centroids across denoising steps; a benchmark case is one step, so the
 * k-means starts cold from seeded tokens and runs `iters` rounds (the official init count).
 *
 * @module
 */
import { type Scenario, textTokens, videoStart, videoTokens } from "../scenarios/scenario.ts";
import { attendedPairs } from "../form/form.ts";
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { layoutHeads, routeHeads } from "./routing/dynamic_context.ts";
import { kmeansSeedTokens, type RoutedRange } from "../kernels/moga_groups.ts";
import type { Svg2Routing } from "../kernels/svg2_clusters.ts";
import { Svg2GpuRouting } from "../kernels/svg2_routing.ts";
import { svg2RoutingReference } from "./routing/svg2_reference.ts";
import { svg2Form } from "./svg2_form.ts";
import { resolveParams } from "./spec.ts";

/** The official HunyuanVideo 720p script's cluster counts, and the video tokens they were set for. */
export const SVG2_PAPER_CLUSTERS = { query: 400, key: 1000, videoTokens: 30 * 45 * 80 };

/** Most k-means rounds. */
export const SVG2_MAX_ITERS = 100;

const DEFAULTS: Params = {
  topP: 0.9,
  qClusters: "auto",
  kClusters: "auto",
  iters: 50,
  minKeptRatio: 0.1,
  block: 128,
};

function checkInteger(name: string, value: number, low: number, high: number): void {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new MethodSpecError(
      `svg2: parameter "${name}" must be an integer ${low}..${high} (got ${value})`,
    );
  }
}

/** SVG2's parameters, validated: cluster counts are `auto` or integers ≥ 1. */
export function svg2Params(given: Params): Params {
  const { qClusters, kClusters, ...rest } = given;
  const params = resolveParams("svg2", DEFAULTS, rest);
  for (const [name, value] of [["qClusters", qClusters], ["kClusters", kClusters]] as const) {
    if (value === undefined) continue;
    if (value !== "auto") checkInteger(name, value as number, 1, 1 << 20);
    params[name] = value;
  }
  const topP = params.topP as number;
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1)) {
    throw new MethodSpecError(`svg2: parameter "topP" must be a number in (0, 1] (got ${topP})`);
  }
  const ratio = params.minKeptRatio as number;
  if (typeof ratio !== "number" || !(ratio >= 0 && ratio <= 1)) {
    throw new MethodSpecError(
      `svg2: parameter "minKeptRatio" must be a number in [0, 1] (got ${ratio})`,
    );
  }
  checkInteger("iters", params.iters as number, 1, SVG2_MAX_ITERS);
  checkInteger("block", params.block as number, 1, Number.MAX_SAFE_INTEGER);
  return params;
}

/**
 * A cluster count on `routed` tokens: the given one (at most `routed`), or for `auto` the paper's
 * count, scaled down in proportion where the video has fewer tokens than the paper's.
 */
export function svg2ClusterCount(value: number | string, paper: number, routed: number): number {
  const wanted = value === "auto"
    ? Math.max(1, Math.round(paper * Math.min(1, routed / SVG2_PAPER_CLUSTERS.videoTokens)))
    : value as number;
  return Math.min(wanted, routed);
}

/**
 * Routing FLOPs of one head: each k-means round over R rows, C clusters, d dims costs 2·d·R·C
 * (dots) + 2·R·C (distance, compare) + 2·d·C (centroid norms) + R·d (sums) + C·d (means); the
 * masses 2·d·C_q·C_k (centroid dots) + 6·C_q·C_k (scale, subtract, exp, weight, sum, divide)
 * + C_q·C_k (the running sum of the ranking). Sorting does no floating-point work.
 */
export function svg2RoutingFlops(shape: {
  routed: number;
  queryClusters: number;
  keyClusters: number;
  headDim: number;
  iters: number;
}): number {
  const { routed: R, queryClusters: qc, keyClusters: kc, headDim: d, iters } = shape;
  const round = (C: number) => 2 * d * R * C + 2 * R * C + 2 * d * C + R * d + C * d;
  return iters * (round(qc) + round(kc)) + qc * kc * (2 * d + 7);
}

/** Sparse-VideoGen 2: k-means clusters of Q and K, cluster pairs kept by top-p of their mass. */
export const svg2: MethodDefinition = {
  name: "svg2",
  summary: "Sparse-VideoGen 2: k-means clusters of Q and K per head, tokens permuted by cluster, " +
    "cluster pairs kept by top-p of their estimated attention mass (arXiv 2505.18875)",
  defaults: DEFAULTS,
  paramDocs: {
    topP: "cumulative attention-mass share of the K clusters each Q cluster keeps: (0, 1]",
    qClusters: "query clusters C_q: integer ≥ 1, or auto (400 at ≥ 108,000 video tokens, " +
      "scaled down in proportion below)",
    kClusters: "key clusters C_k: integer ≥ 1, or auto (1000 at ≥ 108,000 video tokens, " +
      "scaled down in proportion below)",
    iters: `k-means rounds from a cold start: 1..${SVG2_MAX_ITERS} (official init: 50)`,
    minKeptRatio: "share of the K clusters every Q cluster keeps whatever their mass: [0, 1]",
    block: "block size for block-sparsity figures and mask pictures (tokens)",
  },
  knob: {
    param: "topP",
    summary: "cumulative mass share kept per query cluster: smaller keeps fewer key clusters",
    grid: () => [0.99, 0.95, 0.9, 0.8, 0.6, 0.4],
  },
  create(given: Params): Method {
    const params = svg2Params(given);
    const iters = params.iters as number;
    const topP = params.topP as number;
    return {
      name: "svg2",
      params,
      dynamic: true,
      async layout(scenario: Scenario, context) {
        const heads = layoutHeads(scenario, context);
        const headDim = scenario.headDim;
        const routed: RoutedRange = { start: videoStart(scenario), count: videoTokens(scenario) };
        const queryClusters = svg2ClusterCount(
          params.qClusters as number | string,
          SVG2_PAPER_CLUSTERS.query,
          routed.count,
        );
        const keyClusters = svg2ClusterCount(
          params.kClusters as number | string,
          SVG2_PAPER_CLUSTERS.key,
          routed.count,
        );
        const minKept = Math.floor((params.minKeptRatio as number) * keyClusters);
        const seedsOf = (clusters: number) =>
          heads.map((head) =>
            kmeansSeedTokens({ count: routed.count, groups: clusters }, {
              seed: context.seed ?? 0,
              head,
            })
          );
        const querySeeds = seedsOf(queryClusters);
        const keySeeds = seedsOf(keyClusters);
        const rules = { iters, topP, minKept };
        const { results: routings, routing, routedOn } = await routeHeads<Svg2Routing>(
          "svg2",
          context,
          {
            heads,
            router: {
              gpu: (runtime, inputs, heads) =>
                Svg2GpuRouting.create(runtime, {
                  routed,
                  inputs,
                  heads,
                  headDim,
                  querySeeds,
                  keySeeds,
                  ...rules,
                }),
              cpu: (tensors, index) =>
                svg2RoutingReference(
                  { queries: tensors.q, keys: tensors.k, headDim, ...routed },
                  { querySeeds: querySeeds[index], keySeeds: keySeeds[index], ...rules },
                ),
            },
          },
        );
        const blockSize = params.block as number;
        const forms = routings.map((r) => svg2Form(scenario, { routing: r, routed, blockSize }));
        const keptShare = routings.reduce((sum, r) => sum + r.kept.reduce((a, b) => a + b, 0), 0) /
          (routings.length * queryClusters * keyClusters);
        return {
          forms,
          routingFlops: scenario.heads *
            svg2RoutingFlops({
              routed: routed.count,
              queryClusters,
              keyClusters,
              headDim,
              iters,
            }),
          routing,
          params: { ...params, qClusters: queryClusters, kClusters: keyClusters },
          stats: {
            queryClusters,
            keyClusters,
            minKept,
            keptClusterShare: keptShare,
            attendedPairs: forms.reduce((sum, f) => sum + attendedPairs(f), 0),
            routedOn,
          },
          notes: [
            `SVG2: one denoising step, so k-means starts cold from seeded tokens (seed ` +
            `${
              context.seed ?? 0
            }) and runs ${iters} rounds, no early stop; the paper warm-starts ` +
            "centroids from the previous step and runs 2 rounds a step there",
            `SVG2 clusters: C_q = ${queryClusters}, C_k = ${keyClusters} over ${routed.count} ` +
            `video tokens${
              textTokens(scenario) > 0 ? "; text attended by all, attending all" : ""
            }`,
          ],
        };
      },
      analyticFlops: () => null,
    };
  },
};

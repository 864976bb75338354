/**
 * `moga-kmeans`, Longshot's simplified Mixture-of-Groups Attention (docs/methods.md, "Mixture-of-Groups
 * Attention"; arXiv 2510.18692), kept so earlier results stay comparable (`moga` is the paper's
 * form: methods/moga_paper.ts): a
 * router sends every token to one of G groups (argmax of W·k), tokens are stably sorted by group
 * and attend fully within their group; text (by default) is attended by every query and attends
 * densely; each routed token's output is scaled by its gate p(g|k); an optional STA-like local
 * window adds spatio-temporal neighbours. Routing runs on the GPU when the context has one
 * (kernels/moga_routing.ts), else in float64 on the CPU (methods/routing/moga_reference.ts).
 *
 * A benchmark has no trained router: the default is seeded spherical k-means on each head's keys
 * (kernels/moga_groups.ts); `router=PATH` gives weights for every head instead.
 *
 * @module
 */
import {
  type Scenario,
  textTokens,
  totalTokens,
  videoStart,
  videoTokens,
} from "../scenarios/scenario.ts";
import { attendedPairs, executedPairs } from "../form/form.ts";
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { mogaForm } from "./moga_form.ts";
import { layoutHeads, routeHeads } from "./routing/dynamic_context.ts";
import { MogaGpuRouting } from "../kernels/moga_routing.ts";
import { groupSizes, kmeansSeedTokens, type RoutedRange } from "../kernels/moga_groups.ts";
import { mogaRoutingReference } from "./routing/moga_reference.ts";
import { readRouterFile } from "./routing/router_file.ts";
import { resolveParams } from "./spec.ts";

/** Most groups (the router kernel keeps the G logits of a token in registers). */
export const MOGA_MAX_GROUPS = 256;

/** Most k-means iterations. */
export const MOGA_MAX_ITERS = 100;

const DEFAULTS: Params = {
  groups: 16,
  iters: 5,
  window: "off",
  text: true,
  router: "kmeans",
  block: 128,
};

function integerIn(name: string, value: number, low: number, high: number): void {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new MethodSpecError(
      `moga-kmeans: parameter "${name}" must be an integer ${low}..${high} (got ${value})`,
    );
  }
}

/** MoGA's parameters, validated: `window` may be given as a `TxHxW` list or `off`. */
export function mogaParams(given: Params): Params {
  const window = given.window;
  const spelled = Array.isArray(window) || typeof window === "number"
    ? { ...given, window: Array.isArray(window) ? window.join("x") : String(window) }
    : given;
  const params = resolveParams("moga-kmeans", DEFAULTS, spelled);
  integerIn("groups", params.groups as number, 1, MOGA_MAX_GROUPS);
  integerIn("iters", params.iters as number, 0, MOGA_MAX_ITERS);
  integerIn("block", params.block as number, 1, Number.MAX_SAFE_INTEGER);
  parseWindow(params.window as string);
  const router = params.router as string;
  if (router !== "kmeans" && !router.endsWith(".json")) {
    throw new MethodSpecError(
      `moga-kmeans: parameter "router" must be kmeans or a path to a .json file (got ${router})`,
    );
  }
  return params;
}

/** `off` → null; `TxHxW` → [T, H, W] of positive integers. */
export function parseWindow(window: string): [number, number, number] | null {
  if (window === "off") return null;
  const sizes = /^\d+x\d+x\d+$/.test(window) ? window.split("x").map(Number) : [];
  if (sizes.length !== 3 || sizes.some((n) => n < 1)) {
    throw new MethodSpecError(
      `moga-kmeans: parameter "window" must be off or TxHxW positive integers, e.g. 3x3x3 (got ${window})`,
    );
  }
  return sizes as [number, number, number];
}

/**
 * Routing FLOPs of one head over R routed tokens: each router pass 2·d per (token, group) for the
 * logits plus 4 per (token, group) for argmax and softmax (compare, subtract, exp, add) and one
 * division per token; each k-means update one add per key element and 3 per centroid element
 * (square, add, divide); the initialisation 3 per centroid element. The counting sort does no
 * floating-point work.
 */
export function mogaRoutingFlops(
  shape: { routed: number; groups: number; headDim: number },
  router: { kmeansIters: number | null },
): number {
  const { routed: R, groups: G, headDim: d } = shape;
  const routerPass = R * G * (2 * d + 4) + R;
  if (router.kmeansIters === null) return routerPass;
  const update = R * d + 3 * G * d;
  return 3 * G * d + router.kmeansIters * (routerPass + update) + routerPass;
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Simplified MoGA: per-head k-means router → stable group sort → full attention in each group. */
export const mogaKmeans: MethodDefinition = {
  name: "moga-kmeans",
  summary:
    "Simplified Mixture-of-Groups Attention: tokens routed to G groups (k-means router on the keys " +
    "by default), full attention within a group, gated output (arXiv 2510.18692)",
  defaults: DEFAULTS,
  paramDocs: {
    groups: `number of groups G: 1..${MOGA_MAX_GROUPS}`,
    iters: `k-means iterations of the default router: 0..${MOGA_MAX_ITERS}`,
    window: "local spatio-temporal window added to every video query: off or TxHxW latent tokens",
    text: "text attended by every query, attending densely, kept out of the groups: true, false",
    router:
      "kmeans (seeded spherical k-means on each head's keys) or a .json file of [G][d] weights",
    block: "block size for block-sparsity figures and mask pictures (tokens)",
  },
  knob: {
    param: "groups",
    summary: "number of groups G: more groups are smaller (sparser)",
    grid: () => [2, 4, 8, 16, 32, 64],
  },
  create(given: Params): Method {
    const params = mogaParams(given);
    const groups = params.groups as number;
    const kmeans = params.router === "kmeans";
    const iters = params.iters as number;
    return {
      name: "moga-kmeans",
      params,
      dynamic: true,
      async layout(scenario: Scenario, context) {
        const heads = layoutHeads(scenario, context);
        const headDim = scenario.headDim;
        const separateText = params.text === true && textTokens(scenario) > 0;
        const routed = routedRange(scenario, separateText);
        const window = fittedWindow(params.window as string, scenario);
        const seeds = kmeans
          ? heads.map((head) =>
            kmeansSeedTokens({ count: routed.count, groups }, { seed: context.seed ?? 0, head })
          )
          : [];
        const weights = kmeans
          ? null
          : await readRouterFile(params.router as string, { groups, headDim });
        const { results: routings, routing, routedOn } = await routeHeads("moga-kmeans", context, {
          heads,
          router: {
            gpu: (runtime, inputs, heads) =>
              MogaGpuRouting.create(runtime, {
                routed,
                router: weights ? { weights, groups } : { seeds, iters },
                inputs,
                heads,
                headDim,
              }),
            cpu: (tensors, index) =>
              mogaRoutingReference(
                { keys: tensors.k, headDim, ...routed },
                weights ? { weights, groups } : { seeds: seeds[index], iters },
              ),
          },
        });
        const forms = routings.map((r) =>
          mogaForm(scenario, { routing: r, routed, window, blockSize: params.block as number })
        );
        const sizes = routings.flatMap(groupSizes).sort((a, b) => a - b);
        const attended = forms.reduce((sum, f) => sum + attendedPairs(f), 0);
        const executed = forms.reduce((sum, f) => sum + executedPairs(f), 0);
        const routerNote = kmeans
          ? `seeded spherical k-means (${iters} iterations, seed ${context.seed ?? 0}) on ` +
            "each head's keys, W = unit centroids"
          : `weights from ${params.router} for every head`;
        const notes = layoutNotes({
          routerNote,
          heads: heads.length,
          separateText,
          window,
          executedOverAttended: executed / attended,
        });
        return {
          forms,
          // The routing work of a head depends on the layout only: every head is counted.
          routingFlops: scenario.heads *
            mogaRoutingFlops({ routed: routed.count, groups, headDim }, {
              kmeansIters: kmeans ? iters : null,
            }),
          routing,
          stats: {
            groupMin: sizes[0],
            groupMedian: median(sizes),
            groupMax: sizes[sizes.length - 1],
            groupSizesOver: `${heads.length} head(s) × ${groups} groups`,
            attendedPairs: attended,
            executedPairs: executed,
            executedOverAttended: executed / attended,
            maskBytes: forms.reduce((sum, f) => sum + f.maskWords.byteLength, 0),
            routedOn,
          },
          notes,
        };
      },
      analyticFlops: () => null,
    };
  },
};

/** The routed tokens: the video alone when text is kept apart, else the whole sequence. */
function routedRange(scenario: Scenario, separateText: boolean): RoutedRange {
  return separateText
    ? { start: videoStart(scenario), count: videoTokens(scenario) }
    : { start: 0, count: totalTokens(scenario) };
}

/** The `window` parameter parsed, checked to fit the latent video (null when off). */
function fittedWindow(spec: string, scenario: Scenario): [number, number, number] | null {
  const window = parseWindow(spec);
  if (window && window.some((size, axis) => size > scenario.latent[axis])) {
    throw new MethodSpecError(
      `moga-kmeans: parameter "window" (${window.join("x")}) must fit the latent video ` +
        `${scenario.latent.join("x")}`,
    );
  }
  return window;
}

/** The notes of a MoGA layout: the router, what the group sizes cover, the window. */
function layoutNotes(facts: {
  routerNote: string;
  heads: number;
  separateText: boolean;
  window: [number, number, number] | null;
  executedOverAttended: number;
}): string[] {
  const { routerNote, heads, separateText, window } = facts;
  const notes = [
    `MoGA router: ${routerNote}; group = argmax W·k (ties to the lower group), gate = ` +
    "softmax(W·k) of that group",
    `MoGA group sizes (groupMin/Median/Max) are over every (head, group) of the ` +
    `${heads} head(s) routed${separateText ? ", text excluded" : ""}`,
  ];
  if (window) {
    notes.push(
      `MoGA window ${window.join("x")}: exact token-mask ranges in group-sorted order; ` +
        `executed/attended pairs = ${facts.executedOverAttended.toFixed(3)}`,
    );
  }
  return notes;
}

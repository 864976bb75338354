/**
 * Mixture-of-Groups Attention as published (arXiv 2510.18692; docs/methods.md, "Mixture-of-Groups
 * Attention"): a linear router on each video token's hidden state x gives one grouping shared by
 * every head (methods/routing/content_router.ts); a token's output is the mean of three
 * attention outputs: full attention inside its group scaled by its gate (methods/moga_form.ts),
 * the spatial-temporal group branch and per-frame attention (methods/moga_branches.ts). Text is
 * never routed: with `text=outside` (Wan, whose text enters through cross-attention) video
 * queries attend no text; with `text=joint` (MMDiT) they attend every text key in each branch.
 * The paper's group counts are the defaults: M = 5 for Wan, 20 for MMDiT models.
 *
 * The routing is one pass over the hidden states of the inputs: on the GPU when the context has
 * one and x is at most {@link GPU_ROUTER_MAX_DIMS} wide, a multiple of 4 (the router and
 * group-sort kernels of kernels/moga_routing.ts run on x instead of a head's keys), else in
 * float64 on the CPU. Today's
 * simplified form (per-head k-means on the keys) is `moga-kmeans` (methods/moga.ts).
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { HiddenStates } from "../scenarios/inputs.ts";
import {
  type ModelType,
  type Scenario,
  textTokens,
  videoStart,
  videoTokens,
} from "../scenarios/scenario.ts";
import { frameForm, spatialTemporalForm } from "./moga_branches.ts";
import {
  type LayoutContext,
  type Method,
  type MethodDefinition,
  MethodSpecError,
  type Params,
} from "./method.ts";
import type { RoutingTiming } from "../kernels/routing_program.ts";
import { MOGA_MAX_GROUPS, MOGA_MAX_ITERS, mogaRoutingFlops } from "./moga.ts";
import { mogaForm } from "./moga_form.ts";
import {
  contentKmeansSeeds,
  type ContentRouter,
  routeHiddenStates,
  seededRouterWeights,
} from "./routing/content_router.ts";
import { runGpuRouting } from "./routing/dynamic_context.ts";
import { MogaGpuRouting } from "../kernels/moga_routing.ts";
import { groupSizes, type MogaRouting, type RoutedRange } from "../kernels/moga_groups.ts";
import { readRouterFile } from "./routing/router_file.ts";
import { resolveParams } from "./spec.ts";

/** The paper's group count M per model type (5 for Wan; 20 for the MMDiT models). */
export const PAPER_GROUPS: Readonly<Record<ModelType, number>> = {
  wan: 5,
  hunyuan: 20,
  mochi: 20,
};

/** Widest hidden state routed on the GPU (the router kernel holds one x in registers). */
export const GPU_ROUTER_MAX_DIMS = 256;

const DEFAULTS: Params = {
  groups: "auto",
  // Seeded random weights send almost every synthetic token to one group; k-means centroids of
  // x stand in for a trained router.
  router: "kmeans",
  iters: 5,
  gate: true,
  text: "auto",
  partitions: [2, 2],
  adjacent: 1,
  block: 128,
};

/** The paper's MoGA parameters, validated (`groups` may be a number or `auto`). */
export function mogaPaperParams(given: Params): Params {
  const spelled = typeof given.groups === "number"
    ? { ...given, groups: String(given.groups) }
    : given;
  const params = resolveParams("moga", DEFAULTS, spelled);
  const groups = params.groups as string;
  const count = Number(groups);
  if (groups !== "auto" && !(Number.isInteger(count) && count >= 1 && count <= MOGA_MAX_GROUPS)) {
    throw new MethodSpecError(
      `moga: parameter "groups" must be auto or an integer 1..${MOGA_MAX_GROUPS} (got ${groups})`,
    );
  }
  const router = params.router as string;
  if (router !== "random" && router !== "kmeans" && !router.endsWith(".json")) {
    throw new MethodSpecError(
      `moga: parameter "router" must be kmeans, random or a path to a .json file (got ${router})`,
    );
  }
  const iters = params.iters as number;
  if (!Number.isInteger(iters) || iters < 0 || iters > MOGA_MAX_ITERS) {
    throw new MethodSpecError(
      `moga: parameter "iters" must be an integer 0..${MOGA_MAX_ITERS} (got ${iters})`,
    );
  }
  if (!["auto", "joint", "outside"].includes(params.text as string)) {
    throw new MethodSpecError(
      `moga: parameter "text" must be auto, joint or outside (got ${params.text})`,
    );
  }
  const partitions = params.partitions as number[];
  if (partitions.length !== 2 || partitions.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new MethodSpecError(
      `moga: parameter "partitions" must be RxC positive integers, e.g. 2x2 (got ${
        partitions.join("x")
      })`,
    );
  }
  const adjacent = params.adjacent as number;
  if (!Number.isInteger(adjacent) || adjacent < 0) {
    throw new MethodSpecError(
      `moga: parameter "adjacent" must be an integer ≥ 0 (got ${adjacent})`,
    );
  }
  const block = params.block as number;
  if (!Number.isInteger(block) || block < 1) {
    throw new MethodSpecError(`moga: parameter "block" must be an integer ≥ 1 (got ${block})`);
  }
  return params;
}

/** The group count and text mode for `scenario` (`auto` resolved by the model type). */
export function resolvedMogaSettings(
  params: Params,
  scenario: Scenario,
): { groups: number; textKeys: boolean } {
  const groups = params.groups === "auto"
    ? PAPER_GROUPS[scenario.modelType]
    : Number(params.groups);
  const text = params.text === "auto"
    ? (scenario.modelType === "wan" ? "outside" : "joint")
    : params.text;
  return { groups, textKeys: text === "joint" };
}

/** Routes the hidden states on the GPU (x uploaded as one f32 buffer) and times the routing. */
async function routeOnGpu(
  runtime: GpuRuntime,
  job: {
    hidden: HiddenStates;
    routed: RoutedRange;
    router: ContentRouter;
    context: LayoutContext;
  },
): Promise<{ routing: MogaRouting; timing?: RoutingTiming }> {
  const { hidden, routed, router, context } = job;
  const x = runtime.upload("moga-hidden-states", hidden.x);
  try {
    const program = await MogaGpuRouting.create(runtime, {
      routed,
      router: "seeds" in router
        ? { seeds: [router.seeds], iters: router.iters }
        : { weights: Float32Array.from(router.weights), groups: router.groups },
      inputs: { precision: "f32", q: [], k: [x], v: [] },
      heads: [0],
      headDim: hidden.dims,
    });
    const { result, routing } = await runGpuRouting(runtime, {
      program,
      read: () => program.read(),
      context,
    });
    return { routing: result[0], timing: routing };
  } finally {
    runtime.release([x]);
  }
}

/** The record notes: which router ran, the gate, the branches, the text mode, the assumptions. */
function paperNotes(
  params: Params,
  facts: {
    dims: number;
    routed: number;
    groups: number;
    seed: number;
    textKeys: boolean;
    hasText: boolean;
  },
): string[] {
  const { dims, routed, groups, seed, textKeys, hasText } = facts;
  const router = params.router === "random"
    ? `seeded untrained weights (seed ${seed})`
    : params.router === "kmeans"
    ? `W = seeded spherical k-means centroids of x (${params.iters} iterations, seed ${seed}; ` +
      "fitted to these inputs as a stand-in for a trained router)"
    : `weights from ${params.router}`;
  const trained = params.router === "random" || params.router === "kmeans"
    ? "the router is untrained here, so the gate is too"
    : "the gate is as trained as the router file";
  const text = !hasText
    ? "MoGA: no text tokens in this scenario"
    : textKeys
    ? "MoGA text joint (MMDiT): text is not routed; video queries attend all text in each " +
      "branch; text queries attend everything"
    : "MoGA text outside (cross-attention model): video queries attend no text; text queries " +
      "attend everything (not part of the paper's visual blocks)";
  const partitions = (params.partitions as number[]).join("x");
  return [
    `MoGA as published: router on the hidden states x (${dims} dims), ${router}, one grouping ` +
    `of the ${routed} video tokens for all heads into ${groups} groups (argmax, ties to the ` +
    "lower group)",
    params.gate
      ? `MoGA gate ON: group output × softmax probability of the chosen group; ${trained} ` +
        "(compare moga:gate=false)"
      : `MoGA gate OFF: group output unscaled; ${trained}`,
    `MoGA output = mean of group attention${params.gate ? " (gated)" : ""}, spatial-temporal ` +
    `groups (${partitions} spatial partitions, each shot's frames ± ${params.adjacent} frame(s) ` +
    "of the neighbouring shots) and per-frame attention; FLOPs count all three; recall uses the " +
    "largest branch LSE (a lower bound); crossShotRecall is of the group branch",
    text,
    "MoGA assumptions: spatial partitions and adjacent-shot frames are Longshot's choice (the " +
    "paper fixes neither in a form we can reproduce)",
  ];
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** MoGA as published: content router, gated groups + spatial-temporal groups + per-frame. */
export const mogaPaper: MethodDefinition = {
  name: "moga",
  summary: "Mixture-of-Groups Attention as published: a router on each token's hidden state, one " +
    "grouping for all heads, mean of gated group, spatial-temporal group and per-frame " +
    "attention (arXiv 2510.18692)",
  defaults: DEFAULTS,
  paramDocs: {
    groups:
      `number of groups M: auto (5 for wan, 20 for hunyuan and mochi) or 1..${MOGA_MAX_GROUPS}`,
    router: "kmeans (W = seeded spherical k-means centroids of x, a stand-in for a trained " +
      "router), random (seeded untrained linear router) or a .json file of [M][hidden dims] weights",
    iters: `k-means iterations of router=kmeans: 0..${MOGA_MAX_ITERS}`,
    gate: "scale each token's group output by its router probability: true, false",
    text: "auto (outside for wan, joint otherwise), joint (video queries attend the text) or " +
      "outside (text only through cross-attention, not in these blocks)",
    partitions: "spatial partitions RxC of the frame in the spatial-temporal branch",
    adjacent: "frames of each neighbouring shot a shot's temporal group reaches (≥ 0)",
    block: "block size for block-sparsity figures and mask pictures (tokens)",
  },
  knob: {
    param: "groups",
    summary: "number of groups M: more groups are smaller (sparser)",
    grid: () => [2, 5, 10, 20, 40],
  },
  create(given: Params): Method {
    const params = mogaPaperParams(given);
    const partitions = params.partitions as [number, number];
    const adjacent = params.adjacent as number;
    const blockSize = params.block as number;
    return {
      name: "moga",
      params,
      dynamic: true,
      async layout(scenario: Scenario, context) {
        const { groups, textKeys } = resolvedMogaSettings(params, scenario);
        const [, H, W] = scenario.latent;
        if (partitions[0] > H || partitions[1] > W) {
          throw new MethodSpecError(
            `moga: parameter "partitions" (${partitions.join("x")}) must fit the latent frame ` +
              `${H}x${W}`,
          );
        }
        const hidden = await context.inputs?.hidden?.();
        if (!hidden) {
          throw new MethodSpecError(
            "moga: the router reads the hidden states x, and these inputs have none (synthetic " +
              "inputs do; file inputs need an x tensor); use moga-kmeans to route on the keys",
          );
        }
        const routed: RoutedRange = { start: videoStart(scenario), count: videoTokens(scenario) };
        const seed = context.seed ?? 0;
        const kmeans = params.router === "kmeans";
        const iters = params.iters as number;
        const router: ContentRouter = kmeans
          ? { seeds: contentKmeansSeeds({ count: routed.count, groups }, { seed }), iters }
          : {
            weights: params.router === "random"
              ? seededRouterWeights({ groups, dims: hidden.dims }, { seed })
              : await readRouterFile(params.router as string, { groups, headDim: hidden.dims }),
            groups,
          };
        // Routed on the GPU when the case runs there (its Q/K/V uploaded), as MoC and moga-kmeans.
        const onGpu = hidden.dims % 4 === 0 && hidden.dims <= GPU_ROUTER_MAX_DIMS &&
            context.gpu && context.gpuInputs
          ? { gpu: context.gpu }
          : null;
        let routing: MogaRouting;
        let timing: RoutingTiming | undefined;
        if (onGpu) {
          ({ routing, timing } = await routeOnGpu(onGpu.gpu, { hidden, routed, router, context }));
        } else {
          routing = routeHiddenStates(hidden, { routed, router });
        }
        const group = mogaForm(scenario, { routing, routed, window: null, blockSize, textKeys });
        const forms = [params.gate ? group : { ...group, outputScale: null }];
        const options = { textKeys, blockSize };
        const sizes = groupSizes(routing).sort((a, b) => a - b);
        return {
          forms,
          branches: [
            {
              name: "spatial-temporal",
              forms: [spatialTemporalForm(scenario, { ...options, partitions, adjacent })],
            },
            { name: "frame", forms: [frameForm(scenario, options)] },
          ],
          // One routing for all heads.
          routingFlops: mogaRoutingFlops(
            { routed: routed.count, groups, headDim: hidden.dims },
            { kmeansIters: kmeans ? iters : null },
          ),
          routing: timing,
          params: { ...params, groups, text: textKeys ? "joint" : "outside" },
          stats: {
            groupMin: sizes[0],
            groupMedian: median(sizes),
            groupMax: sizes[sizes.length - 1],
            groupSizesOver: `1 grouping (all heads) × ${groups} groups`,
            routedOn: onGpu ? "gpu" : "cpu-float64",
          },
          notes: paperNotes(params, {
            dims: hidden.dims,
            routed: routed.count,
            groups,
            seed,
            textKeys,
            hasText: textTokens(scenario) > 0,
          }),
        };
      },
      analyticFlops: () => null,
    };
  },
};

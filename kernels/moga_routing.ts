/**
 * MoGA routing on the GPU (docs/methods.md, "Mixture-of-Groups Attention"): the seeded spherical
 * k-means that builds the default router (initialisation, then `iters` rounds of assignment with
 * per-block key sums → centroid update), the final router pass (group, gate and in-block rank of
 * every routed token) and the stable counting sort that gives the group-sorted order. Every
 * dispatch covers every head of a batch (as many heads as the device's storage bindings allow,
 * kernels/head_bindings.ts): 1 + 2·iters + 3 dispatches a batch, nothing read back between them.
 * With a given router the k-means is skipped. Rules: kernels/moga_groups.ts; float64 twin:
 * methods/routing/moga_reference.ts.
 *
 * @module
 */
import { type Binding, bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import {
  GROUP_BLOCK_SCAN_BINDINGS,
  GROUP_SCATTER_BINDINGS,
  groupBlockScanWgsl,
  groupScatterWgsl,
} from "./group_sort_wgsl.ts";
import { batches, concatPerHead, headsPerDispatch, perHeadBuffers } from "./head_bindings.ts";
import {
  KMEANS_INIT_OTHER_STORAGE,
  KMEANS_UPDATE_BINDINGS,
  kmeansInitBindings,
  kmeansInitWgsl,
  kmeansUpdateWgsl,
} from "./kmeans_update_wgsl.ts";
import {
  checkRouterFits,
  ROUTE_BLOCK,
  ROUTER_OTHER_STORAGE,
  routerBindings,
  routerLogitsWgsl,
  type RouterVariant,
} from "./router_logits_wgsl.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import {
  poisonBuffers,
  readFloat32,
  readUint32,
  type RoutingProgram,
  type RoutingStep,
} from "./routing_program.ts";
import type { MogaRouting, RoutedRange } from "./moga_groups.ts";

/** The router: k-means from per-head seed tokens, or given weights [G, d] for every head. */
export type MogaGpuRouter =
  | { seeds: Uint32Array[]; iters: number }
  | { weights: Float32Array; groups: number };

/** What {@link MogaGpuRouting.create} needs. */
export interface MogaGpuOptions {
  /** The routed tokens. */
  routed: RoutedRange;
  /** The router (k-means seeds are one list per entry of `heads`). */
  router: MogaGpuRouter;
  /** Q/K/V on the GPU (every head). */
  inputs: GpuQkv;
  /** Heads to route, in output order. */
  heads: number[];
  /** Head dimension d (a multiple of 4). */
  headDim: number;
  /**
   * Workgroup memory the router kernels may use, bytes (default, and at most, the device's
   * maxComputeWorkgroupStorageSize): a smaller value lays them out as on a smaller device.
   */
  workgroupLimit?: number;
}

/** Stage names of the MoGA routing steps (the keys of the record's routing stages). */
export const MOGA_STAGES = {
  init: "kmeans-init",
  assign: "kmeans-assign",
  update: "kmeans-update",
  route: "route",
  scan: "sort-scan",
  scatter: "sort-scatter",
} as const;

/** The pipelines of one batch size (heads bound a dispatch); k-means ones only for seeds. */
interface Pipelines {
  kmeans: {
    init: GPUComputePipeline;
    accumulate: GPUComputePipeline;
    update: GPUComputePipeline;
  } | null;
  route: GPUComputePipeline;
  scan: GPUComputePipeline;
  scatter: GPUComputePipeline;
}

/** One batch of heads: its bind groups, grids and the outputs read back. */
interface BatchWork {
  heads: number;
  kmeans: { init: GPUBindGroup; accumulate: GPUBindGroup; update: GPUBindGroup } | null;
  route: GPUBindGroup;
  scan: GPUBindGroup;
  scatter: GPUBindGroup;
  outputs: { assignment: GPUBuffer; gate: GPUBuffer; permutation: GPUBuffer; offsets: GPUBuffer };
  pipelines: Pipelines;
}

/** MoGA's routing program for every requested head. */
export class MogaGpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  /** The dispatches in run order, by stage. */
  readonly steps: readonly RoutingStep[];
  readonly #runtime: GpuRuntime;
  readonly #groups: number;
  readonly #count: number;
  readonly #batches: BatchWork[];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      groups: number;
      count: number;
      iters: number;
      batches: BatchWork[];
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#groups = parts.groups;
    this.#count = parts.count;
    this.#batches = parts.batches;
    this.#buffers = parts.buffers;
    this.steps = routingSteps(parts.batches, {
      groups: parts.groups,
      blocks: Math.ceil(parts.count / ROUTE_BLOCK),
      iters: parts.batches[0]?.kmeans ? parts.iters : 0,
    });
  }

  /** Compiles the kernels and binds every batch of heads. */
  static async create(runtime: GpuRuntime, options: MogaGpuOptions): Promise<MogaGpuRouting> {
    const { routed, router, inputs, heads, headDim } = options;
    const deviceLimit = runtime.device.limits.maxComputeWorkgroupStorageSize;
    const workgroupLimit = Math.min(options.workgroupLimit ?? deviceLimit, deviceLimit);
    const groups = "seeds" in router ? router.seeds[0].length : router.groups;
    const blocks = Math.ceil(routed.count / ROUTE_BLOCK);
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    if (blocks > limit) {
      throw new RangeError(
        `moga: ${routed.count} routed tokens need ${blocks} router blocks, over ${limit}`,
      );
    }
    const size = headsPerDispatch(runtime.device, {
      perHead: 1,
      others: Math.max(ROUTER_OTHER_STORAGE.route, KMEANS_INIT_OTHER_STORAGE),
    });
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const shared = sharedBuffers(runtime, own, { routed, router, groups, headDim });
    const compiled = new Map<number, Promise<{ pipelines: Pipelines; compileMs: number }>>();
    const work: BatchWork[] = [];
    let compileMs = 0;
    let first = 0;
    for (const batch of batches(heads, size)) {
      if (!compiled.has(batch.length)) {
        compiled.set(
          batch.length,
          compilePipelines(runtime, {
            headDim,
            precision: inputs.precision,
            groups,
            heads: batch.length,
            workgroupLimit,
            kmeans: "seeds" in router,
          }),
        );
        compileMs += (await compiled.get(batch.length)!).compileMs;
      }
      const { pipelines } = await compiled.get(batch.length)!;
      const seeds = "seeds" in router ? router.seeds.slice(first, first + batch.length) : null;
      first += batch.length;
      const keys = batch.map((h) => inputs.k[h]);
      work.push(bindBatch(runtime, own, { pipelines, keys, seeds, shared, groups, headDim }));
    }
    return new MogaGpuRouting(runtime, {
      compileMs,
      groups,
      count: routed.count,
      iters: "seeds" in router ? router.iters : 0,
      batches: work,
      buffers,
    });
  }

  /** The routings of the last run, one per head in the order asked for. */
  async read(): Promise<MogaRouting[]> {
    const routings: MogaRouting[] = [];
    const count = this.#count;
    const groups = this.#groups;
    for (const batch of this.#batches) {
      const { assignment, gate, permutation, offsets } = batch.outputs;
      const read = {
        assignment: await readUint32(this.#runtime, assignment),
        gate: await readFloat32(this.#runtime, gate),
        permutation: await readUint32(this.#runtime, permutation),
        offsets: await readUint32(this.#runtime, offsets),
      };
      for (let h = 0; h < batch.heads; h++) {
        routings.push({
          groups,
          assignment: read.assignment.slice(h * count, (h + 1) * count),
          gate: read.gate.slice(h * count, (h + 1) * count),
          permutation: read.permutation.slice(h * count, (h + 1) * count),
          groupOffsets: read.offsets.slice(h * (groups + 1), (h + 1) * (groups + 1)),
        });
      }
    }
    return routings;
  }

  /** Poisons every output read back ({@link poisonBuffers}) before a run that must write it all. */
  poisonOutputs(): void {
    poisonBuffers(this.#runtime, this.#batches.flatMap((b) => Object.values(b.outputs)));
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/** The steps of a run: k-means init, `iters` rounds of assign + update, route, scan, scatter. */
function routingSteps(
  work: BatchWork[],
  sizes: { groups: number; blocks: number; iters: number },
): RoutingStep[] {
  const { groups, blocks, iters } = sizes;
  const step = (
    stage: string,
    pick: (batch: BatchWork) => [GPUComputePipeline, GPUBindGroup],
    grid: (batch: BatchWork) => [number, number],
  ): RoutingStep => ({
    stage,
    encode(pass) {
      for (const batch of work) {
        const [pipeline, group] = pick(batch);
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(...grid(batch));
      }
    },
  });
  const perGroup = (batch: BatchWork): [number, number] => [groups, batch.heads];
  const perBlock = (batch: BatchWork): [number, number] => [blocks, batch.heads];
  const steps: RoutingStep[] = [];
  if (work[0]?.kmeans) {
    steps.push(step(MOGA_STAGES.init, (b) => [b.pipelines.kmeans!.init, b.kmeans!.init], perGroup));
    for (let iter = 0; iter < iters; iter++) {
      steps.push(
        step(
          MOGA_STAGES.assign,
          (b) => [b.pipelines.kmeans!.accumulate, b.kmeans!.accumulate],
          perBlock,
        ),
        step(MOGA_STAGES.update, (b) => [b.pipelines.kmeans!.update, b.kmeans!.update], perGroup),
      );
    }
  }
  steps.push(
    step(MOGA_STAGES.route, (b) => [b.pipelines.route, b.route], perBlock),
    step(MOGA_STAGES.scan, (b) => [b.pipelines.scan, b.scan], perGroup),
    step(MOGA_STAGES.scatter, (b) => [b.pipelines.scatter, b.scatter], perBlock),
  );
  return steps;
}

/**
 * Compiles (or takes from the runtime's cache) the MoGA pipelines for `heads` a dispatch: the
 * router pass and the sort, and the three k-means kernels when `kmeans` is set.
 */
async function compilePipelines(
  runtime: GpuRuntime,
  config: {
    headDim: number;
    precision: "f32" | "f16";
    groups: number;
    heads: number;
    workgroupLimit: number;
    kmeans: boolean;
  },
): Promise<{ pipelines: Pipelines; compileMs: number }> {
  const { headDim, precision, groups, heads, workgroupLimit } = config;
  const keyOf = (name: string) =>
    `moga-${name}:d${headDim}:${precision}:g${groups}:h${heads}:w${workgroupLimit}`;
  const compile = (name: string, code: string, bindings: readonly Binding[]) =>
    runtime.pipeline(keyOf(name), code, bindingKinds(bindings));
  const kernel = (variant: RouterVariant) => ({
    variant,
    headDim,
    precision,
    groups,
    heads,
    workgroupLimit,
  });
  const variants: RouterVariant[] = config.kmeans ? ["route", "accumulate"] : ["route"];
  // Every router variant is checked before any pipeline starts compiling.
  for (const variant of variants) checkRouterFits(kernel(variant));
  const router = (variant: RouterVariant) =>
    compile(`router-${variant}`, routerLogitsWgsl(kernel(variant)), routerBindings(variant, heads));
  const always = await Promise.all([
    router("route"),
    compile("sort-scan", groupBlockScanWgsl(groups), GROUP_BLOCK_SCAN_BINDINGS),
    compile("sort-scatter", groupScatterWgsl(groups), GROUP_SCATTER_BINDINGS),
  ]);
  const kmeans = config.kmeans
    ? await Promise.all([
      compile(
        "kmeans-init",
        kmeansInitWgsl({ headDim, precision, groups, heads }),
        kmeansInitBindings(heads),
      ),
      router("accumulate"),
      compile("kmeans-update", kmeansUpdateWgsl({ headDim, groups }), KMEANS_UPDATE_BINDINGS),
    ])
    : [];
  const [route, scan, scatter] = always.map((c) => c.pipeline);
  const [init, accumulate, update] = kmeans.map((c) => c.pipeline);
  return {
    pipelines: {
      kmeans: config.kmeans ? { init, accumulate, update } : null,
      route,
      scan,
      scatter,
    },
    compileMs: [...always, ...kmeans].reduce((sum, c) => sum + c.compileMs, 0),
  };
}

/** Buffers every batch shares: the uniforms and a given router's weights. */
interface SharedBuffers {
  /** Router kernel params: count, rowOffset, blocks, routerStride (vec4s a head). */
  routerParams: GPUBuffer;
  /** K-means params: count, rowOffset, blocks. */
  kmeansParams: GPUBuffer;
  /** Sort params: count, blocks. */
  sortParams: GPUBuffer;
  givenWeights: GPUBuffer | null;
  count: number;
  blocks: number;
}

function sharedBuffers(
  runtime: GpuRuntime,
  own: (buffer: GPUBuffer) => GPUBuffer,
  config: { routed: RoutedRange; router: MogaGpuRouter; groups: number; headDim: number },
): SharedBuffers {
  const { routed, router, groups, headDim } = config;
  const blocks = Math.ceil(routed.count / ROUTE_BLOCK);
  const uniform = (label: string, words: number[]) =>
    own(runtime.uniform(label, Uint32Array.from(words)));
  const routerStride = "weights" in router ? 0 : groups * headDim / 4;
  return {
    routerParams: uniform("moga-router-params", [routed.count, routed.start, blocks, routerStride]),
    kmeansParams: uniform("moga-kmeans-params", [routed.count, routed.start, blocks, 0]),
    sortParams: uniform("moga-sort-params", [routed.count, blocks, 0, 0]),
    givenWeights: "weights" in router ? own(runtime.upload("moga-router", router.weights)) : null,
    count: routed.count,
    blocks,
  };
}

/** One batch's buffers and bind groups; the k-means ones only when `seeds` are given. */
function bindBatch(
  runtime: GpuRuntime,
  own: (buffer: GPUBuffer) => GPUBuffer,
  config: {
    pipelines: Pipelines;
    keys: GPUBuffer[];
    seeds: Uint32Array[] | null;
    shared: SharedBuffers;
    groups: number;
    headDim: number;
  },
): BatchWork {
  const { pipelines, keys, seeds, shared, groups, headDim } = config;
  const { count, blocks, routerParams, kmeansParams, sortParams } = shared;
  const heads = keys.length;
  const buffer = (name: string, bytes: number) => own(runtime.buffer(`moga-${name}`, bytes));
  const router = shared.givenWeights ?? buffer("router", heads * groups * headDim * 4);
  const assignment = buffer("assignment", heads * count * 4);
  const gate = buffer("gate", heads * count * 4);
  const ranks = buffer("ranks", heads * count * 4);
  const counts = buffer("counts", heads * blocks * groups * 4);
  const groupTotals = buffer("group-totals", heads * groups * 4);
  const offsets = buffer("offsets", heads * (groups + 1) * 4);
  const permutation = buffer("permutation", heads * count * 4);
  let kmeans: BatchWork["kmeans"] = null;
  if (seeds !== null) {
    const seedBuffer = own(runtime.upload("moga-seeds", concatPerHead(seeds)));
    const partials = buffer("partials", heads * blocks * groups * headDim * 4);
    kmeans = {
      init: bindNamed(runtime, pipelines.kmeans!.init, kmeansInitBindings(heads), {
        ...perHeadBuffers("keys", keys),
        seeds: seedBuffer,
        router,
        params: kmeansParams,
      }),
      accumulate: bindNamed(
        runtime,
        pipelines.kmeans!.accumulate,
        routerBindings("accumulate", heads),
        {
          ...perHeadBuffers("keys", keys),
          router,
          partials,
          params: routerParams,
        },
      ),
      update: bindNamed(runtime, pipelines.kmeans!.update, KMEANS_UPDATE_BINDINGS, {
        partials,
        router,
        params: kmeansParams,
      }),
    };
  }
  return {
    heads,
    kmeans,
    route: bindNamed(runtime, pipelines.route, routerBindings("route", heads), {
      ...perHeadBuffers("keys", keys),
      router,
      assignment,
      gate,
      ranks,
      counts,
      params: routerParams,
    }),
    scan: bindNamed(runtime, pipelines.scan, GROUP_BLOCK_SCAN_BINDINGS, {
      counts,
      groupTotals,
      params: sortParams,
    }),
    scatter: bindNamed(runtime, pipelines.scatter, GROUP_SCATTER_BINDINGS, {
      assignment,
      ranks,
      counts,
      groupTotals,
      offsets,
      permutation,
      params: sortParams,
    }),
    outputs: { assignment, gate, permutation, offsets },
    pipelines,
  };
}

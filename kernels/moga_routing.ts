/**
 * MoGA routing on the GPU (docs/methods.md, "Mixture-of-Groups Attention"): per head, the seeded
 * spherical k-means that builds the default router (initialisation, then `iters` rounds of router
 * pass → stable group sort → centroid update), the final router pass (group and gate of every
 * routed token) and the stable counting sort that gives the group-sorted order, all heads in one
 * compute pass. With a given router the k-means is skipped. Rules: kernels/moga_groups.ts;
 * float64 twin: methods/routing/moga_reference.ts.
 *
 * @module
 */
import { type Binding, bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { dispatchGrid } from "./attention.ts";
import {
  GROUP_BLOCK_SCAN_BINDINGS,
  GROUP_HISTOGRAM_BINDINGS,
  GROUP_OFFSETS_BINDINGS,
  GROUP_SCATTER_BINDINGS,
  groupBlockScanWgsl,
  groupHistogramWgsl,
  groupOffsetsWgsl,
  groupScatterWgsl,
  SORT_BLOCK,
  SORT_WORKGROUP,
} from "./group_sort_wgsl.ts";
import {
  KMEANS_NORMALIZE_BINDINGS,
  KMEANS_PARTIAL_BINDINGS,
  KMEANS_SPLITS,
  kmeansNormalizeWgsl,
  kmeansPartialSumsWgsl,
} from "./kmeans_update_wgsl.ts";
import { ROUTER_BINDINGS, ROUTER_WORKGROUP, routerLogitsWgsl } from "./router_logits_wgsl.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import { readFloat32, readUint32, type RoutingProgram } from "./routing_program.ts";
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
}

/** The k-means bind groups of one head: initialisation and update, each partial sums then normalise. */
interface KmeansWork {
  initPartial: GPUBindGroup;
  initNormalize: GPUBindGroup;
  updatePartial: GPUBindGroup;
  updateNormalize: GPUBindGroup;
}

interface HeadWork {
  kmeans: KmeansWork | null;
  route: GPUBindGroup;
  histogram: GPUBindGroup;
  blockScan: GPUBindGroup;
  groupOffsets: GPUBindGroup;
  scatter: GPUBindGroup;
  assignment: GPUBuffer;
  gate: GPUBuffer;
  permutation: GPUBuffer;
  offsets: GPUBuffer;
}

interface Pipelines {
  partial: GPUComputePipeline;
  normalize: GPUComputePipeline;
  route: GPUComputePipeline;
  histogram: GPUComputePipeline;
  blockScan: GPUComputePipeline;
  groupOffsets: GPUComputePipeline;
  scatter: GPUComputePipeline;
}

/** A compiled MoGA routing: pipelines, per-head bind groups, grid sizes and owned buffers. */
interface MogaRoutingParts {
  compileMs: number;
  groups: number;
  iters: number;
  routerGrid: [number, number];
  sortGroups: number;
  pipelines: Pipelines;
  heads: HeadWork[];
  buffers: GPUBuffer[];
}

/** MoGA's routing program for every requested head. */
export class MogaGpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  readonly #runtime: GpuRuntime;
  readonly #parts: MogaRoutingParts;

  private constructor(runtime: GpuRuntime, parts: MogaRoutingParts) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#parts = parts;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: MogaGpuOptions): Promise<MogaGpuRouting> {
    const { routed, router, inputs, heads, headDim } = options;
    const groups = "seeds" in router ? router.seeds[0].length : router.groups;
    const compiled = await compilePipelines(runtime, {
      headDim,
      precision: inputs.precision,
      groups,
    });
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const routerGrid = dispatchGrid(Math.ceil(routed.count / ROUTER_WORKGROUP), limit);
    const blocks = Math.ceil(routed.count / SORT_BLOCK);
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const shared = sharedBuffers(runtime, own, { routed, router, groups, routerGrid, blocks });
    const sizes = { routed: routed.count, groups, blocks, headDim };
    const work = heads.map((h, index): HeadWork => {
      const seeds = "seeds" in router ? router.seeds[index] : null;
      const head = headBuffers(runtime, own, { head: h, sizes, seeds, shared });
      return bindHead(runtime, compiled.pipelines, { keys: inputs.k[h], head, shared });
    });
    return new MogaGpuRouting(runtime, {
      compileMs: compiled.compileMs,
      groups,
      iters: "seeds" in router ? router.iters : 0,
      routerGrid,
      sortGroups: Math.ceil(blocks / SORT_WORKGROUP),
      pipelines: compiled.pipelines,
      heads: work,
      buffers,
    });
  }

  #dispatch(
    pass: GPUComputePassEncoder,
    pipeline: GPUComputePipeline,
    group: GPUBindGroup,
    grid: [number, number?],
  ): void {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(...grid);
  }

  #centroids(pass: GPUComputePassEncoder, partial: GPUBindGroup, normalize: GPUBindGroup): void {
    this.#dispatch(pass, this.#parts.pipelines.partial, partial, [
      KMEANS_SPLITS,
      this.#parts.groups,
    ]);
    this.#dispatch(pass, this.#parts.pipelines.normalize, normalize, [this.#parts.groups]);
  }

  #routeAndSort(pass: GPUComputePassEncoder, head: HeadWork): void {
    const p = this.#parts.pipelines;
    this.#dispatch(pass, p.route, head.route, this.#parts.routerGrid);
    this.#dispatch(pass, p.histogram, head.histogram, [this.#parts.sortGroups]);
    this.#dispatch(pass, p.blockScan, head.blockScan, [this.#parts.groups]);
    this.#dispatch(pass, p.groupOffsets, head.groupOffsets, [1]);
    this.#dispatch(pass, p.scatter, head.scatter, [this.#parts.sortGroups]);
  }

  /** Encodes k-means (when the router is built), the router pass and the sort, every head. */
  encode(pass: GPUComputePassEncoder): void {
    for (const head of this.#parts.heads) {
      if (head.kmeans) {
        this.#centroids(pass, head.kmeans.initPartial, head.kmeans.initNormalize);
        for (let iter = 0; iter < this.#parts.iters; iter++) {
          this.#routeAndSort(pass, head);
          this.#centroids(pass, head.kmeans.updatePartial, head.kmeans.updateNormalize);
        }
      }
      this.#routeAndSort(pass, head);
    }
  }

  /** The routings of the last run, one per head in the order asked for. */
  async read(): Promise<MogaRouting[]> {
    const routings: MogaRouting[] = [];
    for (const head of this.#parts.heads) {
      routings.push({
        groups: this.#parts.groups,
        assignment: await readUint32(this.#runtime, head.assignment),
        gate: await readFloat32(this.#runtime, head.gate),
        permutation: await readUint32(this.#runtime, head.permutation),
        groupOffsets: await readUint32(this.#runtime, head.offsets),
      });
    }
    return routings;
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#parts.buffers);
  }
}

/** Compiles (or takes from the runtime's cache) the seven MoGA pipelines. */
async function compilePipelines(
  runtime: GpuRuntime,
  config: { headDim: number; precision: "f32" | "f16"; groups: number },
): Promise<{ pipelines: Pipelines; compileMs: number }> {
  const { headDim, precision, groups } = config;
  const keyOf = (name: string) => `moga-${name}:d${headDim}:${precision}:g${groups}`;
  const compile = (name: string, code: string, bindings: readonly Binding[]) =>
    runtime.pipeline(keyOf(name), code, bindingKinds(bindings));
  const compiled = await Promise.all([
    compile(
      "kmeans-partial",
      kmeansPartialSumsWgsl({ headDim, precision }),
      KMEANS_PARTIAL_BINDINGS,
    ),
    compile("kmeans-normalize", kmeansNormalizeWgsl(headDim), KMEANS_NORMALIZE_BINDINGS),
    compile("router", routerLogitsWgsl({ headDim, precision, groups }), ROUTER_BINDINGS),
    compile("histogram", groupHistogramWgsl(groups), GROUP_HISTOGRAM_BINDINGS),
    compile("block-scan", groupBlockScanWgsl(groups), GROUP_BLOCK_SCAN_BINDINGS),
    compile("offsets", groupOffsetsWgsl(groups), GROUP_OFFSETS_BINDINGS),
    compile("scatter", groupScatterWgsl(groups), GROUP_SCATTER_BINDINGS),
  ]);
  const [partial, normalize, route, histogram, blockScan, groupOffsets, scatter] = compiled.map(
    (c) => c.pipeline,
  );
  return {
    pipelines: { partial, normalize, route, histogram, blockScan, groupOffsets, scatter },
    compileMs: compiled.reduce((sum, c) => sum + c.compileMs, 0),
  };
}

/** Buffers every head shares: the uniforms, the seed offsets and a given router's weights. */
interface SharedBuffers {
  routerParams: GPUBuffer;
  sortParams: GPUBuffer;
  initParams: GPUBuffer;
  updateParams: GPUBuffer;
  seedOffsets: GPUBuffer;
  givenWeights: GPUBuffer | null;
}

function sharedBuffers(
  runtime: GpuRuntime,
  own: (buffer: GPUBuffer) => GPUBuffer,
  config: {
    routed: RoutedRange;
    router: MogaGpuRouter;
    groups: number;
    routerGrid: [number, number];
    blocks: number;
  },
): SharedBuffers {
  const { routed, router, groups, routerGrid, blocks } = config;
  const uniform = (label: string, words: number[]) =>
    own(runtime.uniform(label, Uint32Array.from(words)));
  return {
    routerParams: uniform("moga-router-params", [routed.count, routed.start, routerGrid[0], 0]),
    sortParams: uniform("moga-sort-params", [routed.count, blocks, 0, 0]),
    initParams: uniform("moga-init-params", [routed.start, 0, 0, 0]),
    updateParams: uniform("moga-update-params", [routed.start, 1, 0, 0]),
    seedOffsets: own(
      runtime.upload("moga-seed-offsets", Uint32Array.from({ length: groups + 1 }, (_, g) => g)),
    ),
    givenWeights: "weights" in router ? own(runtime.upload("moga-router", router.weights)) : null,
  };
}

/** One head's own buffers; `seeds` and `partials` only when the router is k-means. */
interface HeadBuffers {
  weights: GPUBuffer;
  assignment: GPUBuffer;
  gate: GPUBuffer;
  counts: GPUBuffer;
  totals: GPUBuffer;
  offsets: GPUBuffer;
  permutation: GPUBuffer;
  kmeans: { seeds: GPUBuffer; partials: GPUBuffer } | null;
}

function headBuffers(
  runtime: GpuRuntime,
  own: (buffer: GPUBuffer) => GPUBuffer,
  config: {
    head: number;
    sizes: { routed: number; groups: number; blocks: number; headDim: number };
    seeds: Uint32Array | null;
    shared: SharedBuffers;
  },
): HeadBuffers {
  const { head: h, seeds, shared } = config;
  const { routed, groups, blocks, headDim } = config.sizes;
  const buffer = (name: string, bytes: number) => own(runtime.buffer(`moga-${name}[${h}]`, bytes));
  return {
    weights: shared.givenWeights ?? buffer("router", groups * headDim * 4),
    assignment: buffer("assignment", routed * 4),
    gate: buffer("gate", routed * 4),
    counts: buffer("counts", blocks * groups * 4),
    totals: buffer("group-totals", groups * 4),
    offsets: buffer("offsets", (groups + 1) * 4),
    permutation: buffer("permutation", routed * 4),
    kmeans: seeds === null ? null : {
      seeds: own(runtime.upload(`moga-seeds[${h}]`, seeds)),
      partials: buffer("partials", groups * KMEANS_SPLITS * headDim * 4),
    },
  };
}

/** The bind groups of one head, every buffer given by its WGSL name. */
function bindHead(
  runtime: GpuRuntime,
  pipelines: Pipelines,
  config: { keys: GPUBuffer; head: HeadBuffers; shared: SharedBuffers },
): HeadWork {
  const { keys, head, shared } = config;
  const { weights, assignment, gate, counts, totals, offsets, permutation } = head;
  const { routerParams, sortParams } = shared;
  let kmeans: KmeansWork | null = null;
  if (head.kmeans !== null) {
    const { seeds, partials } = head.kmeans;
    const { seedOffsets, initParams, updateParams } = shared;
    const partial = (members: GPUBuffer, offsets: GPUBuffer, params: GPUBuffer) =>
      bindNamed(runtime, pipelines.partial, KMEANS_PARTIAL_BINDINGS, {
        keys,
        members,
        offsets,
        partials,
        params,
      });
    const normalize = (offsets: GPUBuffer, params: GPUBuffer) =>
      bindNamed(runtime, pipelines.normalize, KMEANS_NORMALIZE_BINDINGS, {
        partials,
        offsets,
        router: weights,
        params,
      });
    kmeans = {
      initPartial: partial(seeds, seedOffsets, initParams),
      initNormalize: normalize(seedOffsets, initParams),
      updatePartial: partial(permutation, offsets, updateParams),
      updateNormalize: normalize(offsets, updateParams),
    };
  }
  return {
    kmeans,
    route: bindNamed(runtime, pipelines.route, ROUTER_BINDINGS, {
      keys,
      router: weights,
      assignment,
      gate,
      params: routerParams,
    }),
    histogram: bindNamed(runtime, pipelines.histogram, GROUP_HISTOGRAM_BINDINGS, {
      assignment,
      counts,
      params: sortParams,
    }),
    blockScan: bindNamed(runtime, pipelines.blockScan, GROUP_BLOCK_SCAN_BINDINGS, {
      counts,
      groupTotals: totals,
      params: sortParams,
    }),
    groupOffsets: bindNamed(runtime, pipelines.groupOffsets, GROUP_OFFSETS_BINDINGS, {
      groupTotals: totals,
      offsets,
    }),
    scatter: bindNamed(runtime, pipelines.scatter, GROUP_SCATTER_BINDINGS, {
      assignment,
      counts,
      offsets,
      permutation,
      params: sortParams,
    }),
    assignment,
    gate,
    permutation,
    offsets,
  };
}

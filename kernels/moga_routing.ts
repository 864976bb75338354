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
import { bindBuffers, readFloat32, readUint32, type RoutingProgram } from "./routing_program.ts";
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

/** MoGA's routing program for every requested head. */
export class MogaGpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  readonly #runtime: GpuRuntime;
  readonly #groups: number;
  readonly #iters: number;
  readonly #routerGrid: [number, number];
  readonly #sortGroups: number;
  readonly #pipelines: Pipelines;
  readonly #heads: HeadWork[];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      groups: number;
      iters: number;
      routerGrid: [number, number];
      sortGroups: number;
      pipelines: Pipelines;
      heads: HeadWork[];
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#groups = parts.groups;
    this.#iters = parts.iters;
    this.#routerGrid = parts.routerGrid;
    this.#sortGroups = parts.sortGroups;
    this.#pipelines = parts.pipelines;
    this.#heads = parts.heads;
    this.#buffers = parts.buffers;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: MogaGpuOptions): Promise<MogaGpuRouting> {
    const { routed, router, inputs, heads, headDim } = options;
    const precision = inputs.precision;
    const groups = "seeds" in router ? router.seeds[0].length : router.groups;
    const iters = "seeds" in router ? router.iters : 0;
    const keyOf = (name: string) => `moga-${name}:d${headDim}:${precision}:g${groups}`;
    const compiled = await Promise.all([
      runtime.pipeline(
        keyOf("kmeans-partial"),
        kmeansPartialSumsWgsl({ headDim, precision }),
        KMEANS_PARTIAL_BINDINGS,
      ),
      runtime.pipeline(
        keyOf("kmeans-normalize"),
        kmeansNormalizeWgsl(headDim),
        KMEANS_NORMALIZE_BINDINGS,
      ),
      runtime.pipeline(
        keyOf("router"),
        routerLogitsWgsl({ headDim, precision, groups }),
        ROUTER_BINDINGS,
      ),
      runtime.pipeline(keyOf("histogram"), groupHistogramWgsl(groups), GROUP_HISTOGRAM_BINDINGS),
      runtime.pipeline(keyOf("block-scan"), groupBlockScanWgsl(groups), GROUP_BLOCK_SCAN_BINDINGS),
      runtime.pipeline(keyOf("offsets"), groupOffsetsWgsl(groups), GROUP_OFFSETS_BINDINGS),
      runtime.pipeline(keyOf("scatter"), groupScatterWgsl(groups), GROUP_SCATTER_BINDINGS),
    ]);
    const [partial, normalize, route, histogram, blockScan, groupOffsets, scatter] = compiled.map(
      (c) => c.pipeline,
    );
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const routerGrid = dispatchGrid(Math.ceil(routed.count / ROUTER_WORKGROUP), limit);
    const blocks = Math.ceil(routed.count / SORT_BLOCK);
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const uniform = (label: string, words: number[]) =>
      own(runtime.uniform(label, Uint32Array.from(words)));
    const routerParams = uniform("moga-router-params", [
      routed.count,
      routed.start,
      routerGrid[0],
      0,
    ]);
    const sortParams = uniform("moga-sort-params", [routed.count, blocks, 0, 0]);
    const initParams = uniform("moga-init-params", [routed.start, 0, 0, 0]);
    const updateParams = uniform("moga-update-params", [routed.start, 1, 0, 0]);
    const seedOffsets = own(
      runtime.upload("moga-seed-offsets", Uint32Array.from({ length: groups + 1 }, (_, g) => g)),
    );
    const givenWeights = "weights" in router
      ? own(runtime.upload("moga-router", router.weights))
      : null;
    const work = heads.map((h, index): HeadWork => {
      const keys = inputs.k[h];
      const weights = givenWeights ??
        own(runtime.buffer(`moga-router[${h}]`, groups * headDim * 4));
      const assignment = own(runtime.buffer(`moga-assignment[${h}]`, routed.count * 4));
      const gate = own(runtime.buffer(`moga-gate[${h}]`, routed.count * 4));
      const counts = own(runtime.buffer(`moga-counts[${h}]`, blocks * groups * 4));
      const totals = own(runtime.buffer(`moga-group-totals[${h}]`, groups * 4));
      const offsets = own(runtime.buffer(`moga-offsets[${h}]`, (groups + 1) * 4));
      const permutation = own(runtime.buffer(`moga-permutation[${h}]`, routed.count * 4));
      let kmeans: KmeansWork | null = null;
      if ("seeds" in router) {
        const seeds = own(runtime.upload(`moga-seeds[${h}]`, router.seeds[index]));
        const partials = own(
          runtime.buffer(`moga-partials[${h}]`, groups * KMEANS_SPLITS * headDim * 4),
        );
        kmeans = {
          initPartial: bindBuffers(runtime, partial, [
            keys,
            seeds,
            seedOffsets,
            partials,
            initParams,
          ]),
          initNormalize: bindBuffers(runtime, normalize, [
            partials,
            seedOffsets,
            weights,
            initParams,
          ]),
          updatePartial: bindBuffers(runtime, partial, [
            keys,
            permutation,
            offsets,
            partials,
            updateParams,
          ]),
          updateNormalize: bindBuffers(runtime, normalize, [
            partials,
            offsets,
            weights,
            updateParams,
          ]),
        };
      }
      return {
        kmeans,
        route: bindBuffers(runtime, route, [keys, weights, assignment, gate, routerParams]),
        histogram: bindBuffers(runtime, histogram, [assignment, counts, sortParams]),
        blockScan: bindBuffers(runtime, blockScan, [counts, totals, sortParams]),
        groupOffsets: bindBuffers(runtime, groupOffsets, [totals, offsets]),
        scatter: bindBuffers(runtime, scatter, [
          assignment,
          counts,
          offsets,
          permutation,
          sortParams,
        ]),
        assignment,
        gate,
        permutation,
        offsets,
      };
    });
    return new MogaGpuRouting(runtime, {
      compileMs: compiled.reduce((sum, c) => sum + c.compileMs, 0),
      groups,
      iters,
      routerGrid,
      sortGroups: Math.ceil(blocks / SORT_WORKGROUP),
      pipelines: { partial, normalize, route, histogram, blockScan, groupOffsets, scatter },
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
    this.#dispatch(pass, this.#pipelines.partial, partial, [KMEANS_SPLITS, this.#groups]);
    this.#dispatch(pass, this.#pipelines.normalize, normalize, [this.#groups]);
  }

  #routeAndSort(pass: GPUComputePassEncoder, head: HeadWork): void {
    const p = this.#pipelines;
    this.#dispatch(pass, p.route, head.route, this.#routerGrid);
    this.#dispatch(pass, p.histogram, head.histogram, [this.#sortGroups]);
    this.#dispatch(pass, p.blockScan, head.blockScan, [this.#groups]);
    this.#dispatch(pass, p.groupOffsets, head.groupOffsets, [1]);
    this.#dispatch(pass, p.scatter, head.scatter, [this.#sortGroups]);
  }

  /** Encodes k-means (when the router is built), the router pass and the sort, every head. */
  encode(pass: GPUComputePassEncoder): void {
    for (const head of this.#heads) {
      if (head.kmeans) {
        this.#centroids(pass, head.kmeans.initPartial, head.kmeans.initNormalize);
        for (let iter = 0; iter < this.#iters; iter++) {
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
    for (const head of this.#heads) {
      routings.push({
        groups: this.#groups,
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
    this.#runtime.release(this.#buffers);
  }
}

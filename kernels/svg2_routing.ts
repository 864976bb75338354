/**
 * Sparse-VideoGen 2's routing on the GPU (rules: kernels/svg2_clusters.ts; float64 twin:
 * methods/routing/svg2_reference.ts): per head, the Euclidean k-means of the routed queries and of
 * the routed keys, then the cluster masses and their top-p choice. A k-means starts from seed
 * tokens (kernels/kmeans_update_wgsl.ts, `unit: false`), then each of `iters` rounds assigns every
 * token to its nearest centroid (the router kernel's `nearest` variant,
 * kernels/router_logits_wgsl.ts), sorts the tokens by cluster (MoGA's counting sort,
 * kernels/group_sort_wgsl.ts) and moves each centroid to the mean of its tokens
 * (kernels/segment_mean_wgsl.ts, through the sorted order); the masses follow
 * (kernels/svg2_mass_wgsl.ts). Every dispatch covers every head of a batch (as many heads as the
 * device's storage bindings allow, kernels/head_bindings.ts): 2 + 8·iters + 3 dispatches a batch,
 * nothing read back between them.
 *
 * @module
 */
import { type Binding, bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import {
  GROUP_BLOCK_SCAN_BINDINGS,
  GROUP_SCATTER_BINDINGS,
  groupBlockScanWgsl,
  groupScatterWgsl,
} from "./group_sort_wgsl.ts";
import { batches, concatPerHead, headsPerDispatch, perHeadBuffers } from "./head_bindings.ts";
import {
  KMEANS_INIT_OTHER_STORAGE,
  kmeansInitBindings,
  kmeansInitWgsl,
} from "./kmeans_update_wgsl.ts";
import type { RoutedRange } from "./moga_groups.ts";
import {
  checkRouterFits,
  ROUTE_BLOCK,
  ROUTER_OTHER_STORAGE,
  routerBindings,
  routerLogitsWgsl,
} from "./router_logits_wgsl.ts";
import {
  poisonBuffers,
  readUint32,
  type RoutingProgram,
  type RoutingStep,
} from "./routing_program.ts";
import {
  segmentMeanBindings,
  segmentMeanOtherStorage,
  segmentMeanParams,
  segmentMeanWgsl,
} from "./segment_mean_wgsl.ts";
import type { Svg2Routing, Svg2RoutingOptions } from "./svg2_clusters.ts";
import {
  CLUSTER_KEEP_BINDINGS,
  CLUSTER_ROW_BINDINGS,
  CLUSTER_SCORE_BINDINGS,
  clusterKeepWgsl,
  clusterRowsWgsl,
  clusterScoresWgsl,
  SVG2_WORKGROUP,
} from "./svg2_mass_wgsl.ts";

/** What {@link Svg2GpuRouting.create} needs. */
export interface Svg2GpuOptions extends Svg2RoutingOptions {
  /** The routed (video) tokens. */
  routed: RoutedRange;
  /** Q/K/V on the GPU (every head). */
  inputs: GpuQkv;
  /** Heads to route, in output order. */
  heads: number[];
  /** Head dimension d (a multiple of 4). */
  headDim: number;
  /** Seed tokens of the query k-means, one list (C_q entries) per entry of `heads`. */
  querySeeds: Uint32Array[];
  /** Seed tokens of the key k-means, one list (C_k entries) per entry of `heads`. */
  keySeeds: Uint32Array[];
}

/** Stage names of the SVG2 routing steps (the keys of the record's routing stages). */
export const SVG2_STAGES = {
  init: "kmeans-init",
  assign: "kmeans-assign",
  sort: "kmeans-sort",
  update: "kmeans-update",
  mass: "cluster-mass",
} as const;

/** The pipelines of one k-means (compiled for its cluster count and batch size). */
interface KmeansPipelines {
  init: GPUComputePipeline;
  assign: GPUComputePipeline;
  scan: GPUComputePipeline;
  scatter: GPUComputePipeline;
  mean: GPUComputePipeline;
}

/** The k-means of one batch of heads over queries or keys: bind groups and outputs. */
interface KmeansWork {
  clusters: number;
  pipelines: KmeansPipelines;
  groups: Record<keyof KmeansPipelines, GPUBindGroup>;
  assignment: GPUBuffer;
  sizes: GPUBuffer;
  centroids: GPUBuffer;
}

/** The pipelines of the mass passes (one batch size). */
interface MassPipelines {
  scores: GPUComputePipeline;
  rows: GPUComputePipeline;
  keep: GPUComputePipeline;
}

/** One batch of heads. */
interface BatchWork {
  heads: number;
  query: KmeansWork;
  key: KmeansWork;
  mass: MassPipelines;
  scores: GPUBindGroup;
  rows: GPUBindGroup;
  keep: GPUBindGroup;
  kept: GPUBuffer;
}

/** SVG2's routing program for every requested head. */
export class Svg2GpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  /** The dispatches in run order, by stage. */
  readonly steps: readonly RoutingStep[];
  readonly #runtime: GpuRuntime;
  readonly #batches: BatchWork[];
  readonly #buffers: GPUBuffer[];
  readonly #count: number;
  readonly #pairs: number;

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      batches: BatchWork[];
      buffers: GPUBuffer[];
      count: number;
      qc: number;
      kc: number;
      iters: number;
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#batches = parts.batches;
    this.#buffers = parts.buffers;
    this.#count = parts.count;
    this.#pairs = parts.qc * parts.kc;
    this.steps = routingSteps(parts.batches, {
      blocks: Math.ceil(parts.count / ROUTE_BLOCK),
      qc: parts.qc,
      iters: parts.iters,
    });
  }

  /** Compiles the kernels and binds every batch of heads. */
  static async create(runtime: GpuRuntime, options: Svg2GpuOptions): Promise<Svg2GpuRouting> {
    const { routed, inputs, heads, headDim } = options;
    const qc = options.querySeeds[0].length;
    const kc = options.keySeeds[0].length;
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const blocks = Math.ceil(routed.count / ROUTE_BLOCK);
    const pairBlocks = Math.ceil(qc * kc / SVG2_WORKGROUP);
    if (Math.max(blocks, pairBlocks) > limit) {
      throw new RangeError(
        `svg2: ${routed.count} routed tokens and ${qc}×${kc} cluster pairs need ` +
          `${Math.max(blocks, pairBlocks)} workgroups in one dimension, over ${limit}`,
      );
    }
    const size = headsPerDispatch(runtime.device, {
      perHead: 1,
      others: Math.max(
        ROUTER_OTHER_STORAGE.nearest,
        KMEANS_INIT_OTHER_STORAGE,
        segmentMeanOtherStorage(true),
      ),
    });
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const uniform = (label: string, words: Uint32Array) => own(runtime.uniform(label, words));
    const meanParams = (clusters: number) =>
      segmentMeanParams({
        rowOffset: routed.start,
        segments: clusters,
        boundsStride: clusters + 1,
        count: routed.count,
      });
    const shared: SharedBuffers = {
      kmeansParams: uniform(
        "svg2-kmeans-params",
        Uint32Array.from([routed.count, routed.start, blocks, 0]),
      ),
      meanParams: {
        query: uniform("svg2-query-mean-params", meanParams(qc)),
        key: uniform("svg2-key-mean-params", meanParams(kc)),
      },
      sortParams: uniform("svg2-sort-params", Uint32Array.from([routed.count, blocks, 0, 0])),
      massParams: uniform(
        "svg2-mass-params",
        massParams({ qc, kc, headDim, topP: options.topP, minKept: options.minKept }),
      ),
      routerParams: {
        query: uniform(
          "svg2-query-router-params",
          Uint32Array.from([routed.count, routed.start, blocks, qc * headDim / 4]),
        ),
        key: uniform(
          "svg2-key-router-params",
          Uint32Array.from([routed.count, routed.start, blocks, kc * headDim / 4]),
        ),
      },
    };
    const compiled = new Map<number, Promise<BatchPipelines>>();
    const work: BatchWork[] = [];
    let compileMs = 0;
    let first = 0;
    for (const batch of batches(heads, size)) {
      if (!compiled.has(batch.length)) {
        const config = { headDim, precision: inputs.precision, heads: batch.length };
        compiled.set(batch.length, compileBatch(runtime, { ...config, qc, kc }));
        compileMs += (await compiled.get(batch.length)!).compileMs;
      }
      const pipelines = await compiled.get(batch.length)!;
      const seeds = {
        query: options.querySeeds.slice(first, first + batch.length),
        key: options.keySeeds.slice(first, first + batch.length),
      };
      first += batch.length;
      work.push(
        bindBatch(runtime, own, {
          pipelines,
          queries: batch.map((h) => inputs.q[h]),
          keys: batch.map((h) => inputs.k[h]),
          seeds,
          shared,
          count: routed.count,
          blocks,
          qc,
          kc,
          headDim,
        }),
      );
    }
    return new Svg2GpuRouting(runtime, {
      compileMs,
      batches: work,
      buffers,
      count: routed.count,
      qc,
      kc,
      iters: options.iters,
    });
  }

  /** The routings of the last run, one per head in the order asked for. */
  async read(): Promise<Svg2Routing[]> {
    const routings: Svg2Routing[] = [];
    const count = this.#count;
    const pairs = this.#pairs;
    for (const batch of this.#batches) {
      const clustering = async (work: KmeansWork) => ({
        assignment: await readUint32(this.#runtime, work.assignment),
        sizes: await readUint32(this.#runtime, work.sizes),
      });
      const query = await clustering(batch.query);
      const key = await clustering(batch.key);
      const kept = await readUint32(this.#runtime, batch.kept);
      const slice = (
        read: { assignment: Uint32Array; sizes: Uint32Array },
        h: number,
        c: number,
      ) => ({
        clusters: c,
        assignment: read.assignment.slice(h * count, (h + 1) * count),
        sizes: read.sizes.slice(h * c, (h + 1) * c),
      });
      for (let h = 0; h < batch.heads; h++) {
        routings.push({
          query: slice(query, h, batch.query.clusters),
          key: slice(key, h, batch.key.clusters),
          kept: Uint8Array.from(kept.subarray(h * pairs, (h + 1) * pairs)),
        });
      }
    }
    return routings;
  }

  /** Poisons every output read back ({@link poisonBuffers}) before a run that must write it all. */
  poisonOutputs(): void {
    poisonBuffers(
      this.#runtime,
      this.#batches.flatMap((b) => [
        b.query.assignment,
        b.query.sizes,
        b.key.assignment,
        b.key.sizes,
        b.kept,
      ]),
    );
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/** The steps of a run: both inits, `iters` rounds of assign, sort and mean, then the masses. */
function routingSteps(
  work: BatchWork[],
  sizes: { blocks: number; qc: number; iters: number },
): RoutingStep[] {
  const { blocks, qc, iters } = sizes;
  type Grid = (kmeans: KmeansWork, heads: number) => [number, number];
  const perCluster: Grid = (kmeans, heads) => [kmeans.clusters, heads];
  const perBlock: Grid = (_, heads) => [blocks, heads];
  // One stage: its kernels in order, each for the queries' then the keys' k-means.
  const both = (stage: string, kernels: [keyof KmeansPipelines, Grid][]): RoutingStep => ({
    stage,
    encode(pass) {
      for (const batch of work) {
        for (const [name, grid] of kernels) {
          for (const kmeans of [batch.query, batch.key]) {
            pass.setPipeline(kmeans.pipelines[name]);
            pass.setBindGroup(0, kmeans.groups[name]);
            pass.dispatchWorkgroups(...grid(kmeans, batch.heads));
          }
        }
      }
    },
  });
  const steps: RoutingStep[] = [both(SVG2_STAGES.init, [["init", perCluster]])];
  for (let iter = 0; iter < iters; iter++) {
    steps.push(
      both(SVG2_STAGES.assign, [["assign", perBlock]]),
      both(SVG2_STAGES.sort, [["scan", perCluster], ["scatter", perBlock]]),
      both(SVG2_STAGES.update, [["mean", perCluster]]),
    );
  }
  steps.push({
    stage: SVG2_STAGES.mass,
    encode(pass) {
      for (const batch of work) {
        const pairBlocks = Math.ceil(batch.query.clusters * batch.key.clusters / SVG2_WORKGROUP);
        const passes: Array<[GPUComputePipeline, GPUBindGroup, number]> = [
          [batch.mass.scores, batch.scores, pairBlocks],
          [batch.mass.rows, batch.rows, Math.ceil(qc / SVG2_WORKGROUP)],
          [batch.mass.keep, batch.keep, pairBlocks],
        ];
        for (const [pipeline, group, width] of passes) {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(width, batch.heads);
        }
      }
    },
  });
  return steps;
}

/** Every pipeline one batch size needs: a k-means for each cluster count, and the masses. */
interface BatchPipelines {
  query: KmeansPipelines;
  key: KmeansPipelines;
  mass: MassPipelines;
  compileMs: number;
}

/** Compiles (or takes from the runtime's cache) the pipelines for `heads` a dispatch. */
async function compileBatch(
  runtime: GpuRuntime,
  config: { headDim: number; precision: "f32" | "f16"; heads: number; qc: number; kc: number },
): Promise<BatchPipelines> {
  const { headDim, precision, heads } = config;
  const workgroupLimit = runtime.device.limits.maxComputeWorkgroupStorageSize;
  const compile = (name: string, code: string, bindings: readonly Binding[]) =>
    runtime.pipeline(
      `svg2-${name}:d${headDim}:${precision}:h${heads}`,
      code,
      bindingKinds(bindings),
    );
  const kmeans = async (clusters: number) => {
    const c = (name: string, code: string, bindings: readonly Binding[]) =>
      compile(`${name}:c${clusters}`, code, bindings);
    const groups = clusters;
    const nearest = {
      variant: "nearest" as const,
      headDim,
      precision,
      groups,
      heads,
      workgroupLimit,
    };
    checkRouterFits(nearest);
    const all = await Promise.all([
      c(
        "init",
        kmeansInitWgsl({ headDim, precision, groups, heads, unit: false }),
        kmeansInitBindings(heads),
      ),
      c("assign", routerLogitsWgsl(nearest), routerBindings("nearest", heads)),
      c("scan", groupBlockScanWgsl(groups), GROUP_BLOCK_SCAN_BINDINGS),
      c("scatter", groupScatterWgsl(groups), GROUP_SCATTER_BINDINGS),
      c(
        "mean",
        segmentMeanWgsl({ headDim, precision, heads, gather: true }),
        segmentMeanBindings(heads, true),
      ),
    ]);
    const [init, assign, scan, scatter, mean] = all.map((x) => x.pipeline);
    return {
      pipelines: { init, assign, scan, scatter, mean },
      compileMs: all.reduce((sum, x) => sum + x.compileMs, 0),
    };
  };
  const [query, key, ...mass] = await Promise.all([
    kmeans(config.qc),
    kmeans(config.kc),
    compile("scores", clusterScoresWgsl(headDim), CLUSTER_SCORE_BINDINGS),
    compile("rows", clusterRowsWgsl(), CLUSTER_ROW_BINDINGS),
    compile("keep", clusterKeepWgsl(), CLUSTER_KEEP_BINDINGS),
  ]);
  const [scores, rows, keep] = mass.map((m) => m.pipeline);
  return {
    query: query.pipelines,
    key: key.pipelines,
    mass: { scores, rows, keep },
    compileMs: query.compileMs + key.compileMs + mass.reduce((s, m) => s + m.compileMs, 0),
  };
}

/** Uniforms every batch shares. */
interface SharedBuffers {
  /** K-means init params: count, rowOffset, blocks. */
  kmeansParams: GPUBuffer;
  /** Mean params of each k-means (segments: its clusters). */
  meanParams: { query: GPUBuffer; key: GPUBuffer };
  /** Sort params: count, blocks. */
  sortParams: GPUBuffer;
  /** Mass params (cluster counts, minKept, topP, scale). */
  massParams: GPUBuffer;
  /** Assignment params of each k-means (their centroid stride a head differs). */
  routerParams: { query: GPUBuffer; key: GPUBuffer };
}

/** One batch's buffers and bind groups. */
function bindBatch(
  runtime: GpuRuntime,
  own: (buffer: GPUBuffer) => GPUBuffer,
  config: {
    pipelines: BatchPipelines;
    queries: GPUBuffer[];
    keys: GPUBuffer[];
    seeds: { query: Uint32Array[]; key: Uint32Array[] };
    shared: SharedBuffers;
    count: number;
    blocks: number;
    qc: number;
    kc: number;
    headDim: number;
  },
): BatchWork {
  const { pipelines, shared, count, blocks, qc, kc, headDim } = config;
  const heads = config.keys.length;
  const buffer = (name: string, bytes: number) => own(runtime.buffer(`svg2-${name}`, bytes));
  const kmeansWork = (
    name: "query" | "key",
    rows: GPUBuffer[],
    clusters: number,
  ): KmeansWork => {
    const p = pipelines[name];
    const asKeys = perHeadBuffers("keys", rows);
    const seeds = own(runtime.upload(`svg2-${name}-seeds`, concatPerHead(config.seeds[name])));
    const centroids = buffer(`${name}-centroids`, heads * clusters * headDim * 4);
    const assignment = buffer(`${name}-assignment`, heads * count * 4);
    const ranks = buffer(`${name}-ranks`, heads * count * 4);
    const counts = buffer(`${name}-counts`, heads * blocks * clusters * 4);
    const sizes = buffer(`${name}-sizes`, heads * clusters * 4);
    const offsets = buffer(`${name}-offsets`, heads * (clusters + 1) * 4);
    const permutation = buffer(`${name}-permutation`, heads * count * 4);
    return {
      clusters,
      pipelines: p,
      groups: {
        init: bindNamed(runtime, p.init, kmeansInitBindings(heads), {
          ...asKeys,
          seeds,
          router: centroids,
          params: shared.kmeansParams,
        }),
        assign: bindNamed(runtime, p.assign, routerBindings("nearest", heads), {
          ...asKeys,
          router: centroids,
          assignment,
          ranks,
          counts,
          params: shared.routerParams[name],
        }),
        scan: bindNamed(runtime, p.scan, GROUP_BLOCK_SCAN_BINDINGS, {
          counts,
          groupTotals: sizes,
          params: shared.sortParams,
        }),
        scatter: bindNamed(runtime, p.scatter, GROUP_SCATTER_BINDINGS, {
          assignment,
          ranks,
          counts,
          groupTotals: sizes,
          offsets,
          permutation,
          params: shared.sortParams,
        }),
        mean: bindNamed(runtime, p.mean, segmentMeanBindings(heads, true), {
          ...perHeadBuffers("rows", rows),
          bounds: offsets,
          permutation,
          means: centroids,
          params: shared.meanParams[name],
        }),
      },
      assignment,
      sizes,
      centroids,
    };
  };
  const query = kmeansWork("query", config.queries, qc);
  const key = kmeansWork("key", config.keys, kc);
  const scores = buffer("scores", heads * qc * kc * 4);
  const rowMax = buffer("row-max", heads * qc * 4);
  const rowTotal = buffer("row-total", heads * qc * 4);
  const kept = buffer("kept", heads * qc * kc * 4);
  const params = shared.massParams;
  const { mass } = pipelines;
  return {
    heads,
    query,
    key,
    mass,
    scores: bindNamed(runtime, mass.scores, CLUSTER_SCORE_BINDINGS, {
      queryCentroids: query.centroids,
      keyCentroids: key.centroids,
      scores,
      params,
    }),
    rows: bindNamed(runtime, mass.rows, CLUSTER_ROW_BINDINGS, {
      scores,
      keySizes: key.sizes,
      rowMax,
      rowTotal,
      params,
    }),
    keep: bindNamed(runtime, mass.keep, CLUSTER_KEEP_BINDINGS, {
      scores,
      keySizes: key.sizes,
      rowMax,
      rowTotal,
      kept,
      params,
    }),
    kept,
  };
}

/** The mass kernels' uniform: cluster counts, minKept, topP, 1/√d. */
function massParams(config: {
  qc: number;
  kc: number;
  headDim: number;
  topP: number;
  minKept: number;
}): Uint32Array {
  const words = new Uint32Array(8);
  words.set([config.qc, config.kc, 0, config.minKept]);
  new Float32Array(words.buffer).set([config.topP, 1 / Math.sqrt(config.headDim)], 4);
  return words;
}

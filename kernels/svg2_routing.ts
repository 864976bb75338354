/**
 * Sparse-VideoGen 2's routing on the GPU (rules: kernels/svg2_clusters.ts; float64 twin:
 * methods/routing/svg2_reference.ts): per head, the Euclidean k-means of the routed queries and of
 * the routed keys (centroids from seed tokens, then `iters` rounds of assignment → stable counting
 * sort by cluster (kernels/group_sort_wgsl.ts) → partial sums (kernels/kmeans_update_wgsl.ts) →
 * mean), then the cluster masses and their top-p choice, every head in one compute pass.
 *
 * @module
 */
import { type Binding, bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
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
  KMEANS_PARTIAL_BINDINGS,
  KMEANS_SPLITS,
  kmeansPartialSumsWgsl,
} from "./kmeans_update_wgsl.ts";
import type { RoutedRange } from "./moga_groups.ts";
import { readUint32, type RoutingProgram } from "./routing_program.ts";
import type { Svg2Routing, Svg2RoutingOptions } from "./svg2_clusters.ts";
import {
  CLUSTER_KEEP_BINDINGS,
  CLUSTER_ROW_BINDINGS,
  CLUSTER_SCORE_BINDINGS,
  clusterKeepWgsl,
  clusterRowsWgsl,
  clusterScoresWgsl,
  EUCLID_ASSIGN_BINDINGS,
  euclidAssignWgsl,
  KMEANS_MEAN_BINDINGS,
  kmeansMeanWgsl,
  SVG2_WORKGROUP,
} from "./svg2_kmeans_wgsl.ts";

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

/** The pipelines of one k-means (compiled for its cluster count). */
interface KmeansPipelines {
  assign: GPUComputePipeline;
  histogram: GPUComputePipeline;
  blockScan: GPUComputePipeline;
  offsets: GPUComputePipeline;
  scatter: GPUComputePipeline;
  partial: GPUComputePipeline;
  mean: GPUComputePipeline;
}

/** One k-means of one head: its bind groups and the buffers read back. */
interface KmeansWork {
  clusters: number;
  pipelines: KmeansPipelines;
  init: { partial: GPUBindGroup; mean: GPUBindGroup };
  round: Record<keyof KmeansPipelines, GPUBindGroup>;
  assignment: GPUBuffer;
  offsets: GPUBuffer;
  centroids: GPUBuffer;
}

interface HeadWork {
  query: KmeansWork;
  key: KmeansWork;
  scores: GPUBindGroup;
  rows: GPUBindGroup;
  keep: GPUBindGroup;
  kept: GPUBuffer;
}

interface MassPipelines {
  scores: GPUComputePipeline;
  rows: GPUComputePipeline;
  keep: GPUComputePipeline;
}

/** SVG2's routing program for every requested head. */
export class Svg2GpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  readonly #runtime: GpuRuntime;
  readonly #heads: HeadWork[];
  readonly #buffers: GPUBuffer[];
  readonly #mass: MassPipelines;
  readonly #grids: { rows: [number, number]; sort: number; pairs: [number, number]; qc: number };
  readonly #iters: number;

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      heads: HeadWork[];
      buffers: GPUBuffer[];
      mass: MassPipelines;
      grids: { rows: [number, number]; sort: number; pairs: [number, number]; qc: number };
      iters: number;
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#heads = parts.heads;
    this.#buffers = parts.buffers;
    this.#mass = parts.mass;
    this.#grids = parts.grids;
    this.#iters = parts.iters;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: Svg2GpuOptions): Promise<Svg2GpuRouting> {
    const { routed, inputs, heads, headDim } = options;
    const qc = options.querySeeds[0].length;
    const kc = options.keySeeds[0].length;
    const compile = (name: string, code: string, bindings: readonly Binding[]) =>
      runtime.pipeline(
        `svg2-${name}:d${headDim}:${inputs.precision}`,
        code,
        bindingKinds(bindings),
      );
    const kmeansPipelines = async (clusters: number) => {
      const c = (name: string, code: string, bindings: readonly Binding[]) =>
        compile(`${name}:c${clusters}`, code, bindings);
      const all = await Promise.all([
        c(
          "assign",
          euclidAssignWgsl({ headDim, precision: inputs.precision, clusters }),
          EUCLID_ASSIGN_BINDINGS,
        ),
        c("histogram", groupHistogramWgsl(clusters), GROUP_HISTOGRAM_BINDINGS),
        c("block-scan", groupBlockScanWgsl(clusters), GROUP_BLOCK_SCAN_BINDINGS),
        c("offsets", groupOffsetsWgsl(clusters), GROUP_OFFSETS_BINDINGS),
        c("scatter", groupScatterWgsl(clusters), GROUP_SCATTER_BINDINGS),
        c(
          "partial",
          kmeansPartialSumsWgsl({ headDim, precision: inputs.precision }),
          KMEANS_PARTIAL_BINDINGS,
        ),
        c("mean", kmeansMeanWgsl(headDim), KMEANS_MEAN_BINDINGS),
      ]);
      const [assign, histogram, blockScan, offsets, scatter, partial, mean] = all.map((x) =>
        x.pipeline
      );
      return {
        pipelines: { assign, histogram, blockScan, offsets, scatter, partial, mean },
        compileMs: all.reduce((sum, x) => sum + x.compileMs, 0),
      };
    };
    const [queryPipes, keyPipes, ...mass] = await Promise.all([
      kmeansPipelines(qc),
      kmeansPipelines(kc),
      compile("scores", clusterScoresWgsl(headDim), CLUSTER_SCORE_BINDINGS),
      compile("rows", clusterRowsWgsl(), CLUSTER_ROW_BINDINGS),
      compile("keep", clusterKeepWgsl(), CLUSTER_KEEP_BINDINGS),
    ]);
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const rowsGrid = dispatchGrid(Math.ceil(routed.count / SVG2_WORKGROUP), limit);
    const pairsGrid = dispatchGrid(Math.ceil(qc * kc / SVG2_WORKGROUP), limit);
    const blocks = Math.ceil(routed.count / SORT_BLOCK);
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const uniform = (label: string, words: Uint32Array) => own(runtime.uniform(label, words));
    const shared = {
      assignParams: uniform(
        "svg2-assign-params",
        Uint32Array.from([routed.count, routed.start, rowsGrid[0], 0]),
      ),
      sortParams: uniform("svg2-sort-params", Uint32Array.from([routed.count, blocks, 0, 0])),
      sumParams: uniform("svg2-sum-params", Uint32Array.from([routed.start, 1, 0, 0])),
      massParams: uniform(
        "svg2-mass-params",
        massParams({
          qc,
          kc,
          grid: pairsGrid,
          headDim,
          topP: options.topP,
          minKept: options.minKept,
        }),
      ),
    };
    const kmeansWork = (
      h: number,
      rows: GPUBuffer,
      pipelines: KmeansPipelines,
      seeds: Uint32Array,
      name: string,
    ): KmeansWork => {
      const clusters = seeds.length;
      const buffer = (what: string, bytes: number) =>
        own(runtime.buffer(`svg2-${name}-${what}[${h}]`, bytes));
      const assignment = buffer("assignment", routed.count * 4);
      const counts = buffer("counts", blocks * clusters * 4);
      const totals = buffer("totals", clusters * 4);
      const offsets = buffer("offsets", (clusters + 1) * 4);
      const members = buffer("members", routed.count * 4);
      const partials = buffer("partials", clusters * KMEANS_SPLITS * headDim * 4);
      const centroids = buffer("centroids", clusters * headDim * 4);
      const seedMembers = own(runtime.upload(`svg2-${name}-seeds[${h}]`, seeds));
      const seedOffsets = own(
        runtime.upload(
          `svg2-${name}-seed-offsets[${h}]`,
          Uint32Array.from({ length: clusters + 1 }, (_, c) => c),
        ),
      );
      const partial = (members: GPUBuffer, offsets: GPUBuffer) =>
        bindNamed(runtime, pipelines.partial, KMEANS_PARTIAL_BINDINGS, {
          keys: rows,
          members,
          offsets,
          partials,
          params: shared.sumParams,
        });
      const mean = (offsets: GPUBuffer) =>
        bindNamed(runtime, pipelines.mean, KMEANS_MEAN_BINDINGS, {
          partials,
          offsets,
          centroids,
          params: shared.sumParams,
        });
      return {
        clusters,
        pipelines,
        init: { partial: partial(seedMembers, seedOffsets), mean: mean(seedOffsets) },
        round: {
          assign: bindNamed(runtime, pipelines.assign, EUCLID_ASSIGN_BINDINGS, {
            rows,
            centroids,
            assignment,
            params: shared.assignParams,
          }),
          histogram: bindNamed(runtime, pipelines.histogram, GROUP_HISTOGRAM_BINDINGS, {
            assignment,
            counts,
            params: shared.sortParams,
          }),
          blockScan: bindNamed(runtime, pipelines.blockScan, GROUP_BLOCK_SCAN_BINDINGS, {
            counts,
            groupTotals: totals,
            params: shared.sortParams,
          }),
          offsets: bindNamed(runtime, pipelines.offsets, GROUP_OFFSETS_BINDINGS, {
            groupTotals: totals,
            offsets,
          }),
          scatter: bindNamed(runtime, pipelines.scatter, GROUP_SCATTER_BINDINGS, {
            assignment,
            counts,
            offsets,
            permutation: members,
            params: shared.sortParams,
          }),
          partial: partial(members, offsets),
          mean: mean(offsets),
        },
        assignment,
        offsets,
        centroids,
      };
    };
    const [scoresPipe, rowsPipe, keepPipe] = mass.map((m) => m.pipeline);
    const work = heads.map((h, index): HeadWork => {
      const query = kmeansWork(
        h,
        inputs.q[h],
        queryPipes.pipelines,
        options.querySeeds[index],
        "query",
      );
      const key = kmeansWork(h, inputs.k[h], keyPipes.pipelines, options.keySeeds[index], "key");
      const scores = own(runtime.buffer(`svg2-scores[${h}]`, qc * kc * 4));
      const rowMax = own(runtime.buffer(`svg2-row-max[${h}]`, qc * 4));
      const rowTotal = own(runtime.buffer(`svg2-row-total[${h}]`, qc * 4));
      const kept = own(runtime.buffer(`svg2-kept[${h}]`, qc * kc * 4));
      const params = shared.massParams;
      return {
        query,
        key,
        scores: bindNamed(runtime, scoresPipe, CLUSTER_SCORE_BINDINGS, {
          queryCentroids: query.centroids,
          keyCentroids: key.centroids,
          scores,
          params,
        }),
        rows: bindNamed(runtime, rowsPipe, CLUSTER_ROW_BINDINGS, {
          scores,
          keyOffsets: key.offsets,
          rowMax,
          rowTotal,
          params,
        }),
        keep: bindNamed(runtime, keepPipe, CLUSTER_KEEP_BINDINGS, {
          scores,
          keyOffsets: key.offsets,
          rowMax,
          rowTotal,
          kept,
          params,
        }),
        kept,
      };
    });
    return new Svg2GpuRouting(runtime, {
      compileMs: queryPipes.compileMs + keyPipes.compileMs +
        mass.reduce((s, m) => s + m.compileMs, 0),
      heads: work,
      buffers,
      mass: { scores: scoresPipe, rows: rowsPipe, keep: keepPipe },
      grids: { rows: rowsGrid, sort: Math.ceil(blocks / SORT_WORKGROUP), pairs: pairsGrid, qc },
      iters: options.iters,
    });
  }

  #kmeans(pass: GPUComputePassEncoder, work: KmeansWork): void {
    const run = (pipeline: GPUComputePipeline, group: GPUBindGroup, grid: [number, number?]) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(...grid);
    };
    const p = work.pipelines;
    run(p.partial, work.init.partial, [KMEANS_SPLITS, work.clusters]);
    run(p.mean, work.init.mean, [work.clusters]);
    for (let iter = 0; iter < this.#iters; iter++) {
      run(p.assign, work.round.assign, this.#grids.rows);
      run(p.histogram, work.round.histogram, [this.#grids.sort]);
      run(p.blockScan, work.round.blockScan, [work.clusters]);
      run(p.offsets, work.round.offsets, [1]);
      run(p.scatter, work.round.scatter, [this.#grids.sort]);
      run(p.partial, work.round.partial, [KMEANS_SPLITS, work.clusters]);
      run(p.mean, work.round.mean, [work.clusters]);
    }
  }

  /** Encodes both k-means and the mass passes, every head. */
  encode(pass: GPUComputePassEncoder): void {
    for (const head of this.#heads) {
      this.#kmeans(pass, head.query);
      this.#kmeans(pass, head.key);
      const steps: Array<[GPUComputePipeline, GPUBindGroup, [number, number?]]> = [
        [this.#mass.scores, head.scores, this.#grids.pairs],
        [this.#mass.rows, head.rows, [Math.ceil(this.#grids.qc / SVG2_WORKGROUP)]],
        [this.#mass.keep, head.keep, this.#grids.pairs],
      ];
      for (const [pipeline, group, grid] of steps) {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(...grid);
      }
    }
  }

  /** The routings of the last run, one per head in the order asked for. */
  async read(): Promise<Svg2Routing[]> {
    const routings: Svg2Routing[] = [];
    for (const head of this.#heads) {
      const clustering = async (work: KmeansWork) => {
        const offsets = await readUint32(this.#runtime, work.offsets);
        return {
          clusters: work.clusters,
          assignment: await readUint32(this.#runtime, work.assignment),
          sizes: Uint32Array.from({ length: work.clusters }, (_, c) => offsets[c + 1] - offsets[c]),
        };
      };
      routings.push({
        query: await clustering(head.query),
        key: await clustering(head.key),
        kept: Uint8Array.from(await readUint32(this.#runtime, head.kept)),
      });
    }
    return routings;
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/** The mass kernels' uniform: cluster counts, dispatch width, minKept, topP, 1/√d. */
function massParams(config: {
  qc: number;
  kc: number;
  grid: [number, number];
  headDim: number;
  topP: number;
  minKept: number;
}): Uint32Array {
  const words = new Uint32Array(8);
  words.set([config.qc, config.kc, config.grid[0], config.minKept]);
  new Float32Array(words.buffer).set([config.topP, 1 / Math.sqrt(config.headDim)], 4);
  return words;
}

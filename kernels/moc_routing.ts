/**
 * MoC routing on the GPU (docs/methods.md, "Mixture of Contexts"): chunk pooling
 * (kernels/segment_mean_wgsl.ts) then scores and top-k (kernels/chunk_scores_topk_wgsl.ts), each
 * one dispatch for every head of a batch (kernels/head_bindings.ts), nothing read back between;
 * the selections are read back and the form is built on the CPU. Gives the same selections as
 * methods/routing/moc_reference.ts wherever f32 and f64 scores order the candidates alike.
 *
 * @module
 */
import { bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { CompiledPipeline, GpuRuntime } from "../gpu/runtime.ts";
import { dispatchGrid } from "./attention.ts";
import {
  segmentMeanBindings,
  segmentMeanOtherStorage,
  segmentMeanParams,
  segmentMeanWgsl,
} from "./segment_mean_wgsl.ts";
import {
  CHUNK_SCORES_OTHER_STORAGE,
  CHUNK_SCORES_WORKGROUP,
  chunkScoresBindings,
  chunkScoresTopkWgsl,
} from "./chunk_scores_topk_wgsl.ts";
import { batches, headsPerDispatch, perHeadBuffers } from "./head_bindings.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import { readUint32, type RoutingProgram, type RoutingStep } from "./routing_program.ts";
import {
  type MocChunks,
  mocQueryChunks,
  type MocSelection,
  mocVideoChunks,
  mocVideoTokens,
} from "./moc_chunks.ts";

/** What {@link MocGpuRouting.create} needs. */
export interface MocGpuOptions {
  /** The chunk structure. */
  chunks: MocChunks;
  /** Chunks selected per query. */
  k: number;
  /** Q/K/V on the GPU (every head). */
  inputs: GpuQkv;
  /** Heads to route, in output order. */
  heads: number[];
  /** Head dimension d (a multiple of 4). */
  headDim: number;
}

/** Stage names of the MoC routing steps (the keys of the record's routing stages). */
export const MOC_STAGES = { pool: "chunk-pool", scores: "scores-topk" } as const;

/** One batch of heads: its pipelines, bind groups and selections buffer. */
interface BatchWork {
  heads: number;
  pool: { pipeline: GPUComputePipeline; group: GPUBindGroup };
  scores: { pipeline: GPUComputePipeline; group: GPUBindGroup };
  chosen: GPUBuffer;
}

/** MoC's routing program: pooling, then scores and top-k, every head of a batch a dispatch. */
export class MocGpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  /** Pooling, then scoring. */
  readonly steps: readonly RoutingStep[];
  readonly #runtime: GpuRuntime;
  readonly #k: number;
  readonly #videoTokens: number;
  readonly #batches: BatchWork[];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      k: number;
      chunks: number;
      videoTokens: number;
      scoresGrid: [number, number];
      batches: BatchWork[];
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#k = parts.k;
    this.#videoTokens = parts.videoTokens;
    this.#batches = parts.batches;
    this.#buffers = parts.buffers;
    const work = parts.batches;
    this.steps = [
      {
        stage: MOC_STAGES.pool,
        encode(pass) {
          for (const batch of work) {
            pass.setPipeline(batch.pool.pipeline);
            pass.setBindGroup(0, batch.pool.group);
            pass.dispatchWorkgroups(parts.chunks, batch.heads);
          }
        },
      },
      {
        stage: MOC_STAGES.scores,
        encode(pass) {
          for (const batch of work) {
            pass.setPipeline(batch.scores.pipeline);
            pass.setBindGroup(0, batch.scores.group);
            pass.dispatchWorkgroups(...parts.scoresGrid, batch.heads);
          }
        },
      },
    ];
  }

  /** Compiles the kernels and binds every batch of heads. */
  static async create(runtime: GpuRuntime, options: MocGpuOptions): Promise<MocGpuRouting> {
    const { chunks, k, inputs, heads, headDim } = options;
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const chunkCount = mocVideoChunks(chunks);
    if (chunkCount > limit) {
      throw new RangeError(`moc: ${chunkCount} chunks exceed ${limit} workgroups a dimension`);
    }
    const videoTokens = mocVideoTokens(chunks);
    const scoresGrid = dispatchGrid(Math.ceil(videoTokens / CHUNK_SCORES_WORKGROUP), limit);
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const chunkStart = own(runtime.upload("moc-chunkStart", chunks.chunkStart));
    const queryChunk = own(runtime.upload("moc-queryChunk", mocQueryChunks(chunks)));
    const anchorFirst = own(runtime.upload("moc-anchorFirst", chunks.anchorFirst));
    const candidateResume = own(runtime.upload("moc-candidateResume", chunks.candidateResume));
    const poolParams = own(
      runtime.uniform(
        "moc-pool-params",
        segmentMeanParams({
          rowOffset: chunks.videoStart,
          segments: chunkCount,
          boundsStride: 0,
          count: 0,
        }),
      ),
    );
    const scoresParams = own(
      runtime.uniform(
        "moc-scores-params",
        new Uint32Array([chunks.videoStart, chunkCount, videoTokens, scoresGrid[0]]),
      ),
    );
    const size = headsPerDispatch(runtime.device, {
      perHead: 1,
      others: Math.max(segmentMeanOtherStorage(false), CHUNK_SCORES_OTHER_STORAGE),
    });
    let compileMs = 0;
    const work: BatchWork[] = [];
    for (const batch of batches(heads, size)) {
      const { pool, scores } = await compilePipelines(runtime, {
        headDim,
        precision: inputs.precision,
        k,
        heads: batch.length,
      });
      compileMs += pool.compileMs + scores.compileMs;
      const descriptors = own(
        runtime.buffer("moc-descriptors", batch.length * chunkCount * headDim * 4),
      );
      const chosen = own(runtime.buffer("moc-chosen", batch.length * videoTokens * k * 4));
      work.push({
        heads: batch.length,
        pool: {
          pipeline: pool.pipeline,
          group: bindNamed(runtime, pool.pipeline, segmentMeanBindings(batch.length, false), {
            ...perHeadBuffers("rows", batch.map((h) => inputs.k[h])),
            bounds: chunkStart,
            means: descriptors,
            params: poolParams,
          }),
        },
        scores: {
          pipeline: scores.pipeline,
          group: bindNamed(runtime, scores.pipeline, chunkScoresBindings(batch.length), {
            ...perHeadBuffers("queries", batch.map((h) => inputs.q[h])),
            descriptors,
            queryChunk,
            anchorFirst,
            candidateResume,
            chosen,
            params: scoresParams,
          }),
        },
        chosen,
      });
    }
    return new MocGpuRouting(runtime, {
      compileMs,
      k,
      chunks: chunkCount,
      videoTokens,
      scoresGrid,
      batches: work,
      buffers,
    });
  }

  /** The selections of the last run, one per head in the order asked for. */
  async read(): Promise<MocSelection[]> {
    const selections: MocSelection[] = [];
    const perHead = this.#videoTokens * this.#k;
    for (const batch of this.#batches) {
      const chosen = await readUint32(this.#runtime, batch.chosen);
      for (let h = 0; h < batch.heads; h++) {
        selections.push({ k: this.#k, chosen: chosen.slice(h * perHead, (h + 1) * perHead) });
      }
    }
    return selections;
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/** Compiles (or takes from the runtime's cache) the pooling and the scoring/top-k pipelines. */
async function compilePipelines(
  runtime: GpuRuntime,
  config: { headDim: number; precision: "f32" | "f16"; k: number; heads: number },
): Promise<{ pool: CompiledPipeline; scores: CompiledPipeline }> {
  const { headDim, precision, k, heads } = config;
  const pool = await runtime.pipeline(
    `moc-chunk-pool:d${headDim}:${precision}:h${heads}`,
    segmentMeanWgsl({ headDim, precision, heads, gather: false }),
    bindingKinds(segmentMeanBindings(heads, false)),
  );
  const scores = await runtime.pipeline(
    `moc-chunk-scores-topk:d${headDim}:${precision}:k${k}:h${heads}`,
    chunkScoresTopkWgsl({ headDim, precision, k, heads }),
    bindingKinds(chunkScoresBindings(heads)),
  );
  return { pool, scores };
}

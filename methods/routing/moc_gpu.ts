/**
 * MoC routing on the GPU (methods.md, "Mixture of Contexts"): per head, chunk pooling
 * (kernels/chunk_pool_wgsl.ts) then scores and top-k (kernels/chunk_scores_topk_wgsl.ts), all
 * heads in one compute pass; the selections are read back and the form is built on the CPU.
 * Gives the same selections as methods/routing/moc_reference.ts wherever f32 and f64 scores
 * order the candidates alike.
 *
 * @module
 */
import type { GpuRuntime } from "../../gpu/runtime.ts";
import { dispatchGrid } from "../../kernels/attention.ts";
import { CHUNK_POOL_BINDINGS, chunkPoolWgsl } from "../../kernels/chunk_pool_wgsl.ts";
import {
  CHUNK_SCORES_BINDINGS,
  CHUNK_SCORES_WORKGROUP,
  chunkScoresTopkWgsl,
} from "../../kernels/chunk_scores_topk_wgsl.ts";
import type { GpuQkv } from "../method.ts";
import { bindBuffers, readUint32, type RoutingProgram } from "./gpu_routing.ts";
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

interface HeadWork {
  pool: GPUBindGroup;
  scores: GPUBindGroup;
  chosen: GPUBuffer;
}

/** MoC's routing program: pooling and top-k for every requested head. */
export class MocGpuRouting implements RoutingProgram {
  /** Compilation time of both pipelines, ms. */
  readonly compileMs: number;
  readonly #runtime: GpuRuntime;
  readonly #k: number;
  readonly #chunks: number;
  readonly #scoresGrid: [number, number];
  readonly #pool: GPUComputePipeline;
  readonly #scores: GPUComputePipeline;
  readonly #heads: HeadWork[];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      k: number;
      chunks: number;
      scoresGrid: [number, number];
      pool: GPUComputePipeline;
      scores: GPUComputePipeline;
      heads: HeadWork[];
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#k = parts.k;
    this.#chunks = parts.chunks;
    this.#scoresGrid = parts.scoresGrid;
    this.#pool = parts.pool;
    this.#scores = parts.scores;
    this.#heads = parts.heads;
    this.#buffers = parts.buffers;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: MocGpuOptions): Promise<MocGpuRouting> {
    const { chunks, k, inputs, heads, headDim } = options;
    const precision = inputs.precision;
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const chunkCount = mocVideoChunks(chunks);
    if (chunkCount > limit) {
      throw new RangeError(`moc: ${chunkCount} chunks exceed ${limit} workgroups a dimension`);
    }
    const pool = await runtime.pipeline(
      `moc-chunk-pool:d${headDim}:${precision}`,
      chunkPoolWgsl({ headDim, precision }),
      CHUNK_POOL_BINDINGS,
    );
    const scores = await runtime.pipeline(
      `moc-chunk-scores-topk:d${headDim}:${precision}:k${k}`,
      chunkScoresTopkWgsl({ headDim, precision, k }),
      CHUNK_SCORES_BINDINGS,
    );
    const videoTokens = mocVideoTokens(chunks);
    const scoresGrid = dispatchGrid(Math.ceil(videoTokens / CHUNK_SCORES_WORKGROUP), limit);
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const chunkStart = own(runtime.upload("moc-chunkStart", chunks.chunkStart));
    const queryChunk = own(runtime.upload("moc-queryChunk", mocQueryChunks(chunks)));
    const anchorFirst = own(runtime.upload("moc-anchorFirst", chunks.anchorFirst));
    const candidateResume = own(runtime.upload("moc-candidateResume", chunks.candidateResume));
    const poolParams = own(
      runtime.uniform("moc-pool-params", new Uint32Array([chunks.videoStart, chunkCount, 0, 0])),
    );
    const scoresParams = own(
      runtime.uniform(
        "moc-scores-params",
        new Uint32Array([chunks.videoStart, chunkCount, videoTokens, scoresGrid[0]]),
      ),
    );
    const work = heads.map((h) => {
      const descriptors = own(runtime.buffer(`moc-descriptors[${h}]`, chunkCount * headDim * 4));
      const chosen = own(runtime.buffer(`moc-chosen[${h}]`, videoTokens * k * 4));
      return {
        pool: bindBuffers(runtime, pool.pipeline, [
          inputs.k[h],
          chunkStart,
          descriptors,
          poolParams,
        ]),
        scores: bindBuffers(runtime, scores.pipeline, [
          inputs.q[h],
          descriptors,
          queryChunk,
          anchorFirst,
          candidateResume,
          chosen,
          scoresParams,
        ]),
        chosen,
      };
    });
    return new MocGpuRouting(runtime, {
      compileMs: pool.compileMs + scores.compileMs,
      k,
      chunks: chunkCount,
      scoresGrid,
      pool: pool.pipeline,
      scores: scores.pipeline,
      heads: work,
      buffers,
    });
  }

  /** Encodes pooling then scoring for every head. */
  encode(pass: GPUComputePassEncoder): void {
    for (const head of this.#heads) {
      pass.setPipeline(this.#pool);
      pass.setBindGroup(0, head.pool);
      pass.dispatchWorkgroups(this.#chunks);
      pass.setPipeline(this.#scores);
      pass.setBindGroup(0, head.scores);
      pass.dispatchWorkgroups(...this.#scoresGrid);
    }
  }

  /** The selections of the last run, one per head in the order asked for. */
  async read(): Promise<MocSelection[]> {
    const selections: MocSelection[] = [];
    for (const head of this.#heads) {
      selections.push({ k: this.#k, chosen: await readUint32(this.#runtime, head.chosen) });
    }
    return selections;
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

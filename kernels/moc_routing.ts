/**
 * MoC routing on the GPU (docs/methods.md, "Mixture of Contexts"): per head, chunk pooling
 * (kernels/chunk_pool_wgsl.ts) then scores and top-k (kernels/chunk_scores_topk_wgsl.ts), all
 * heads in one compute pass; the selections are read back and the form is built on the CPU.
 * Gives the same selections as methods/routing/moc_reference.ts wherever f32 and f64 scores
 * order the candidates alike.
 *
 * @module
 */
import { bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { CompiledPipeline, GpuRuntime } from "../gpu/runtime.ts";
import { dispatchGrid } from "./attention.ts";
import { CHUNK_POOL_BINDINGS, chunkPoolWgsl } from "./chunk_pool_wgsl.ts";
import {
  CHUNK_SCORES_BINDINGS,
  CHUNK_SCORES_WORKGROUP,
  chunkScoresTopkWgsl,
} from "./chunk_scores_topk_wgsl.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import { readUint32, type RoutingProgram } from "./routing_program.ts";
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

/** A compiled MoC routing: pipelines, per-head bind groups, grid sizes and owned buffers. */
interface MocRoutingParts {
  compileMs: number;
  k: number;
  chunks: number;
  scoresGrid: [number, number];
  pool: GPUComputePipeline;
  scores: GPUComputePipeline;
  heads: HeadWork[];
  buffers: GPUBuffer[];
}

/** MoC's routing program: pooling and top-k for every requested head. */
export class MocGpuRouting implements RoutingProgram {
  /** Compilation time of both pipelines, ms. */
  readonly compileMs: number;
  readonly #runtime: GpuRuntime;
  readonly #parts: MocRoutingParts;

  private constructor(runtime: GpuRuntime, parts: MocRoutingParts) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#parts = parts;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: MocGpuOptions): Promise<MocGpuRouting> {
    const { chunks, k, inputs, heads, headDim } = options;
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const chunkCount = mocVideoChunks(chunks);
    if (chunkCount > limit) {
      throw new RangeError(`moc: ${chunkCount} chunks exceed ${limit} workgroups a dimension`);
    }
    const { pool, scores } = await compilePipelines(runtime, {
      headDim,
      precision: inputs.precision,
      k,
    });
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
    const work = heads.map((h): HeadWork => {
      const descriptors = own(runtime.buffer(`moc-descriptors[${h}]`, chunkCount * headDim * 4));
      const chosen = own(runtime.buffer(`moc-chosen[${h}]`, videoTokens * k * 4));
      return {
        pool: bindNamed(runtime, pool.pipeline, CHUNK_POOL_BINDINGS, {
          keys: inputs.k[h],
          chunkStart,
          descriptors,
          params: poolParams,
        }),
        scores: bindNamed(runtime, scores.pipeline, CHUNK_SCORES_BINDINGS, {
          queries: inputs.q[h],
          descriptors,
          queryChunk,
          anchorFirst,
          candidateResume,
          chosen,
          params: scoresParams,
        }),
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
    for (const head of this.#parts.heads) {
      pass.setPipeline(this.#parts.pool);
      pass.setBindGroup(0, head.pool);
      pass.dispatchWorkgroups(this.#parts.chunks);
      pass.setPipeline(this.#parts.scores);
      pass.setBindGroup(0, head.scores);
      pass.dispatchWorkgroups(...this.#parts.scoresGrid);
    }
  }

  /** The selections of the last run, one per head in the order asked for. */
  async read(): Promise<MocSelection[]> {
    const selections: MocSelection[] = [];
    for (const head of this.#parts.heads) {
      selections.push({ k: this.#parts.k, chosen: await readUint32(this.#runtime, head.chosen) });
    }
    return selections;
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#parts.buffers);
  }
}

/** Compiles (or takes from the runtime's cache) the pooling and the scoring/top-k pipelines. */
async function compilePipelines(
  runtime: GpuRuntime,
  config: { headDim: number; precision: "f32" | "f16"; k: number },
): Promise<{ pool: CompiledPipeline; scores: CompiledPipeline }> {
  const { headDim, precision, k } = config;
  const pool = await runtime.pipeline(
    `moc-chunk-pool:d${headDim}:${precision}`,
    chunkPoolWgsl({ headDim, precision }),
    bindingKinds(CHUNK_POOL_BINDINGS),
  );
  const scores = await runtime.pipeline(
    `moc-chunk-scores-topk:d${headDim}:${precision}:k${k}`,
    chunkScoresTopkWgsl({ headDim, precision, k }),
    bindingKinds(CHUNK_SCORES_BINDINGS),
  );
  return { pool, scores };
}

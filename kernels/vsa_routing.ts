/**
 * VSA's coarse-stage routing on the GPU (docs/methods.md, "Video Sparse Attention"): per head,
 * the cube means of Q and K (kernels/pool_rows_wgsl.ts, f32) then the score-and-sort selection
 * (kernels/cube_scores_topk_wgsl.ts), all heads in one compute pass; the choices are read back
 * and the form is built on the CPU. Gives the choices of methods/routing/vsa_reference.ts
 * wherever f32 and f64 scores order the cubes alike.
 *
 * @module
 */
import { bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import { pooledRows, type TokenPooling } from "../form/pooling.ts";
import { dispatchGrid } from "./attention.ts";
import { POOL_ROWS_BINDINGS, poolRowsWgsl } from "./pool_rows_wgsl.ts";
import {
  CUBE_SCORES_BINDINGS,
  cubeScoresThreads,
  cubeScoresTopkWgsl,
  cubeScoresWorkgroupBytes,
} from "./cube_scores_topk_wgsl.ts";
import {
  poisonBuffers,
  readUint32,
  type RoutingProgram,
  type RoutingStep,
} from "./routing_program.ts";

/** Stage names of the VSA routing steps (the keys of the record's routing stages). */
export const VSA_STAGES = { pool: "cube-pool", select: "cube-scores-topk" } as const;

/** What {@link VsaGpuRouting.create} needs. */
export interface VsaGpuOptions {
  /** The cubes as groups of original tokens. */
  pooling: TokenPooling;
  /** Cubes kept per query cube (at most the number of cubes). */
  k: number;
  /** Q/K/V on the GPU (every head). */
  inputs: GpuQkv;
  /** Heads to route, in output order. */
  heads: number[];
  /** Head dimension d (a multiple of 4). */
  headDim: number;
  /** Threads of the selection workgroup; absent: the device's ({@link cubeScoresThreads}). */
  threads?: number;
}

/** Whether the selection of `cubes` cubes fits the device's workgroup memory. */
export function vsaRoutingFits(runtime: GpuRuntime, cubes: number, headDim: number): boolean {
  const limits = runtime.device.limits;
  return cubeScoresWorkgroupBytes(cubes, headDim) <= limits.maxComputeWorkgroupStorageSize &&
    cubes <= limits.maxComputeWorkgroupsPerDimension;
}

interface HeadWork {
  poolQ: GPUBindGroup;
  poolK: GPUBindGroup;
  scores: GPUBindGroup;
  chosen: GPUBuffer;
}

/** VSA's routing program: cube pooling and selection for every requested head. */
export class VsaGpuRouting implements RoutingProgram {
  /** Compilation time of both pipelines, ms (0 when cached). */
  readonly compileMs: number;
  #steps?: RoutingStep[];
  readonly #runtime: GpuRuntime;
  readonly #pool: GPUComputePipeline;
  readonly #scores: GPUComputePipeline;
  readonly #heads: HeadWork[];
  readonly #cubes: number;
  readonly #k: number;
  readonly #grid: [number, number];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      pool: GPUComputePipeline;
      scores: GPUComputePipeline;
      heads: HeadWork[];
      cubes: number;
      k: number;
      grid: [number, number];
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#pool = parts.pool;
    this.#scores = parts.scores;
    this.#heads = parts.heads;
    this.#cubes = parts.cubes;
    this.#k = parts.k;
    this.#grid = parts.grid;
    this.#buffers = parts.buffers;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: VsaGpuOptions): Promise<VsaGpuRouting> {
    const { pooling, k, inputs, heads, headDim } = options;
    const cubes = pooledRows(pooling);
    if (!vsaRoutingFits(runtime, cubes, headDim)) {
      throw new RangeError(`vsa: ${cubes} cubes do not fit the selection kernel on this device`);
    }
    const pool = await runtime.pipeline(
      `pool-rows:d${headDim}:${inputs.precision}:f32`,
      poolRowsWgsl({ headDim, precision: inputs.precision, output: "f32" }),
      bindingKinds(POOL_ROWS_BINDINGS),
    );
    const threads = options.threads ?? cubeScoresThreads(cubes, runtime.device.limits);
    const scores = await runtime.pipeline(
      `vsa-cube-scores-topk:d${headDim}:c${cubes}:k${k}:t${threads}`,
      cubeScoresTopkWgsl({ headDim, cubes, k, threads }),
      bindingKinds(CUBE_SCORES_BINDINGS),
    );
    const grid = dispatchGrid(cubes, runtime.device.limits.maxComputeWorkgroupsPerDimension);
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const offsets = own(runtime.upload("vsa-offsets", pooling.offsets));
    const members = own(runtime.upload("vsa-members", pooling.members));
    const poolParams = own(runtime.uniform("vsa-pool-params", new Uint32Array([cubes, 0, 0, 0])));
    const scoresParams = own(
      runtime.uniform("vsa-scores-params", new Uint32Array([grid[0], 0, 0, 0])),
    );
    const work = heads.map((h): HeadWork => {
      const pooledQ = own(runtime.buffer(`vsa-pooledQ[${h}]`, cubes * headDim * 4));
      const pooledK = own(runtime.buffer(`vsa-pooledK[${h}]`, cubes * headDim * 4));
      const chosen = own(runtime.buffer(`vsa-chosen[${h}]`, cubes * k * 4));
      const poolOf = (rows: GPUBuffer, pooled: GPUBuffer) =>
        bindNamed(runtime, pool.pipeline, POOL_ROWS_BINDINGS, {
          rows,
          offsets,
          members,
          pooled,
          params: poolParams,
        });
      return {
        poolQ: poolOf(inputs.q[h], pooledQ),
        poolK: poolOf(inputs.k[h], pooledK),
        scores: bindNamed(runtime, scores.pipeline, CUBE_SCORES_BINDINGS, {
          queries: pooledQ,
          keys: pooledK,
          chosen,
          params: scoresParams,
        }),
        chosen,
      };
    });
    return new VsaGpuRouting(runtime, {
      compileMs: pool.compileMs + scores.compileMs,
      pool: pool.pipeline,
      scores: scores.pipeline,
      heads: work,
      cubes,
      k,
      grid,
      buffers,
    });
  }

  /** The steps of a run: Q and K cube pooling, then the coarse scores and top-k; every head. */
  get steps(): readonly RoutingStep[] {
    return this.#steps ??= this.#buildSteps();
  }

  #buildSteps(): RoutingStep[] {
    const heads = this.#heads;
    const pool = this.#pool;
    const scores = this.#scores;
    const cubes = this.#cubes;
    const grid = this.#grid;
    return [{
      stage: VSA_STAGES.pool,
      encode(pass) {
        pass.setPipeline(pool);
        for (const head of heads) {
          pass.setBindGroup(0, head.poolQ);
          pass.dispatchWorkgroups(cubes);
          pass.setBindGroup(0, head.poolK);
          pass.dispatchWorkgroups(cubes);
        }
      },
    }, {
      stage: VSA_STAGES.select,
      encode(pass) {
        pass.setPipeline(scores);
        for (const head of heads) {
          pass.setBindGroup(0, head.scores);
          pass.dispatchWorkgroups(...grid);
        }
      },
    }];
  }

  /** Poisons every output read back ({@link poisonBuffers}) before a run that must write it all. */
  poisonOutputs(): void {
    poisonBuffers(this.#runtime, this.#heads.map((head) => head.chosen));
  }

  /** The choices of the last run, [C, k] per head in the order asked for. */
  async read(): Promise<{ k: number; chosen: Uint32Array }[]> {
    const selections = [];
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

/**
 * SpargeAttn's block prediction on the GPU (docs/methods.md, "SpargeAttn";
 * kernels/sparge_routing_wgsl.ts): per head, the mean row of K (when `smoothK`: an uncentred
 * pooling of K, then the length-weighted mean of its block means), pooling and the
 * self-similarity check of Q and K blocks, then per query block the softmax of pooled scores,
 * sorted and cut at the CDF threshold, all heads in one compute pass. The kept block pairs are
 * read back and the form is built on the CPU. Gives the selections of
 * methods/routing/sparge_reference.ts wherever f32 and f64 fall on the same side of the
 * thresholds.
 *
 * @module
 */
import { bindingKinds, bindNamed } from "../gpu/bindings.ts";
import type { CompiledPipeline, GpuRuntime } from "../gpu/runtime.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import type { SpargeRoutingOptions, SpargeSelection } from "./sparge_selection.ts";
import { readUint32, type RoutingProgram, type RoutingStep } from "./routing_program.ts";
import {
  BLOCK_POOL_BINDINGS,
  BLOCK_SELECT_BINDINGS,
  blockPoolWgsl,
  blockSelectBytes,
  blockSelectWgsl,
  COLUMN_MEAN_BINDINGS,
  columnMeanWgsl,
  SPARGE_WORKGROUP,
} from "./sparge_routing_wgsl.ts";

/** Stage names of the SpargeAttn routing steps (the keys of the record's routing stages). */
export const SPARGE_STAGES = {
  mean: "key-mean",
  pool: "block-pool",
  select: "block-select",
} as const;

/** What {@link SpargeGpuRouting.create} needs. */
export interface SpargeGpuOptions extends SpargeRoutingOptions {
  /** Sequence length L. */
  tokens: number;
  /** Q/K/V on the GPU (every head). */
  inputs: GpuQkv;
  /** Heads to route, in output order. */
  heads: number[];
}

interface HeadWork {
  /** Uncentred pooling of K and the mean of its blocks (smoothK only). */
  mean: { pool: GPUBindGroup; mean: GPUBindGroup } | null;
  poolQ: GPUBindGroup;
  poolK: GPUBindGroup;
  select: GPUBindGroup;
  similarQ: GPUBuffer;
  similarK: GPUBuffer;
  kept: GPUBuffer;
}

interface Pipelines {
  mean: GPUComputePipeline;
  pool: GPUComputePipeline;
  select: GPUComputePipeline;
}

/** SpargeAttn's routing program: block prediction for every requested head. */
export class SpargeGpuRouting implements RoutingProgram {
  /** Compilation time of the pipelines, ms. */
  readonly compileMs: number;
  #steps?: RoutingStep[];
  readonly #runtime: GpuRuntime;
  readonly #pipelines: Pipelines;
  readonly #heads: HeadWork[];
  readonly #buffers: GPUBuffer[];
  readonly #blocks: { query: number; key: number };

  private constructor(
    runtime: GpuRuntime,
    parts: {
      compileMs: number;
      pipelines: Pipelines;
      heads: HeadWork[];
      buffers: GPUBuffer[];
      blocks: { query: number; key: number };
    },
  ) {
    this.#runtime = runtime;
    this.compileMs = parts.compileMs;
    this.#pipelines = parts.pipelines;
    this.#heads = parts.heads;
    this.#buffers = parts.buffers;
    this.#blocks = parts.blocks;
  }

  /** Compiles the kernels and binds every head's buffers. */
  static async create(runtime: GpuRuntime, options: SpargeGpuOptions): Promise<SpargeGpuRouting> {
    const { tokens, headDim, blockQ, blockK, inputs, heads } = options;
    const query = Math.ceil(tokens / blockQ);
    const key = Math.ceil(tokens / blockK);
    const sortSize = 2 ** Math.ceil(Math.log2(Math.max(2, key)));
    const memory = runtime.device.limits.maxComputeWorkgroupStorageSize;
    if (blockSelectBytes(sortSize, headDim) > memory) {
      throw new RangeError(
        `sparge: sorting ${key} key blocks needs ${
          blockSelectBytes(sortSize, headDim)
        } bytes of workgroup memory, over this device's ${memory} (raise blockK)`,
      );
    }
    if (headDim > SPARGE_WORKGROUP) {
      throw new RangeError(`sparge: head dim ${headDim} exceeds ${SPARGE_WORKGROUP}`);
    }
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    if (Math.max(query, key) > limit) {
      throw new RangeError(`sparge: ${Math.max(query, key)} blocks exceed ${limit} workgroups`);
    }
    const { pipelines, compileMs } = await compilePipelines(runtime, {
      headDim,
      precision: inputs.precision,
      sortSize,
    });
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const params = (label: string, block: number, blocks: number, threshold: number) => {
      const words = new Uint32Array([tokens, block, blocks, 0, key, 0, 0, 0]);
      new Float32Array(words.buffer)[3] = threshold;
      return own(runtime.uniform(label, words));
    };
    const meanParams = params("sparge-mean-params", blockK, key, 0);
    const poolQParams = params("sparge-poolQ-params", blockQ, query, options.simThreshold);
    const poolKParams = params("sparge-poolK-params", blockK, key, options.simThreshold);
    const selectParams = params("sparge-select-params", blockQ, query, options.cdfThreshold);
    const zeros = own(runtime.buffer("sparge-zero-centre", headDim * 4));
    const work = heads.map((h): HeadWork => {
      const centre = options.smoothK
        ? own(runtime.buffer(`sparge-centre[${h}]`, headDim * 4))
        : zeros;
      const pooledQ = own(runtime.buffer(`sparge-pooledQ[${h}]`, query * headDim * 4));
      const pooledK = own(runtime.buffer(`sparge-pooledK[${h}]`, key * headDim * 4));
      const similarQ = own(runtime.buffer(`sparge-similarQ[${h}]`, query * 4));
      const similarK = own(runtime.buffer(`sparge-similarK[${h}]`, key * 4));
      const kept = own(runtime.buffer(`sparge-kept[${h}]`, query * key * 4));
      return {
        mean: options.smoothK
          ? {
            pool: bindNamed(runtime, pipelines.pool, BLOCK_POOL_BINDINGS, {
              x: inputs.k[h],
              centre: zeros,
              pooled: pooledK,
              similar: similarK,
              params: poolKParams,
            }),
            mean: bindNamed(runtime, pipelines.mean, COLUMN_MEAN_BINDINGS, {
              blockMeans: pooledK,
              centre,
              params: meanParams,
            }),
          }
          : null,
        poolQ: bindNamed(runtime, pipelines.pool, BLOCK_POOL_BINDINGS, {
          x: inputs.q[h],
          centre: zeros,
          pooled: pooledQ,
          similar: similarQ,
          params: poolQParams,
        }),
        poolK: bindNamed(runtime, pipelines.pool, BLOCK_POOL_BINDINGS, {
          x: inputs.k[h],
          centre,
          pooled: pooledK,
          similar: similarK,
          params: poolKParams,
        }),
        select: bindNamed(runtime, pipelines.select, BLOCK_SELECT_BINDINGS, {
          pooledQ,
          similarQ,
          pooledK,
          similarK,
          kept,
          params: selectParams,
        }),
        similarQ,
        similarK,
        kept,
      };
    });
    return new SpargeGpuRouting(runtime, {
      compileMs,
      pipelines,
      heads: work,
      buffers,
      blocks: { query, key },
    });
  }

  /** The steps of a run: K mean (when smoothing), Q and K pooling, the selection; every head. */
  get steps(): readonly RoutingStep[] {
    return this.#steps ??= this.#buildSteps();
  }

  #buildSteps(): RoutingStep[] {
    const { mean, pool, select } = this.#pipelines;
    const heads = this.#heads;
    const blocks = this.#blocks;
    const steps: RoutingStep[] = [];
    if (heads.some((head) => head.mean)) {
      steps.push({
        stage: SPARGE_STAGES.mean,
        encode(pass) {
          for (const head of heads) {
            if (!head.mean) continue;
            pass.setPipeline(pool);
            pass.setBindGroup(0, head.mean.pool);
            pass.dispatchWorkgroups(blocks.key);
            pass.setPipeline(mean);
            pass.setBindGroup(0, head.mean.mean);
            pass.dispatchWorkgroups(1);
          }
        },
      });
    }
    steps.push({
      stage: SPARGE_STAGES.pool,
      encode(pass) {
        pass.setPipeline(pool);
        for (const head of heads) {
          pass.setBindGroup(0, head.poolQ);
          pass.dispatchWorkgroups(blocks.query);
          pass.setBindGroup(0, head.poolK);
          pass.dispatchWorkgroups(blocks.key);
        }
      },
    }, {
      stage: SPARGE_STAGES.select,
      encode(pass) {
        pass.setPipeline(select);
        for (const head of heads) {
          pass.setBindGroup(0, head.select);
          pass.dispatchWorkgroups(blocks.query);
        }
      },
    });
    return steps;
  }

  /** The selections of the last run, one per head in the order asked for. */
  async read(): Promise<SpargeSelection[]> {
    const selections: SpargeSelection[] = [];
    for (const head of this.#heads) {
      const bytes = (words: Uint32Array) => Uint8Array.from(words);
      selections.push({
        queryBlocks: this.#blocks.query,
        keyBlocks: this.#blocks.key,
        kept: bytes(await readUint32(this.#runtime, head.kept)),
        queryBlockSimilar: bytes(await readUint32(this.#runtime, head.similarQ)),
        keyBlockSimilar: bytes(await readUint32(this.#runtime, head.similarK)),
      });
    }
    return selections;
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/** Compiles (or takes from the runtime's cache) the three pipelines. */
async function compilePipelines(
  runtime: GpuRuntime,
  config: { headDim: number; precision: "f32" | "f16"; sortSize: number },
): Promise<{ pipelines: Pipelines; compileMs: number }> {
  const { headDim, precision, sortSize } = config;
  const compiled: CompiledPipeline[] = await Promise.all([
    runtime.pipeline(
      `sparge-column-mean:d${headDim}`,
      columnMeanWgsl({ headDim }),
      bindingKinds(COLUMN_MEAN_BINDINGS),
    ),
    runtime.pipeline(
      `sparge-block-pool:d${headDim}:${precision}`,
      blockPoolWgsl({ headDim, precision }),
      bindingKinds(BLOCK_POOL_BINDINGS),
    ),
    runtime.pipeline(
      `sparge-block-select:d${headDim}:sort${sortSize}`,
      blockSelectWgsl({ headDim, sortSize }),
      bindingKinds(BLOCK_SELECT_BINDINGS),
    ),
  ]);
  const [mean, pool, select] = compiled.map((c) => c.pipeline);
  return {
    pipelines: { mean, pool, select },
    compileMs: compiled.reduce((sum, c) => sum + c.compileMs, 0),
  };
}

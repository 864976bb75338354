/**
 * Attention of a layout with several branches (MoGA as published: group, spatial-temporal and
 * per-frame attention, averaged; VSA: fine attention plus its gated coarse branch): one
 * {@link AttentionProgram} per branch, encoded step by step side by side, then the accumulate
 * kernel adds `weight` × each branch's outputs into the case's outputs. LSE: the largest branch
 * LSE (a lower bound of the union's) or the first branch's; or outputs and LSEs merged by log-sum-exp
 * (the exact softmax over the union of disjoint branches). A pooled branch first pools Q/K/V into
 * group means (kernels/pool_rows_wgsl.ts) and runs on that shorter sequence; each token adds its
 * group's output row. Same surface as one program, so the runner times, checks and releases it
 * alike.
 *
 * @module
 */
import { PoisonFill } from "../gpu/poison_fill.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { ExecutionForm } from "../form/form.ts";
import { pooledRowOfToken, pooledRows, type TokenPooling } from "../form/pooling.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import { bindingKinds, bindNamed } from "../gpu/bindings.ts";
import {
  ACCUMULATE_OUTPUTS_BINDINGS,
  ACCUMULATE_POOLED_BINDINGS,
  ACCUMULATE_WORKGROUP,
  accumulateOutputsWgsl,
  accumulateThreads,
  type AccumulateVariant,
  accumulateVariantName,
} from "./accumulate_outputs_wgsl.ts";
import { POOL_ROWS_BINDINGS, poolRowsWgsl } from "./pool_rows_wgsl.ts";
import {
  ATTENTION_STEPS,
  type AttentionOutputs,
  AttentionProgram,
  type AttentionProgramOptions,
  dispatchGrid,
} from "./attention.ts";
import type { TilingChoice } from "./attention_tuner.ts";

/** What the runner needs of a case's attention: one program or several branches. */
export type CaseAttention = Pick<
  AttentionProgram,
  | "outputs"
  | "compileMs"
  | "memoryBytes"
  | "tiling"
  | "tilings"
  | "encode"
  | "poisonOutputs"
  | "release"
>;

/** One branch of {@link BranchedAttention.create}. */
export interface AttentionBranch {
  /** One form for all heads, or one per head (over the pooled sequence when `pooling` is set). */
  forms: ExecutionForm[];
  /** Multiplier of the branch's output rows in the merged outputs. */
  weight: number;
  /** Run on group means of Q/K/V (form/pooling.ts); never the first branch. */
  pooling?: TokenPooling;
}

/** Options of {@link BranchedAttention.create}: the kernel's and how the LSE merges. */
export interface BranchedAttentionOptions extends AttentionProgramOptions {
  /**
   * `max` (default): the largest branch LSE; `first`: the first branch's LSE; `merge`: outputs and
   * LSEs merged by log-sum-exp (the weights are not used; no branch may be pooled).
   */
  lse?: "max" | "first" | "merge";
}

/** Pooling dispatches of one pooled branch, encoded before its attention. */
interface PoolingWork {
  groups: number;
  bindGroups: GPUBindGroup[];
}

/** Attention branches whose outputs are summed with weights (see module doc). */
export class BranchedAttention implements CaseAttention {
  /** Outputs in the original token order: Σ weight × branch output. */
  readonly outputs: AttentionOutputs;
  /** Compilation time of every branch's pipelines, pooling and the accumulate kernels. */
  readonly compileMs: number;
  /** Bytes of GPU memory of every branch, the pooled inputs and the merged outputs. */
  readonly memoryBytes: number;
  /** The tiling of the first branch. */
  readonly tiling: TilingChoice;
  /** The tiling of each branch, in branch order (each fitted to its own forms). */
  readonly tilings: TilingChoice[];
  readonly #runtime: GpuRuntime;
  readonly #poison: PoisonFill;
  readonly #branches: AttentionProgram[];
  readonly #pool: GPUComputePipeline | null;
  readonly #pooling: (PoolingWork | null)[];
  readonly #accumulate: GPUComputePipeline[];
  readonly #bindGroups: GPUBindGroup[][];
  readonly #grids: [number, number][];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      branches: AttentionProgram[];
      poison: PoisonFill;
      pool: GPUComputePipeline | null;
      pooling: (PoolingWork | null)[];
      accumulate: GPUComputePipeline[];
      extraCompileMs: number;
      bindGroups: GPUBindGroup[][];
      grids: [number, number][];
      outputs: AttentionOutputs;
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.#branches = parts.branches;
    this.#poison = parts.poison;
    this.#pool = parts.pool;
    this.#pooling = parts.pooling;
    this.#accumulate = parts.accumulate;
    this.#bindGroups = parts.bindGroups;
    this.#grids = parts.grids;
    this.#buffers = parts.buffers;
    this.outputs = parts.outputs;
    this.tiling = parts.branches[0].tiling;
    this.tilings = parts.branches.map((b) => b.tiling);
    this.compileMs = parts.branches.reduce((sum, b) => sum + b.compileMs, parts.extraCompileMs);
    this.memoryBytes = parts.branches.reduce(
      (sum, b) => sum + b.memoryBytes,
      parts.buffers.reduce((sum, b) => sum + b.size, 0),
    );
  }

  /**
   * Prepares every branch (each one form for all heads, or one per head; pooled branches on the
   * group means of `inputs`) and the weighted sum of their outputs.
   */
  static async create(
    runtime: GpuRuntime,
    branches: AttentionBranch[],
    inputs: GpuQkv,
    options: BranchedAttentionOptions = {},
  ): Promise<BranchedAttention> {
    if (branches.length === 0) throw new RangeError("branches must hold at least one branch");
    if (branches[0].pooling) throw new RangeError("branches: the first branch cannot be pooled");
    const lse = options.lse ?? "max";
    if (lse === "merge" && branches.some((b) => b.pooling)) {
      throw new RangeError("branches: a log-sum-exp merge needs every branch over the L tokens");
    }
    const tokens = branches[0].forms[0].tokens;
    const heads = inputs.q.length;
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const programs: AttentionProgram[] = [];
    const pooling: (PoolingWork | null)[] = [];
    let pool: GPUComputePipeline | null = null;
    let extraCompileMs = 0;
    try {
      for (const branch of branches) {
        let branchInputs = inputs;
        let work: PoolingWork | null = null;
        if (branch.pooling) {
          const headDim = inputs.q[0].size / tokens / (inputs.precision === "f16" ? 2 : 4);
          const compiled = await runtime.pipeline(
            `pool-rows:d${headDim}:${inputs.precision}:${inputs.precision}`,
            poolRowsWgsl({ headDim, precision: inputs.precision, output: inputs.precision }),
            bindingKinds(POOL_ROWS_BINDINGS),
          );
          pool = compiled.pipeline;
          extraCompileMs += compiled.compileMs;
          ({ inputs: branchInputs, work } = poolInputs(runtime, {
            pipeline: pool,
            pooling: branch.pooling,
            inputs,
            headDim,
            own,
          }));
        }
        pooling.push(work);
        programs.push(await AttentionProgram.create(runtime, branch.forms, branchInputs, options));
      }
    } catch (error) {
      programs.forEach((p) => p.release());
      runtime.release(buffers);
      throw error;
    }
    const headDim = programs[0].outputs.out[0].size / tokens / 4;
    const variants = branches.map((branch): AccumulateVariant => ({
      lse: lse === "first" ? "keep" : lse,
      pooled: branch.pooling !== undefined,
    }));
    const accumulate: GPUComputePipeline[] = [];
    for (const variant of variants) {
      const compiled = await runtime.pipeline(
        variant.pooled || variant.lse !== "max"
          ? `accumulate-outputs:d${headDim}:${accumulateVariantName(variant)}`
          : `accumulate-outputs:d${headDim}`,
        accumulateOutputsWgsl(headDim, variant),
        variant.pooled ? ACCUMULATE_POOLED_BINDINGS : ACCUMULATE_OUTPUTS_BINDINGS,
      );
      accumulate.push(compiled.pipeline);
      extraCompileMs += compiled.compileMs;
    }
    const grids = variants.map((variant) =>
      dispatchGrid(
        Math.ceil(accumulateThreads(variant, tokens, headDim) / ACCUMULATE_WORKGROUP),
        runtime.device.limits.maxComputeWorkgroupsPerDimension,
      )
    );
    const outputs: AttentionOutputs = { out: [], lse: [] };
    for (let h = 0; h < heads; h++) {
      outputs.out.push(own(runtime.buffer(`branchesOut[${h}]`, tokens * headDim * 4)));
      outputs.lse.push(own(runtime.buffer(`branchesLse[${h}]`, tokens * 4)));
    }
    const bindGroups = programs.map((program, b) => {
      const params = new Uint32Array([tokens, grids[b][0], b === 0 ? 1 : 0, 0]);
      new Float32Array(params.buffer)[3] = branches[b].weight;
      const uniform = own(runtime.uniform(`accumulateParams[${b}]`, params));
      const pooled = branches[b].pooling;
      const rowMap = pooled
        ? [own(runtime.upload(`accumulateRowMap[${b}]`, pooledRowOfToken(pooled, tokens)))]
        : [];
      return Array.from({ length: heads }, (_, h) =>
        runtime.device.createBindGroup({
          layout: accumulate[b].getBindGroupLayout(0),
          entries: [
            program.outputs.out[h],
            program.outputs.lse[h],
            outputs.out[h],
            outputs.lse[h],
            uniform,
            ...rowMap,
          ].map((buffer, binding) => ({ binding, resource: { buffer } })),
        }));
    });
    return new BranchedAttention(runtime, {
      branches: programs,
      poison: await PoisonFill.create(runtime, [...outputs.out, ...outputs.lse]),
      pool,
      pooling,
      accumulate,
      extraCompileMs,
      bindGroups,
      grids,
      outputs,
      buffers,
    });
  }

  /**
   * Encodes the pooling of every pooled branch, then the branches one attention step at a time
   * (every branch's gather, then every branch's attention, …; {@link AttentionProgram.encode}),
   * then the weighted sum of their outputs.
   */
  encode(pass: GPUComputePassEncoder): void {
    this.#pooling.forEach((work) => {
      if (!work || !this.#pool) return;
      pass.setPipeline(this.#pool);
      for (const group of work.bindGroups) {
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(work.groups);
      }
    });
    for (const step of ATTENTION_STEPS) {
      for (const branch of this.#branches) branch.encodeStep(pass, step);
    }
    this.#bindGroups.forEach((groups, b) => {
      pass.setPipeline(this.#accumulate[b]);
      for (const group of groups) {
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(...this.#grids[b]);
      }
    });
  }

  /** Fills every branch's outputs and the merged outputs with NaN (an unwritten row shows). */
  poisonOutputs(): void {
    for (const branch of this.#branches) branch.poisonOutputs();
    this.#poison.submit();
  }

  /** Frees every branch's buffers, the pooled inputs and the merged outputs (not the inputs). */
  release(): void {
    for (const branch of this.#branches) branch.release();
    this.#runtime.release(this.#buffers);
  }
}

/** The pooled Q/K/V of every head (group means, stored like `inputs`) and their dispatches. */
function poolInputs(
  runtime: GpuRuntime,
  job: {
    pipeline: GPUComputePipeline;
    pooling: TokenPooling;
    inputs: GpuQkv;
    headDim: number;
    own: (b: GPUBuffer) => GPUBuffer;
  },
): { inputs: GpuQkv; work: PoolingWork } {
  const { pipeline, pooling, inputs, headDim, own } = job;
  const groups = pooledRows(pooling);
  const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
  if (groups > limit) {
    throw new RangeError(`pooling: ${groups} groups exceed ${limit} workgroups a dimension`);
  }
  const offsets = own(runtime.upload("poolOffsets", pooling.offsets));
  const members = own(runtime.upload("poolMembers", pooling.members));
  const params = own(runtime.uniform("poolParams", new Uint32Array([groups, 0, 0, 0])));
  const bytes = groups * headDim * (inputs.precision === "f16" ? 2 : 4);
  const pooled: GpuQkv = { precision: inputs.precision, q: [], k: [], v: [] };
  const bindGroups: GPUBindGroup[] = [];
  for (const tensor of ["q", "k", "v"] as const) {
    inputs[tensor].forEach((rows, h) => {
      const out = own(runtime.buffer(`pooled-${tensor}[${h}]`, bytes));
      pooled[tensor].push(out);
      bindGroups.push(bindNamed(runtime, pipeline, POOL_ROWS_BINDINGS, {
        rows,
        offsets,
        members,
        pooled: out,
        params,
      }));
    });
  }
  return { inputs: pooled, work: { groups, bindGroups } };
}

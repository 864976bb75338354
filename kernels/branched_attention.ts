/**
 * Attention of a layout with several branches (MoGA as published: group, spatial-temporal and
 * per-frame attention, averaged): one {@link AttentionProgram} per branch, encoded one after the
 * other, then the accumulate kernel adds `weight` × each branch's outputs into the case's
 * outputs (LSE: the largest branch LSE, a lower bound of the union's). Same surface as one
 * program, so the runner times, checks and releases it alike.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { ExecutionForm } from "../form/form.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import {
  ACCUMULATE_OUTPUTS_BINDINGS,
  ACCUMULATE_WORKGROUP,
  accumulateOutputsWgsl,
} from "./accumulate_outputs_wgsl.ts";
import {
  type AttentionOutputs,
  AttentionProgram,
  type AttentionProgramOptions,
  dispatchGrid,
} from "./attention.ts";
import type { TilingChoice } from "./attention_tuner.ts";

/** What the runner needs of a case's attention: one program or several branches. */
export type CaseAttention = Pick<
  AttentionProgram,
  "outputs" | "compileMs" | "memoryBytes" | "tiling" | "encode" | "poisonOutputs" | "release"
>;

/** Attention branches whose outputs are summed with weights (see module doc). */
export class BranchedAttention implements CaseAttention {
  /** Outputs in the original token order: Σ weight × branch output. */
  readonly outputs: AttentionOutputs;
  /** Compilation time of every branch's pipelines and the accumulate kernel. */
  readonly compileMs: number;
  /** Bytes of GPU memory of every branch and the merged outputs. */
  readonly memoryBytes: number;
  /** The tiling of the branches (all alike). */
  readonly tiling: TilingChoice;
  readonly #runtime: GpuRuntime;
  readonly #branches: AttentionProgram[];
  readonly #accumulate: GPUComputePipeline;
  readonly #bindGroups: GPUBindGroup[][];
  readonly #grid: [number, number];
  readonly #buffers: GPUBuffer[];

  private constructor(
    runtime: GpuRuntime,
    parts: {
      branches: AttentionProgram[];
      accumulate: GPUComputePipeline;
      accumulateMs: number;
      bindGroups: GPUBindGroup[][];
      grid: [number, number];
      outputs: AttentionOutputs;
      buffers: GPUBuffer[];
    },
  ) {
    this.#runtime = runtime;
    this.#branches = parts.branches;
    this.#accumulate = parts.accumulate;
    this.#bindGroups = parts.bindGroups;
    this.#grid = parts.grid;
    this.#buffers = parts.buffers;
    this.outputs = parts.outputs;
    this.tiling = parts.branches[0].tiling;
    this.compileMs = parts.branches.reduce((sum, b) => sum + b.compileMs, parts.accumulateMs);
    this.memoryBytes = parts.branches.reduce(
      (sum, b) => sum + b.memoryBytes,
      parts.buffers.reduce((sum, b) => sum + b.size, 0),
    );
  }

  /**
   * Prepares every branch (each one form for all heads, or one per head) and the weighted sum
   * of their outputs.
   */
  static async create(
    runtime: GpuRuntime,
    branches: { forms: ExecutionForm[]; weight: number }[],
    inputs: GpuQkv,
    options: AttentionProgramOptions = {},
  ): Promise<BranchedAttention> {
    if (branches.length === 0) throw new RangeError("branches must hold at least one branch");
    const programs: AttentionProgram[] = [];
    try {
      for (const branch of branches) {
        programs.push(await AttentionProgram.create(runtime, branch.forms, inputs, options));
      }
    } catch (error) {
      programs.forEach((p) => p.release());
      throw error;
    }
    const tokens = branches[0].forms[0].tokens;
    const heads = inputs.q.length;
    const headDim = programs[0].outputs.out[0].size / tokens / 4;
    const compiled = await runtime.pipeline(
      `accumulate-outputs:d${headDim}`,
      accumulateOutputsWgsl(headDim),
      ACCUMULATE_OUTPUTS_BINDINGS,
    );
    const grid = dispatchGrid(
      Math.ceil(tokens * headDim / 4 / ACCUMULATE_WORKGROUP),
      runtime.device.limits.maxComputeWorkgroupsPerDimension,
    );
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const outputs: AttentionOutputs = { out: [], lse: [] };
    for (let h = 0; h < heads; h++) {
      outputs.out.push(own(runtime.buffer(`branchesOut[${h}]`, tokens * headDim * 4)));
      outputs.lse.push(own(runtime.buffer(`branchesLse[${h}]`, tokens * 4)));
    }
    const bindGroups = programs.map((program, b) => {
      const params = new Uint32Array([tokens, grid[0], b === 0 ? 1 : 0, 0]);
      new Float32Array(params.buffer)[3] = branches[b].weight;
      const uniform = own(runtime.uniform(`accumulateParams[${b}]`, params));
      return Array.from({ length: heads }, (_, h) =>
        runtime.device.createBindGroup({
          layout: compiled.pipeline.getBindGroupLayout(0),
          entries: [
            program.outputs.out[h],
            program.outputs.lse[h],
            outputs.out[h],
            outputs.lse[h],
            uniform,
          ].map((buffer, binding) => ({ binding, resource: { buffer } })),
        }));
    });
    return new BranchedAttention(runtime, {
      branches: programs,
      accumulate: compiled.pipeline,
      accumulateMs: compiled.compileMs,
      bindGroups,
      grid,
      outputs,
      buffers,
    });
  }

  /** Encodes every branch, then the weighted sum of their outputs. */
  encode(pass: GPUComputePassEncoder): void {
    for (const branch of this.#branches) branch.encode(pass);
    pass.setPipeline(this.#accumulate);
    for (const groups of this.#bindGroups) {
      for (const group of groups) {
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(...this.#grid);
      }
    }
  }

  /** Fills every branch's outputs and the merged outputs with NaN (an unwritten row shows). */
  poisonOutputs(): void {
    for (const branch of this.#branches) branch.poisonOutputs();
    for (const buffer of [...this.outputs.out, ...this.outputs.lse]) {
      const nan = new Uint32Array(buffer.size / 4).fill(0x7fc00000);
      this.#runtime.device.queue.writeBuffer(buffer, 0, nan);
    }
  }

  /** Frees every branch's buffers and the merged outputs (not the inputs). */
  release(): void {
    for (const branch of this.#branches) branch.release();
    this.#runtime.release(this.#buffers);
  }
}

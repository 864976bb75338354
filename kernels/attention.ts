/**
 * Runs attention for one case on the GPU: turns execution forms into the sparse kernel's buffers
 * (sub-tiles and a flat CSR list of key ranges), compiles the kernels through the runtime's
 * pipeline cache and encodes every head into one compute pass, so the whole layer is timed as
 * one unit.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import { denseForm, type ExecutionForm, MASK_ROWS, MASK_TOKENS } from "../methods/form.ts";
import { summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import { encodeWork } from "./attention_work.ts";
import {
  type AttentionTiling,
  type KernelMath,
  tilingName,
  tilingProblem,
} from "./attention_tiling.ts";
import { kernelTiling, type TilingChoice } from "./attention_tuner.ts";

import { MERGE_PARTIALS_BINDINGS, MERGE_WORDS, mergePartialsWgsl } from "./merge_partials_wgsl.ts";
import type { GpuQkv } from "../methods/method.ts";
import { rowKernelWgsl } from "./flash_attention_rows_wgsl.ts";
import {
  FLASH_ATTENTION_BINDINGS,
  flashAttentionWgsl,
  SUBTILE_WORDS,
} from "./flash_attention_wgsl.ts";
import {
  GATHER_BINDINGS,
  gatherRowsWgsl,
  PERMUTE_WORKGROUP,
  SCATTER_BINDINGS,
  scatterRowsWgsl,
} from "./permute_wgsl.ts";

/** Splits `count` workgroups into an x × y grid within the per-dimension limit. */
export function dispatchGrid(count: number, limit: number): [number, number] {
  const x = Math.max(1, Math.min(count, limit));
  return [x, Math.ceil(count / x)];
}

/** Per-head output buffers in the original token order. */
export interface AttentionOutputs {
  /** Output rows [tokens, d] f32, one buffer per head. */
  out: GPUBuffer[];
  /** Natural-log log-sum-exp per row, one buffer per head. */
  lse: GPUBuffer[];
}

interface HeadWork {
  attention: GPUBindGroup;
  attentionGrid: [number, number];
  merge?: GPUBindGroup;
  mergeGrid: [number, number];
  gather?: GPUBindGroup;
  scatter?: GPUBindGroup;
  permuteGrid: [number, number];
}

interface Pipelines {
  attention: GPUComputePipeline;
  merge: GPUComputePipeline | null;
  gather: GPUComputePipeline | null;
  scatter: GPUComputePipeline | null;
}

/** Options of {@link AttentionProgram.create}. */
export interface AttentionProgramOptions {
  /** Kernel tiling; default: measured once per adapter and head dim (kernels/attention_tuner.ts). */
  tiling?: AttentionTiling;
  /** Arithmetic of the products (default f32; f16 needs f16 storage). */
  math?: KernelMath;
  /** f16 math: products summed in f16 before a score is flushed to f32 (default 32). */
  f16ScoreChunk?: number;
}

/** f16 math: products summed in f16 before a score is flushed to f32. */
export const F16_SCORE_CHUNK = 32;

/** Compiled kernels, bound buffers and outputs of one case; encode it as often as needed. */
export class AttentionProgram {
  /** Outputs in the original token order. */
  readonly outputs: AttentionOutputs;
  /** Compilation time of the case's pipelines (0 when cached). */
  readonly compileMs: number;
  /** Bytes of GPU memory the program allocated (inputs not included). */
  readonly memoryBytes: number;
  /** The tiling that runs and where it came from. */
  readonly tiling: TilingChoice;
  readonly #runtime: GpuRuntime;
  readonly #buffers: GPUBuffer[];
  readonly #heads: HeadWork[];
  readonly #pipelines: Pipelines;

  private constructor(
    runtime: GpuRuntime,
    parts: {
      outputs: AttentionOutputs;
      compileMs: number;
      buffers: GPUBuffer[];
      heads: HeadWork[];
      pipelines: Pipelines;
      tiling: TilingChoice;
    },
  ) {
    this.#runtime = runtime;
    this.outputs = parts.outputs;
    this.compileMs = parts.compileMs;
    this.#buffers = parts.buffers;
    this.memoryBytes = parts.buffers.reduce((sum, b) => sum + b.size, 0);
    this.#heads = parts.heads;
    this.#pipelines = parts.pipelines;
    this.tiling = parts.tiling;
  }

  /**
   * Prepares attention of every head of `inputs` under `forms` (one form for all heads, or one
   * per head).
   */
  static async create(
    runtime: GpuRuntime,
    forms: ExecutionForm[],
    inputs: GpuQkv,
    options: AttentionProgramOptions = {},
  ): Promise<AttentionProgram> {
    const heads = inputs.q.length;
    if (forms.length !== 1 && forms.length !== heads) {
      throw new RangeError(`forms must be 1 or one per head (${heads}), got ${forms.length}`);
    }
    const tokens = forms[0].tokens;
    const headDim = inputs.q[0].size / tokens / (inputs.precision === "f16" ? 2 : 4);
    if (!Number.isInteger(headDim) || headDim % 4 !== 0) {
      throw new RangeError(`input buffers do not hold [${tokens}, d] rows with d a multiple of 4`);
    }
    const math = options.math ?? "f32";
    const f16ScoreChunk = options.f16ScoreChunk ?? F16_SCORE_CHUNK;
    if (math === "f16" && inputs.precision !== "f16") {
      throw new RangeError("f16 math needs f16 storage of Q, K and V");
    }
    const choice: TilingChoice = options.tiling
      ? { tiling: options.tiling, source: "override" }
      : await kernelTiling(runtime, headDim, math, (tiling) =>
        measureDense(runtime, { headDim, math, tiling }));
    const tiling = choice.tiling;
    const problem = tilingProblem(tiling, headDim, math, runtime.device.limits);
    if (problem) throw new RangeError(problem);
    const rowMasks = forms.some((f) => f.rangeMaskKinds.includes(MASK_ROWS));
    const tokenMasks = forms.some((f) => f.rangeMaskKinds.includes(MASK_TOKENS));
    const permuted = forms.some((f) => f.permutation !== null || f.outputScale !== null);
    const encoded = forms.map((form) => encodeWork(form, tiling.blockQ));
    const split = encoded.some((e) => e.slots > 0);
    const key = (name: string) =>
      `${name}:d${headDim}:${inputs.precision}:${math}${math === "f16" ? f16ScoreChunk : ""}:` +
      `${tilingName(tiling)}:` +
      `${rowMasks ? "rows" : ""}${tokenMasks ? "tokens" : ""}`;
    const compiled = await Promise.all([
      runtime.pipeline(
        key("flash"),
        tiling.kernel === "rows"
          ? rowKernelWgsl({
            headDim,
            precision: inputs.precision,
            math,
            f16ScoreChunk,
            blockQ: tiling.blockQ,
            blockK: tiling.blockK,
            rowMasks,
            tokenMasks,
          })
          : flashAttentionWgsl({
            headDim,
            precision: inputs.precision,
            math,
            f16ScoreChunk,
            tiling,
            rowMasks,
            tokenMasks,
          }),
        FLASH_ATTENTION_BINDINGS,
      ),
      split
        ? runtime.pipeline(
          key("merge"),
          mergePartialsWgsl(headDim, tiling.blockQ),
          MERGE_PARTIALS_BINDINGS,
        )
        : null,
      permuted
        ? runtime.pipeline(
          key("gather"),
          gatherRowsWgsl(headDim, inputs.precision),
          GATHER_BINDINGS,
        )
        : null,
      permuted
        ? runtime.pipeline(key("scatter"), scatterRowsWgsl(headDim), SCATTER_BINDINGS)
        : null,
    ]);
    const compileMs = compiled.reduce((sum, c) => sum + (c?.compileMs ?? 0), 0);
    const [attention, merge, gather, scatter] = compiled.map((c) => c?.pipeline ?? null);
    const pipelines: Pipelines = { attention: attention!, merge, gather, scatter };

    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const maxGroups = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const formBuffers = forms.map((form, f) => {
      const work = encoded[f];
      const nonEmpty = (words: Uint32Array) => words.length ? words : new Uint32Array(4);
      return {
        work,
        subTiles: own(runtime.upload(`subTiles[${f}]`, work.subTiles)),
        ranges: own(runtime.upload(`ranges[${f}]`, nonEmpty(work.ranges))),
        merges: own(runtime.upload(`merges[${f}]`, nonEmpty(work.merges))),
        masks: own(runtime.upload(`maskWords[${f}]`, nonEmpty(form.maskWords))),
        permutation: permuted
          ? own(runtime.upload(
            `permutation[${f}]`,
            form.permutation ?? Uint32Array.from({ length: tokens }, (_, i) => i),
          ))
          : null,
        outputScale: permuted
          ? own(runtime.upload(`outputScale[${f}]`, form.outputScale ?? new Float32Array(1)))
          : null,
        scaled: form.outputScale ? 1 : 0,
      };
    });
    const outputs: AttentionOutputs = { out: [], lse: [] };
    const headWork: HeadWork[] = [];
    const scaleLog2 = Math.LOG2E / Math.sqrt(headDim);
    const elementBytes = inputs.precision === "f16" ? 2 : 4;
    const permuteGrid = dispatchGrid(
      Math.ceil(tokens * headDim / 4 / PERMUTE_WORKGROUP),
      maxGroups,
    );
    for (let h = 0; h < heads; h++) {
      const fb = formBuffers[forms.length === 1 ? 0 : h];
      const subTileCount = fb.work.subTiles.length / SUBTILE_WORDS;
      const mergeCount = fb.work.merges.length / MERGE_WORDS;
      const out = own(runtime.buffer(`out[${h}]`, tokens * headDim * 4));
      const lse = own(runtime.buffer(`lse[${h}]`, tokens * 4));
      outputs.out.push(out);
      outputs.lse.push(lse);
      const slots = Math.max(1, fb.work.slots) * tiling.blockQ;
      const partialRows = own(runtime.buffer(`partialRows[${h}]`, slots * headDim * 4));
      const partialLse = own(runtime.buffer(`partialLse[${h}]`, slots * 4));
      const attentionGrid = dispatchGrid(subTileCount, maxGroups);
      const mergeGrid = dispatchGrid(mergeCount, maxGroups);
      const params = new Uint32Array([subTileCount, attentionGrid[0], 0, 0]);
      new Float32Array(params.buffer)[2] = scaleLog2;
      let [q, k, v, attnOut, attnLse] = [inputs.q[h], inputs.k[h], inputs.v[h], out, lse];
      const work: Partial<HeadWork> = { attentionGrid, mergeGrid, permuteGrid };
      if (fb.permutation && fb.outputScale && gather && scatter) {
        const bytes = tokens * headDim * elementBytes;
        [q, k, v] = ["q", "k", "v"].map((n) => own(runtime.buffer(`${n}Permuted[${h}]`, bytes)));
        attnOut = own(runtime.buffer(`outPermuted[${h}]`, tokens * headDim * 4));
        attnLse = own(runtime.buffer(`lsePermuted[${h}]`, tokens * 4));
        const permuteParams = own(runtime.uniform(
          `permuteParams[${h}]`,
          new Uint32Array([tokens, permuteGrid[0], fb.scaled, 0]),
        ));
        const sources = [inputs.q[h], inputs.k[h], inputs.v[h]];
        work.gather = bindGroup(runtime, gather, [
          fb.permutation,
          ...sources,
          q,
          k,
          v,
          permuteParams,
        ]);
        work.scatter = bindGroup(runtime, scatter, [
          fb.permutation,
          attnOut,
          attnLse,
          fb.outputScale,
          out,
          lse,
          permuteParams,
        ]);
      }
      work.attention = bindGroup(runtime, attention!, [
        q,
        k,
        v,
        attnOut,
        attnLse,
        fb.subTiles,
        fb.ranges,
        fb.masks,
        own(runtime.uniform(`attentionParams[${h}]`, params)),
        partialRows,
        partialLse,
      ]);
      if (merge && mergeCount > 0) {
        const mergeParams = new Uint32Array([mergeCount, mergeGrid[0], 0, 0]);
        work.merge = bindGroup(runtime, merge, [
          partialRows,
          partialLse,
          fb.merges,
          attnOut,
          attnLse,
          own(runtime.uniform(`mergeParams[${h}]`, mergeParams)),
        ]);
      }
      headWork.push(work as HeadWork);
    }
    return new AttentionProgram(runtime, {
      outputs,
      compileMs,
      buffers,
      heads: headWork,
      pipelines,
      tiling: choice,
    });
  }

  /** Encodes every head (gather, attention, merge of split sub-tiles, scatter) into `pass`. */
  encode(pass: GPUComputePassEncoder): void {
    const { attention, merge, gather, scatter } = this.#pipelines;
    for (const head of this.#heads) {
      if (head.gather && gather) {
        pass.setPipeline(gather);
        pass.setBindGroup(0, head.gather);
        pass.dispatchWorkgroups(...head.permuteGrid);
      }
      pass.setPipeline(attention);
      pass.setBindGroup(0, head.attention);
      pass.dispatchWorkgroups(...head.attentionGrid);
      if (head.merge && merge) {
        pass.setPipeline(merge);
        pass.setBindGroup(0, head.merge);
        pass.dispatchWorkgroups(...head.mergeGrid);
      }
      if (head.scatter && scatter) {
        pass.setPipeline(scatter);
        pass.setBindGroup(0, head.scatter);
        pass.dispatchWorkgroups(...head.permuteGrid);
      }
    }
  }

  /** Fills every output with NaN, so a row the kernel fails to write is caught. */
  poisonOutputs(): void {
    for (const buffer of [...this.outputs.out, ...this.outputs.lse]) {
      const nan = new Uint32Array(buffer.size / 4).fill(0x7fc00000);
      this.#runtime.device.queue.writeBuffer(buffer, 0, nan);
    }
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/**
 * Dense problem the tuner times each candidate tiling on: long enough that the ranking matches
 * the benchmark's 32k × 8-head cases on an H200 (at 16k × 4 heads it did not).
 */
const TUNING_SHAPE = { tokens: 32768, heads: 4 };

/** Median GPU time (ms) of dense attention on random inputs with `tiling`. */
async function measureDense(
  runtime: GpuRuntime,
  kernel: { headDim: number; math: KernelMath; tiling: AttentionTiling },
): Promise<number> {
  const { tokens, heads } = TUNING_SHAPE;
  const precision = kernel.math === "f16" ? "f16" : "f32";
  const values = Float32Array.from({ length: tokens * kernel.headDim }, (_, i) => Math.sin(i));
  const data = precision === "f16" ? Float16Array.from(values) : values;
  const [q, k, v] = ["q", "k", "v"].map((name) => runtime.upload(`tuning-${name}`, data));
  const inputs: GpuQkv = {
    precision,
    q: Array(heads).fill(q),
    k: Array(heads).fill(k),
    v: Array(heads).fill(v),
  };
  const program = await AttentionProgram.create(runtime, [denseForm(tokens)], inputs, {
    tiling: kernel.tiling,
    math: kernel.math,
  });
  try {
    const timing = await timeComputePass(runtime, (pass) => program.encode(pass), {
      warmup: 2,
      repeats: 3,
    });
    return summarizeSamples(timing.samples).median;
  } finally {
    program.release();
    runtime.release([q, k, v]);
  }
}

function bindGroup(
  runtime: GpuRuntime,
  pipeline: GPUComputePipeline,
  buffers: GPUBuffer[],
): GPUBindGroup {
  return runtime.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

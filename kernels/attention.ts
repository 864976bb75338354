/**
 * Runs attention for one case on the GPU: turns execution forms into the sparse kernel's buffers
 * (sub-tiles and a flat CSR list of key ranges), compiles the kernels through the runtime's
 * pipeline cache and encodes every head into one compute pass, so the whole layer is timed as
 * one unit.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import { type ExecutionForm, MASK_NONE, tileCount } from "../methods/form.ts";
import type { GpuQkv } from "../methods/method.ts";
import {
  FLASH_ATTENTION_BINDINGS,
  type FlashAttentionConfig,
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

/** Kernel block sizes. */
export interface AttentionTiling {
  /** Query rows per workgroup. */
  blockQ: number;
  /** Keys staged per step. */
  blockK: number;
}

/**
 * Default tiling: 16 keys staged per step and 128 query rows per workgroup, or 64 when most
 * query tiles are shorter (MoC's frame tiles), so threads are not left idle. Measured on an
 * H200 (dense, L = 32k): 128×16 gave 21.7 TFLOP/s at d = 64 and 14.7 at d = 128, against
 * 20.5 / 8.2 for 64×16 and 14.9 / 4.4 for 64×32.
 */
export function defaultTiling(forms: ExecutionForm[]): AttentionTiling {
  const lengths: number[] = [];
  for (const form of forms) {
    for (let t = 0; t < tileCount(form); t++) {
      lengths.push(form.tileBounds[t + 1] - form.tileBounds[t]);
    }
  }
  lengths.sort((a, b) => a - b);
  const median = lengths[Math.floor(lengths.length / 2)];
  return { blockQ: median >= 128 ? 128 : 64, blockK: 16 };
}

/** Sub-tile records (rowStart, rowEnd, tileStart, rangeBegin, rangeEnd, 0, 0, 0) of a form. */
export function encodeSubTiles(form: ExecutionForm, blockQ: number): Uint32Array {
  const records: number[] = [];
  for (let t = 0; t < tileCount(form); t++) {
    const start = form.tileBounds[t];
    const end = form.tileBounds[t + 1];
    for (let row = start; row < end; row += blockQ) {
      records.push(
        row,
        Math.min(row + blockQ, end),
        start,
        form.rangeOffsets[t],
        form.rangeOffsets[t + 1],
        0,
        0,
        0,
      );
    }
  }
  return Uint32Array.from(records);
}

/** Range records (start, end, maskOffset, kind) of a form. */
export function encodeRanges(form: ExecutionForm): Uint32Array {
  const n = form.rangeStarts.length;
  const words = new Uint32Array(Math.max(4, 4 * n));
  for (let r = 0; r < n; r++) {
    words[4 * r] = form.rangeStarts[r];
    words[4 * r + 1] = form.rangeEnds[r];
    words[4 * r + 2] = form.rangeMaskOffsets[r];
    words[4 * r + 3] = form.rangeMaskKinds[r];
  }
  return words;
}

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
  gather?: GPUBindGroup;
  scatter?: GPUBindGroup;
  permuteGrid: [number, number];
}

/** Options of {@link AttentionProgram.create}. */
export interface AttentionProgramOptions {
  /** Kernel tiling (default: {@link defaultTiling}). */
  tiling?: AttentionTiling;
}

/** Compiled kernels, bound buffers and outputs of one case; encode it as often as needed. */
export class AttentionProgram {
  /** Outputs in the original token order. */
  readonly outputs: AttentionOutputs;
  /** Compilation time of the case's pipelines (0 when cached). */
  readonly compileMs: number;
  /** Bytes of GPU memory the program allocated (inputs not included). */
  readonly memoryBytes: number;
  readonly #runtime: GpuRuntime;
  readonly #buffers: GPUBuffer[];
  readonly #heads: HeadWork[];
  readonly #attention: GPUComputePipeline;
  readonly #gather: GPUComputePipeline | null;
  readonly #scatter: GPUComputePipeline | null;

  private constructor(
    runtime: GpuRuntime,
    parts: {
      outputs: AttentionOutputs;
      compileMs: number;
      buffers: GPUBuffer[];
      heads: HeadWork[];
      attention: GPUComputePipeline;
      gather: GPUComputePipeline | null;
      scatter: GPUComputePipeline | null;
    },
  ) {
    this.#runtime = runtime;
    this.outputs = parts.outputs;
    this.compileMs = parts.compileMs;
    this.#buffers = parts.buffers;
    this.memoryBytes = parts.buffers.reduce((sum, b) => sum + b.size, 0);
    this.#heads = parts.heads;
    this.#attention = parts.attention;
    this.#gather = parts.gather;
    this.#scatter = parts.scatter;
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
    const tiling = options.tiling ?? defaultTiling(forms);
    const masked = forms.some((f) => f.rangeMaskKinds.some((k) => k !== MASK_NONE));
    const permuted = forms.some((f) => f.permutation !== null || f.outputScale !== null);
    const config: FlashAttentionConfig = {
      headDim,
      precision: inputs.precision,
      masked,
      ...tiling,
    };
    const key = (name: string) =>
      `${name}:d${headDim}:${inputs.precision}:${tiling.blockQ}x${tiling.blockK}:${masked}`;
    const attention = await runtime.pipeline(
      key("flash"),
      flashAttentionWgsl(config),
      FLASH_ATTENTION_BINDINGS,
    );
    const gather = permuted
      ? await runtime.pipeline(
        key("gather"),
        gatherRowsWgsl(headDim, inputs.precision),
        GATHER_BINDINGS,
      )
      : null;
    const scatter = permuted
      ? await runtime.pipeline(key("scatter"), scatterRowsWgsl(headDim), SCATTER_BINDINGS)
      : null;
    const compileMs = attention.compileMs + (gather?.compileMs ?? 0) + (scatter?.compileMs ?? 0);

    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const elementBytes = inputs.precision === "f16" ? 2 : 4;
    const maxGroups = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    const formBuffers = forms.map((form, f) => {
      const subTiles = encodeSubTiles(form, tiling.blockQ);
      const order = form.permutation ?? Uint32Array.from({ length: tokens }, (_, i) => i);
      return {
        subTileCount: subTiles.length / SUBTILE_WORDS,
        subTiles: own(runtime.upload(`subTiles[${f}]`, subTiles)),
        ranges: own(runtime.upload(`ranges[${f}]`, encodeRanges(form))),
        masks: own(
          runtime.upload(
            `maskWords[${f}]`,
            form.maskWords.length ? form.maskWords : new Uint32Array(1),
          ),
        ),
        permutation: permuted ? own(runtime.upload(`permutation[${f}]`, order)) : null,
        outputScale: permuted
          ? own(runtime.upload(`outputScale[${f}]`, form.outputScale ?? new Float32Array(1)))
          : null,
        scaled: form.outputScale ? 1 : 0,
      };
    });
    const outputs: AttentionOutputs = { out: [], lse: [] };
    const headWork: HeadWork[] = [];
    const scaleLog2 = Math.LOG2E / Math.sqrt(headDim);
    const permuteGrid = dispatchGrid(
      Math.ceil((tokens * headDim) / 4 / PERMUTE_WORKGROUP),
      maxGroups,
    );
    for (let h = 0; h < heads; h++) {
      const fb = formBuffers[forms.length === 1 ? 0 : h];
      const out = own(runtime.buffer(`out[${h}]`, tokens * headDim * 4));
      const lse = own(runtime.buffer(`lse[${h}]`, tokens * 4));
      outputs.out.push(out);
      outputs.lse.push(lse);
      const attentionGrid = dispatchGrid(fb.subTileCount, maxGroups);
      const params = new Uint32Array([fb.subTileCount, attentionGrid[0], 0, 0]);
      new Float32Array(params.buffer)[2] = scaleLog2;
      const uniform = own(runtime.uniform(`attentionParams[${h}]`, params));
      let [q, k, v, attnOut, attnLse] = [inputs.q[h], inputs.k[h], inputs.v[h], out, lse];
      const work: Partial<HeadWork> = { attentionGrid, permuteGrid };
      if (permuted && fb.permutation && fb.outputScale) {
        const bytes = tokens * headDim * elementBytes;
        [q, k, v] = ["q", "k", "v"].map((n) => own(runtime.buffer(`${n}Permuted[${h}]`, bytes)));
        attnOut = own(runtime.buffer(`outPermuted[${h}]`, tokens * headDim * 4));
        attnLse = own(runtime.buffer(`lsePermuted[${h}]`, tokens * 4));
        const permuteParams = own(
          runtime.uniform(
            `permuteParams[${h}]`,
            new Uint32Array([tokens, permuteGrid[0], fb.scaled, 0]),
          ),
        );
        work.gather = bindGroup(runtime, gather!.pipeline, [
          fb.permutation,
          inputs.q[h],
          inputs.k[h],
          inputs.v[h],
          q,
          k,
          v,
          permuteParams,
        ]);
        work.scatter = bindGroup(runtime, scatter!.pipeline, [
          fb.permutation,
          attnOut,
          attnLse,
          fb.outputScale,
          out,
          lse,
          permuteParams,
        ]);
      }
      work.attention = bindGroup(runtime, attention.pipeline, [
        q,
        k,
        v,
        attnOut,
        attnLse,
        fb.subTiles,
        fb.ranges,
        fb.masks,
        uniform,
      ]);
      headWork.push(work as HeadWork);
    }
    return new AttentionProgram(runtime, {
      outputs,
      compileMs,
      buffers,
      heads: headWork,
      attention: attention.pipeline,
      gather: gather?.pipeline ?? null,
      scatter: scatter?.pipeline ?? null,
    });
  }

  /** Encodes every head (gather, attention, scatter) into `pass`. */
  encode(pass: GPUComputePassEncoder): void {
    for (const head of this.#heads) {
      if (head.gather && this.#gather) {
        pass.setPipeline(this.#gather);
        pass.setBindGroup(0, head.gather);
        pass.dispatchWorkgroups(...head.permuteGrid);
      }
      pass.setPipeline(this.#attention);
      pass.setBindGroup(0, head.attention);
      pass.dispatchWorkgroups(...head.attentionGrid);
      if (head.scatter && this.#scatter) {
        pass.setPipeline(this.#scatter);
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

/**
 * Runs attention for one case on the GPU: turns execution forms into the sparse kernel's buffers
 * (sub-tiles and a flat CSR list of key ranges), compiles the kernels through the runtime's
 * pipeline cache and encodes every head into one compute pass, so the whole layer is timed as
 * one unit.
 *
 * @module
 */
import { PoisonFill } from "../gpu/poison_fill.ts";
import { bindingKinds, bindNamed, type BufferResource } from "../gpu/bindings.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { denseForm, type ExecutionForm, MASK_ROWS, MASK_TOKENS } from "../form/form.ts";
import { summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import { type EncodedWork, encodeWork } from "./attention_work.ts";
import {
  type AttentionTiling,
  f16ScoreChunkFor,
  type KernelMath,
  tilingName,
  tilingProblem,
} from "./attention_tiling.ts";
import { kernelTiling, type TilingChoice } from "./attention_tuner.ts";
import { fitTilingToForms, quickestRowBlock, rowBlockFor } from "./row_block.ts";
import { MERGE_PARTIALS_BINDINGS, MERGE_WORDS, mergePartialsWgsl } from "./merge_partials_wgsl.ts";
import { rowKernelWgsl } from "./flash_attention_rows_wgsl.ts";
import { rowBlockKernelWgsl } from "./flash_attention_row_blocks_wgsl.ts";
import { flashAttentionWgsl } from "./flash_attention_wgsl.ts";
import { FLASH_ATTENTION_BINDINGS, SUBTILE_WORDS } from "./flash_attention_shared_wgsl.ts";
import {
  gatherBindings,
  type GatherKeys,
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

/**
 * The steps of a case in the order they run: gather into the permuted order, attention, merge
 * of split sub-tiles, scatter back. Each step of a head reads what the step before it wrote.
 */
export const ATTENTION_STEPS = ["gather", "attention", "merge", "scatter"] as const;

/** One of {@link ATTENTION_STEPS}. */
export type AttentionStep = typeof ATTENTION_STEPS[number];

/** A head's bind group and grid of each step it runs. */
interface HeadWork {
  attention: GPUBindGroup;
  attentionGrid: [number, number];
  merge?: GPUBindGroup;
  mergeGrid: [number, number];
  gather?: GPUBindGroup;
  gatherGrid: [number, number];
  scatter?: GPUBindGroup;
  scatterGrid: [number, number];
}

interface Pipelines {
  attention: GPUComputePipeline;
  merge: GPUComputePipeline | null;
  gather: GPUComputePipeline | null;
  scatter: GPUComputePipeline | null;
}

/** Options of {@link AttentionProgram.create}. */
export interface AttentionProgramOptions {
  /** Kernel tiling; default: measured once per adapter and head dim (attention_tuner.ts). */
  tiling?: AttentionTiling;
  /** Arithmetic of the products (default f32; f16 needs f16 storage). */
  math?: KernelMath;
  /**
   * f16 math: products summed in f16 before a score is flushed to f32 (default: f16ScoreChunkFor
   * of kernels/attention_tiling.ts).
   */
  f16ScoreChunk?: number;
}

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
  /** The tiling of each program the case runs: this one's alone. */
  readonly tilings: TilingChoice[];
  readonly #runtime: GpuRuntime;
  readonly #poison: PoisonFill;
  readonly #buffers: GPUBuffer[];
  readonly #heads: HeadWork[];
  readonly #pipelines: Pipelines;

  private constructor(
    runtime: GpuRuntime,
    parts: {
      outputs: AttentionOutputs;
      poison: PoisonFill;
      compileMs: number;
      buffers: GPUBuffer[];
      heads: HeadWork[];
      pipelines: Pipelines;
      tiling: TilingChoice;
    },
  ) {
    this.#runtime = runtime;
    this.#poison = parts.poison;
    this.outputs = parts.outputs;
    this.compileMs = parts.compileMs;
    this.#buffers = parts.buffers;
    this.memoryBytes = parts.buffers.reduce((sum, b) => sum + b.size, 0);
    this.#heads = parts.heads;
    this.#pipelines = parts.pipelines;
    this.tiling = parts.tiling;
    this.tilings = [parts.tiling];
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
    const shape = checkInputs(forms, inputs, options);
    const choice = await chooseTiling(runtime, { shape, forms }, options);
    const features = formFeatures(forms, choice.tiling);
    const { pipelines, compileMs } = await compilePipelines(
      runtime,
      shape,
      choice.tiling,
      features,
    );
    const buffers: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => (buffers.push(b), b);
    const formBuffers = uploadForms(runtime, forms, features, own);
    const permutedSlices = features.permuted
      ? permutedInputs(runtime, shape, {
        heads: inputs.q.length,
        keys: features.gatherKeys !== "in place",
        own,
      })
      : null;
    const heads = inputs.q.map((_, h) =>
      bindHead(runtime, h, {
        shape,
        tiling: choice.tiling,
        pipelines,
        inputs,
        form: formBuffers[forms.length === 1 ? 0 : h],
        permuted: permutedSlices?.(h) ?? null,
        own,
      })
    );
    const outputs = { out: heads.map((head) => head.out), lse: heads.map((head) => head.lse) };
    return new AttentionProgram(runtime, {
      outputs,
      poison: await PoisonFill.create(runtime, [...outputs.out, ...outputs.lse]),
      compileMs,
      buffers,
      heads: heads.map((head) => head.work),
      pipelines,
      tiling: choice,
    });
  }

  /**
   * Encodes every head into `pass`, one step at a time ({@link ATTENTION_STEPS}). With the heads'
   * permuted Q/K/V in shared buffers ({@link headSlices}), the heads' attention dispatches need
   * no barrier between them and run side by side; gathers (one shared buffer written), merges
   * and scatters still get a barrier a head, as WebGPU puts one after every read-write use.
   */
  encode(pass: GPUComputePassEncoder): void {
    for (const step of ATTENTION_STEPS) this.encodeStep(pass, step);
  }

  /** Encodes `step` of every head (nothing where the case has no such step). */
  encodeStep(pass: GPUComputePassEncoder, step: AttentionStep): void {
    const pipeline = this.#pipelines[step];
    if (!pipeline) return;
    pass.setPipeline(pipeline);
    for (const head of this.#heads) {
      const group = head[step];
      if (!group) continue;
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(...head[`${step}Grid`]);
    }
  }

  /**
   * Fills every output with NaN on the GPU (gpu/poison_fill.ts), so a row the kernel fails to
   * write is caught.
   */
  poisonOutputs(): void {
    this.#poison.submit();
  }

  /** Frees the program's buffers (not the inputs). */
  release(): void {
    this.#runtime.release(this.#buffers);
  }
}

/** The shape every kernel of a case is compiled for, checked against the inputs. */
interface ProgramShape {
  tokens: number;
  headDim: number;
  precision: GpuQkv["precision"];
  math: KernelMath;
  f16ScoreChunk: number;
}

/** What the forms of a case need beyond the attention kernel, and their encoding. */
interface FormFeatures {
  rowMasks: boolean;
  tokenMasks: boolean;
  /** The forms' PV-skip threshold (one for all of them), or null. */
  pvSkip: number | null;
  /** Some form runs in a permuted order or scales its output: gather and scatter run. */
  permuted: boolean;
  /**
   * Where the gather takes K and V from: the query order, the forms' key orders (some form has
   * one), or nowhere (every form's key order is the original one: K and V stay in place).
   */
  gatherKeys: GatherKeys;
  /** Some sub-tile is split: the merge kernel runs. */
  split: boolean;
  encoded: EncodedWork[];
}

/** One form's buffers on the GPU (permutation and scale only when some form is permuted). */
interface FormBuffers {
  work: EncodedWork;
  subTiles: GPUBuffer;
  ranges: GPUBuffer;
  merges: GPUBuffer;
  masks: GPUBuffer;
  permutation: GPUBuffer | null;
  /** The key order (the query order's buffer when the form has none), keyed gather only. */
  keyPermutation: GPUBuffer | null;
  outputScale: GPUBuffer | null;
  scaled: number;
}

/** Step 1 of {@link AttentionProgram.create}: the case's shape, or a RangeError for bad inputs. */
function checkInputs(
  forms: ExecutionForm[],
  inputs: GpuQkv,
  options: AttentionProgramOptions,
): ProgramShape {
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
  const f16ScoreChunk = options.f16ScoreChunk ?? f16ScoreChunkFor(headDim);
  if (math === "f16" && inputs.precision !== "f16") {
    throw new RangeError("f16 math needs f16 storage of Q, K and V");
  }
  return { tokens, headDim, precision: inputs.precision, math, f16ScoreChunk };
}

/**
 * Step 2: the override or the tuned tiling, its row block fitted to the forms' tiles
 * (kernels/row_block.ts): a tuned tiling is weighed against tilings tuned apart at each narrower
 * row block down to the one the forms ask for; an override, a software tiling or one without a
 * measured time is narrowed; checked against the device's limits.
 */
async function chooseTiling(
  runtime: GpuRuntime,
  work: { shape: ProgramShape; forms: ExecutionForm[] },
  options: AttentionProgramOptions,
): Promise<TilingChoice> {
  const { headDim, math } = work.shape;
  const limits = runtime.device.limits;
  const measure = (tiling: AttentionTiling) => measureDense(runtime, { headDim, math, tiling });
  const chosen: TilingChoice = options.tiling
    ? { tiling: options.tiling, source: "override" }
    : await kernelTiling(runtime, { headDim, math }, measure);
  const maxRows = rowBlockFor(work.forms, chosen.tiling.blockQ);
  let choice = chosen;
  if (maxRows < chosen.tiling.blockQ && chosen.denseMs !== undefined) {
    choice = await quickestRowBlock(
      { ...chosen, denseMs: chosen.denseMs },
      { forms: work.forms, maxRows },
      (rows) => kernelTiling(runtime, { headDim, math, maxRows: rows }, measure),
    );
  } else if (maxRows < chosen.tiling.blockQ) {
    const tiling = fitTilingToForms(chosen.tiling, work.forms, { headDim, math, limits });
    if (tiling.blockQ < chosen.tiling.blockQ) {
      choice = { ...chosen, tiling, narrowedFrom: chosen.tiling };
    }
  }
  const problem = tilingProblem(choice.tiling, headDim, math, limits);
  if (problem) throw new RangeError(problem);
  return choice;
}

/** Step 3: the forms encoded for the kernel, and which kernel paths they need. */
function formFeatures(forms: ExecutionForm[], tiling: AttentionTiling): FormFeatures {
  const encoded = forms.map((form) => encodeWork(form, tiling.blockQ));
  const pvSkip = forms[0].pvSkipThreshold ?? null;
  if (forms.some((f) => (f.pvSkipThreshold ?? null) !== pvSkip)) {
    throw new RangeError("forms: pvSkipThreshold must be the same for every head of a case");
  }
  return {
    rowMasks: forms.some((f) => f.rangeMaskKinds.includes(MASK_ROWS)),
    tokenMasks: forms.some((f) => f.rangeMaskKinds.includes(MASK_TOKENS)),
    pvSkip,
    permuted: forms.some((f) => f.permutation !== null || f.outputScale !== null),
    gatherKeys: forms.every((f) => f.keyPermutation && isIdentity(f.keyPermutation))
      ? "in place"
      : forms.some((f) => (f.keyPermutation ?? null) !== null)
      ? "keyed"
      : "permuted",
    split: encoded.some((e) => e.slots > 0),
    encoded,
  };
}

/** Step 4: the attention kernel and, where the forms need them, merge, gather and scatter. */
async function compilePipelines(
  runtime: GpuRuntime,
  shape: ProgramShape,
  tiling: AttentionTiling,
  features: FormFeatures,
): Promise<{ pipelines: Pipelines; compileMs: number }> {
  const { headDim, precision, math, f16ScoreChunk } = shape;
  const { rowMasks, tokenMasks, pvSkip, permuted, gatherKeys, split } = features;
  const key = (name: string) =>
    `${name}:d${headDim}:${precision}:${math}${math === "f16" ? f16ScoreChunk : ""}:` +
    `${tilingName(tiling)}:` +
    `${rowMasks ? "rows" : ""}${tokenMasks ? "tokens" : ""}` +
    `${pvSkip === null ? "" : `:pvskip${pvSkip}`}`;
  const kernel = { headDim, precision, math, f16ScoreChunk, rowMasks, tokenMasks, pvSkip };
  const compiled = await Promise.all([
    runtime.pipeline(
      key("flash"),
      attentionKernelWgsl(kernel, tiling),
      bindingKinds(FLASH_ATTENTION_BINDINGS),
    ),
    split
      ? runtime.pipeline(
        key("merge"),
        mergePartialsWgsl(headDim, tiling.blockQ),
        bindingKinds(MERGE_PARTIALS_BINDINGS),
      )
      : null,
    permuted
      ? runtime.pipeline(
        key(`gather-${gatherKeys.replace(" ", "-")}`),
        gatherRowsWgsl(headDim, precision, gatherKeys),
        bindingKinds(gatherBindings(gatherKeys)),
      )
      : null,
    permuted
      ? runtime.pipeline(
        key("scatter"),
        scatterRowsWgsl(headDim),
        bindingKinds(SCATTER_BINDINGS),
      )
      : null,
  ]);
  const compileMs = compiled.reduce((sum, c) => sum + (c?.compileMs ?? 0), 0);
  const [attention, merge, gather, scatter] = compiled.map((c) => c?.pipeline ?? null);
  return { pipelines: { attention: attention!, merge, gather, scatter }, compileMs };
}

/** The WGSL of the kernel `tiling` names, compiled for `kernel`. */
function attentionKernelWgsl(
  kernel: Omit<Parameters<typeof rowKernelWgsl>[0], "blockQ" | "blockK">,
  tiling: AttentionTiling,
): string {
  switch (tiling.kernel) {
    case "rows":
      return rowKernelWgsl({ ...kernel, blockQ: tiling.blockQ, blockK: tiling.blockK });
    case "rowBlocks":
      return rowBlockKernelWgsl({ ...kernel, ...tiling });
    case "tiles":
      return flashAttentionWgsl({ ...kernel, tiling });
  }
}

/** Step 5: every form's sub-tiles, ranges, merges, masks and (when permuted) order and scale. */
function uploadForms(
  runtime: GpuRuntime,
  forms: ExecutionForm[],
  features: FormFeatures,
  own: (buffer: GPUBuffer) => GPUBuffer,
): FormBuffers[] {
  const nonEmpty = (words: Uint32Array) => words.length ? words : new Uint32Array(4);
  return forms.map((form, f) => {
    const work = features.encoded[f];
    const permutation = features.permuted
      ? own(runtime.upload(
        `permutation[${f}]`,
        form.permutation ?? Uint32Array.from({ length: form.tokens }, (_, i) => i),
      ))
      : null;
    return {
      work,
      subTiles: own(runtime.upload(`subTiles[${f}]`, work.subTiles)),
      ranges: own(runtime.upload(`ranges[${f}]`, nonEmpty(work.ranges))),
      merges: own(runtime.upload(`merges[${f}]`, nonEmpty(work.merges))),
      masks: own(runtime.upload(`maskWords[${f}]`, nonEmpty(form.maskWords))),
      permutation,
      keyPermutation: features.gatherKeys === "keyed"
        ? (form.keyPermutation
          ? own(runtime.upload(`keyPermutation[${f}]`, form.keyPermutation))
          : permutation)
        : null,
      outputScale: features.permuted
        ? own(runtime.upload(`outputScale[${f}]`, form.outputScale ?? new Float32Array(1)))
        : null,
      scaled: form.outputScale ? 1 : 0,
    };
  });
}

/**
 * How {@link permutedInputs} lays heads out: each head's slice of `size` bytes starts at a
 * multiple of `align` (`stride` apart), and a buffer of at most `room` bytes holds `perBuffer`
 * heads (at least one).
 *
 * @example
 * ```ts
 * import { headSlices } from "./attention.ts";
 * import { deepEqual } from "node:assert/strict";
 * const eight = headSlices({ size: 1000, heads: 8, align: 256, room: 4000 });
 * deepEqual(eight, { stride: 1024, perBuffer: 3 });
 * const two = headSlices({ size: 1024, heads: 2, align: 256, room: 1 << 20 });
 * deepEqual(two, { stride: 1024, perBuffer: 2 });
 * ```
 */
export function headSlices(
  layout: { size: number; heads: number; align: number; room: number },
): { stride: number; perBuffer: number } {
  const { size, heads, align, room } = layout;
  const stride = Math.ceil(size / align) * align;
  const fit = Math.floor((room - size) / stride) + 1;
  return { stride, perBuffer: Math.max(1, Math.min(heads, fit)) };
}

/**
 * Step 6 (permuted forms): where each head's permuted copy of Q, K and V goes. Every head's copy
 * of a tensor is a slice of one buffer (head `h` at `h` × the copy's size rounded up to the
 * storage offset alignment; several buffers when the device's buffer or binding size limit
 * cannot hold all heads). WebGPU moves a buffer from the gather's writes to the attention's
 * reads with a barrier, and a barrier waits for every dispatch before it: with a buffer a head,
 * each head's attention waited for the previous head's, so a head's workgroups could not fill
 * the GPU's idle cores; with shared buffers the move happens once, before the first head's
 * attention (docs/results/nvidia-h200/kernel-v4.md, "Third pass"). Without `keys` (K and V stay
 * in place) only Q is copied.
 */
function permutedInputs(
  runtime: GpuRuntime,
  shape: ProgramShape,
  parts: { heads: number; keys: boolean; own: (buffer: GPUBuffer) => GPUBuffer },
): (h: number) => PermutedInputs {
  const { heads, keys, own } = parts;
  const { tokens, headDim, precision } = shape;
  const size = tokens * headDim * (precision === "f16" ? 2 : 4);
  const { maxBufferSize, maxStorageBufferBindingSize } = runtime.facts;
  const { stride, perBuffer } = headSlices({
    size,
    heads,
    align: runtime.device.limits.minStorageBufferOffsetAlignment,
    room: Math.min(maxBufferSize, maxStorageBufferBindingSize), // runtime.buffer's check
  });
  const groups = Array.from({ length: Math.ceil(heads / perBuffer) }, (_, g) => {
    const count = Math.min(perBuffer, heads - g * perBuffer);
    const bytes = (count - 1) * stride + size;
    const buffer = (n: string) =>
      own(runtime.buffer(`${n}Permuted[heads ${g * perBuffer}…]`, bytes));
    return { q: buffer("q"), ...(keys ? { k: buffer("k"), v: buffer("v") } : {}) };
  });
  return (h) => {
    const group = groups[Math.floor(h / perBuffer)];
    const offset = (h % perBuffer) * stride;
    const slice = (buffer: GPUBuffer) => ({ buffer, offset, size });
    return {
      q: slice(group.q),
      ...(group.k && group.v ? { k: slice(group.k), v: slice(group.v) } : {}),
    };
  };
}

/** A head's slices of the permuted copies: Q, and K and V unless they stay in place. */
interface PermutedInputs {
  q: GPUBufferBinding;
  k?: GPUBufferBinding;
  v?: GPUBufferBinding;
}

/** Whether `order` maps every position to itself. */
function isIdentity(order: Uint32Array): boolean {
  return order.every((token, p) => token === p);
}

/**
 * Step 7: head `h`'s outputs, scratch buffers and bind groups: gather into the permuted order
 * (when the form has one), attention, merge of split sub-tiles, scatter back.
 */
function bindHead(
  runtime: GpuRuntime,
  h: number,
  parts: {
    shape: ProgramShape;
    tiling: AttentionTiling;
    pipelines: Pipelines;
    inputs: GpuQkv;
    form: FormBuffers;
    /** The head's slices of the permuted Q, K and V ({@link permutedInputs}), or null. */
    permuted: PermutedInputs | null;
    own: (buffer: GPUBuffer) => GPUBuffer;
  },
): { work: HeadWork; out: GPUBuffer; lse: GPUBuffer } {
  const { shape: { tokens, headDim }, tiling, pipelines, inputs, form, own } = parts;
  const maxGroups = runtime.device.limits.maxComputeWorkgroupsPerDimension;
  const subTileCount = form.work.subTiles.length / SUBTILE_WORDS;
  const mergeCount = form.work.merges.length / MERGE_WORDS;
  const out = own(runtime.buffer(`out[${h}]`, tokens * headDim * 4));
  const lse = own(runtime.buffer(`lse[${h}]`, tokens * 4));
  const slots = Math.max(1, form.work.slots) * tiling.blockQ;
  const partialRows = own(runtime.buffer(`partialRows[${h}]`, slots * headDim * 4));
  const partialLse = own(runtime.buffer(`partialLse[${h}]`, slots * 4));
  const attentionGrid = dispatchGrid(subTileCount, maxGroups);
  const mergeGrid = dispatchGrid(mergeCount, maxGroups);
  const permuteGrid = dispatchGrid(Math.ceil(tokens * headDim / 4 / PERMUTE_WORKGROUP), maxGroups);
  const params = new Uint32Array([subTileCount, attentionGrid[0], 0, 0]);
  new Float32Array(params.buffer)[2] = Math.LOG2E / Math.sqrt(headDim);
  const { attention, merge, gather, scatter } = pipelines;
  const permuted = parts.permuted && form.permutation && form.outputScale && gather && scatter
    ? bindPermutation(runtime, h, {
      ...parts,
      inputsPermuted: parts.permuted,
      permuteGrid,
      out,
      lse,
    })
    : null;
  const { q, k, v, outRows, rowLse } = permuted?.buffers ??
    { q: inputs.q[h], k: inputs.k[h], v: inputs.v[h], outRows: out, rowLse: lse };
  const work: Partial<HeadWork> = {
    attentionGrid,
    mergeGrid,
    gatherGrid: permuteGrid,
    scatterGrid: permuteGrid,
    gather: permuted?.gather,
    scatter: permuted?.scatter,
  };
  work.attention = bindNamed(runtime, attention, FLASH_ATTENTION_BINDINGS, {
    q,
    k,
    v,
    outRows,
    lse: rowLse,
    subTiles: form.subTiles,
    ranges: form.ranges,
    maskWords: form.masks,
    params: own(runtime.uniform(`attentionParams[${h}]`, params)),
    partialRows,
    partialLse,
  });
  if (merge && mergeCount > 0) {
    const mergeParams = new Uint32Array([mergeCount, mergeGrid[0], 0, 0]);
    work.merge = bindNamed(runtime, merge, MERGE_PARTIALS_BINDINGS, {
      partialRows,
      partialLse,
      merges: form.merges,
      outRows,
      lse: rowLse,
      params: own(runtime.uniform(`mergeParams[${h}]`, mergeParams)),
    });
  }
  return { work: work as HeadWork, out, lse };
}

/**
 * Head `h`'s outputs in the permuted order, and the bind groups of the gather into that order
 * (into the head's slices of the permuted Q, K and V) and of the scatter back to `out` and `lse`.
 */
function bindPermutation(
  runtime: GpuRuntime,
  h: number,
  parts: {
    shape: ProgramShape;
    pipelines: Pipelines;
    inputs: GpuQkv;
    form: FormBuffers;
    own: (buffer: GPUBuffer) => GPUBuffer;
    inputsPermuted: PermutedInputs;
    permuteGrid: [number, number];
    out: GPUBuffer;
    lse: GPUBuffer;
  },
): {
  buffers: Record<"q" | "k" | "v", BufferResource> & Record<"outRows" | "rowLse", GPUBuffer>;
  gather: GPUBindGroup;
  scatter: GPUBindGroup;
} {
  const { shape: { tokens, headDim }, inputs, form, own, permuteGrid } = parts;
  const { q, k, v } = parts.inputsPermuted;
  const outRows = own(runtime.buffer(`outPermuted[${h}]`, tokens * headDim * 4));
  const rowLse = own(runtime.buffer(`lsePermuted[${h}]`, tokens * 4));
  const params = own(runtime.uniform(
    `permuteParams[${h}]`,
    new Uint32Array([tokens, permuteGrid[0], form.scaled, 0]),
  ));
  const keys = k && v ? (form.keyPermutation ? "keyed" : "permuted") : "in place";
  const gather = bindNamed(runtime, parts.pipelines.gather!, gatherBindings(keys), {
    permutation: form.permutation!,
    qSrc: inputs.q[h],
    qDst: q,
    params,
    ...(k && v ? { kSrc: inputs.k[h], vSrc: inputs.v[h], kDst: k, vDst: v } : {}),
    ...(keys === "keyed" ? { keyPermutation: form.keyPermutation! } : {}),
  });
  const scatter = bindNamed(runtime, parts.pipelines.scatter!, SCATTER_BINDINGS, {
    permutation: form.permutation!,
    outPermuted: outRows,
    lsePermuted: rowLse,
    outputScale: form.outputScale!,
    outRows: parts.out,
    lse: parts.lse,
    params,
  });
  // K and V in place: the attention reads the head's own.
  const keyRows = k && v ? { k, v } : { k: inputs.k[h], v: inputs.v[h] };
  return { buffers: { q, ...keyRows, outRows, rowLse }, gather, scatter };
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

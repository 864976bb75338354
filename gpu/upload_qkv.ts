/**
 * Uploads Q/K/V of every head to the GPU, one buffer per head and tensor, in f32 or f16
 * storage. f16 needs the adapter's `shader-f16`: every upload checks it the same way
 * ({@link assertStorable}), so no f16 buffer reaches an adapter whose shaders cannot read it.
 *
 * @module
 */
import type { HeadTensors, QkvSource } from "../scenarios/inputs.ts";
import type { AdapterFacts, GpuRuntime } from "./runtime.ts";

/** Q/K/V of every head already on the GPU (one buffer per head and tensor, [tokens, d]). */
export interface GpuQkv {
  /** Storage precision of the buffers. */
  precision: "f32" | "f16";
  /** Query buffers, one per head. */
  q: GPUBuffer[];
  /** Key buffers, one per head. */
  k: GPUBuffer[];
  /** Value buffers, one per head. */
  v: GPUBuffer[];
}

/** Thrown when f16 is asked for on an adapter without `shader-f16`. */
export class PrecisionError extends RangeError {
  constructor(description: string) {
    super(
      `--precision f16 needs the shader-f16 feature, which "${description}" lacks (allowed here: f32)`,
    );
    this.name = "PrecisionError";
  }
}

/** Throws {@link PrecisionError} when `precision` is f16 and the adapter lacks `shader-f16`. */
export function assertStorable(facts: AdapterFacts, precision: "f32" | "f16"): void {
  if (precision === "f16" && !facts.shaderF16) throw new PrecisionError(facts.description);
}

/** The storage bytes of `values` in `precision`. */
export function toStorage(values: Float32Array, precision: "f32" | "f16"): ArrayBufferView {
  return precision === "f16" ? Float16Array.from(values) : values;
}

/** Uploads one head's tensors; throws {@link PrecisionError} before any upload (see {@link assertStorable}). */
export function uploadHead(
  runtime: GpuRuntime,
  tensors: HeadTensors,
  precision: "f32" | "f16",
  head: number,
): { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer } {
  assertStorable(runtime.facts, precision);
  return {
    q: runtime.upload(`q[${head}]`, toStorage(tensors.q, precision)),
    k: runtime.upload(`k[${head}]`, toStorage(tensors.k, precision)),
    v: runtime.upload(`v[${head}]`, toStorage(tensors.v, precision)),
  };
}

/**
 * Uploads every head of `source`; `keep` receives each head's CPU tensors (e.g. for quality).
 * Throws {@link PrecisionError} before reading any head (see {@link assertStorable}).
 */
export async function uploadQkv(
  runtime: GpuRuntime,
  source: QkvSource,
  precision: "f32" | "f16",
  keep?: (head: number, tensors: HeadTensors) => void,
): Promise<GpuQkv> {
  assertStorable(runtime.facts, precision);
  const gpu: GpuQkv = { precision, q: [], k: [], v: [] };
  for (let h = 0; h < source.heads; h++) {
    const tensors = await source.head(h);
    const buffers = uploadHead(runtime, tensors, precision, h);
    gpu.q.push(buffers.q);
    gpu.k.push(buffers.k);
    gpu.v.push(buffers.v);
    keep?.(h, tensors);
  }
  return gpu;
}

/**
 * Test fixture: heads of Q/K/V uploaded one buffer set a head, as the routing programs take them,
 * and released together.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import { type GpuQkv, uploadHead } from "../gpu/upload_qkv.ts";
import type { HeadTensors } from "../scenarios/inputs.ts";

/** Uploads every head of `tensors` in `precision`; `release()` frees the buffers. */
export function uploadHeads(
  runtime: GpuRuntime,
  tensors: HeadTensors[],
  precision: "f32" | "f16",
): { inputs: GpuQkv; release: () => void } {
  const uploaded = tensors.map((t, h) => uploadHead(runtime, t, precision, h));
  return {
    inputs: {
      precision,
      q: uploaded.map((u) => u.q),
      k: uploaded.map((u) => u.k),
      v: uploaded.map((u) => u.v),
    },
    release: () => runtime.release(uploaded.flatMap((u) => [u.q, u.k, u.v])),
  };
}

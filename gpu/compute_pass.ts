/**
 * Submitting one compute pass: what a caller encodes into it is run once, without timing (for
 * timed runs see `timing.ts`).
 *
 * @module
 */
import type { GpuRuntime } from "./runtime.ts";

/** Encodes one compute pass with `encode` and submits it; does not wait for it to finish. */
export function submitComputePass(
  runtime: GpuRuntime,
  encode: (pass: GPUComputePassEncoder) => void,
): void {
  const encoder = runtime.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass);
  pass.end();
  runtime.device.queue.submit([encoder.finish()]);
}

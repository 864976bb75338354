/**
 * What MoC's and MoGA's GPU routing drivers share: a routing program is everything it dispatches
 * encoded into one compute pass (so `gpu/timing.ts` can time it as a unit and re-run it: every
 * run starts from the inputs, never from a previous run's state), run once for the selections,
 * then timed.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import { timeComputePass } from "../gpu/timing.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";

/** A compiled, bound routing workload. */
export interface RoutingProgram {
  /** Compilation time of its pipelines, ms (0 when cached). */
  readonly compileMs: number;
  /** Encodes every dispatch, for every head, into `pass`. */
  encode(pass: GPUComputePassEncoder): void;
  /** Frees the buffers it made (not the inputs). */
  release(): void;
}

/** Timing of the routing kernels of a dynamic method, in ms. */
export interface RoutingTiming {
  /** One sample a repeat. */
  samples: number[];
  /** `gpu` (timestamp queries) or `wall`. */
  timer: "gpu" | "wall";
}

/** Warm-up and repeat counts of the routing timer. */
export interface RoutingTimingOptions {
  /** Untimed runs first. */
  warmup: number;
  /** Timed runs (0: no timing). */
  repeats: number;
}

/** Runs `program` once and waits for it (its outputs can then be read). */
export async function runRoutingOnce(runtime: GpuRuntime, program: RoutingProgram): Promise<void> {
  submitComputePass(runtime, (pass) => program.encode(pass));
  await runtime.device.queue.onSubmittedWorkDone();
  runtime.assertAlive();
}

/** Times `program`; undefined when no repeat is asked for. */
export async function timeRouting(
  runtime: GpuRuntime,
  program: RoutingProgram,
  options: RoutingTimingOptions,
): Promise<RoutingTiming | undefined> {
  if (options.repeats < 1) return undefined;
  const timed = await timeComputePass(runtime, (pass) => program.encode(pass), options);
  return { samples: timed.samples, timer: timed.timer };
}

/** Reads a whole u32 buffer back. */
export async function readUint32(runtime: GpuRuntime, buffer: GPUBuffer): Promise<Uint32Array> {
  return new Uint32Array(await runtime.read(buffer));
}

/** Reads a whole f32 buffer back. */
export async function readFloat32(runtime: GpuRuntime, buffer: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await runtime.read(buffer));
}

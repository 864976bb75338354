/**
 * What MoC's and MoGA's GPU routing drivers share: a routing program is a list of steps, each a
 * few dispatches of one named stage (pooling, scores and top-k, a k-means round, the group sort),
 * every head of the program in each dispatch. It is run once for the selections, then timed as a
 * whole (every step in one compute pass, so `gpu/timing.ts` times it as a unit; every run starts
 * from the inputs, never from a previous run's state), then step by step in passes of their own
 * for the time of each stage.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import { readTimestamps, summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";

/** A few dispatches of one stage of a routing program. */
export interface RoutingStep {
  /** The stage it belongs to (steps of one stage are timed together). */
  readonly stage: string;
  /** Encodes its dispatches into `pass`. */
  encode(pass: GPUComputePassEncoder): void;
}

/** A compiled, bound routing workload. */
export interface RoutingProgram {
  /** Compilation time of its pipelines, ms (0 when cached). */
  readonly compileMs: number;
  /** Its steps in run order. */
  readonly steps: readonly RoutingStep[];
  /** Frees the buffers it made (not the inputs). */
  release(): void;
}

/** Timing of the routing kernels of a dynamic method, in ms. */
export interface RoutingTiming {
  /** One sample a repeat (the whole program in one pass). */
  samples: number[];
  /** `gpu` (timestamp queries) or `wall`. */
  timer: "gpu" | "wall";
  /**
   * Median GPU time of each stage, ms, summed over its steps (each step timed in a pass of its
   * own); absent without timestamp queries.
   */
  stages?: Record<string, number>;
}

/** Warm-up and repeat counts of the routing timer. */
export interface RoutingTimingOptions {
  /** Untimed runs first. */
  warmup: number;
  /** Wall time the warm-up lasts at least, ms (gpu/timing.ts `warmupMs`). */
  warmupMs?: number;
  /** Timed runs (0: no timing). */
  repeats: number;
}

/** Encodes every step of `program` into `pass`. */
function encodeRouting(program: RoutingProgram, pass: GPUComputePassEncoder): void {
  for (const step of program.steps) step.encode(pass);
}

/** Runs `program` once and waits for it (its outputs can then be read). */
export async function runRoutingOnce(runtime: GpuRuntime, program: RoutingProgram): Promise<void> {
  submitComputePass(runtime, (pass) => encodeRouting(program, pass));
  await runtime.device.queue.onSubmittedWorkDone();
  runtime.assertAlive();
}

/** Times `program`, whole and by stage; undefined when no repeat is asked for. */
export async function timeRouting(
  runtime: GpuRuntime,
  program: RoutingProgram,
  options: RoutingTimingOptions,
): Promise<RoutingTiming | undefined> {
  if (options.repeats < 1) return undefined;
  const timed = await timeComputePass(runtime, (pass) => encodeRouting(program, pass), options);
  if (timed.timer !== "gpu") return { samples: timed.samples, timer: timed.timer };
  const stages = await timeStages(runtime, program, options.repeats);
  return { samples: timed.samples, timer: timed.timer, stages };
}

/**
 * The median time of each stage over `repeats` runs, every step in a compute pass of its own
 * with timestamps at its start and end, all the steps of a run in one submission; the runs are
 * submitted back to back before the first is read, so the GPU does not idle between them.
 */
async function timeStages(
  runtime: GpuRuntime,
  program: RoutingProgram,
  repeats: number,
): Promise<Record<string, number>> {
  const { device } = runtime;
  const steps = program.steps;
  const querySets = Array.from({ length: repeats }, () => {
    const querySet = device.createQuerySet({ type: "timestamp", count: 2 * steps.length });
    const encoder = device.createCommandEncoder();
    steps.forEach((step, i) => {
      const pass = encoder.beginComputePass({
        timestampWrites: {
          querySet,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
      step.encode(pass);
      pass.end();
    });
    device.queue.submit([encoder.finish()]);
    return querySet;
  });
  const perStage = new Map<string, number[]>();
  for (const querySet of querySets) {
    const durations = await readTimestamps(device, querySet, steps.length);
    runtime.assertAlive();
    querySet.destroy();
    const runTotals = new Map<string, number>();
    steps.forEach((step, i) => {
      runTotals.set(step.stage, (runTotals.get(step.stage) ?? 0) + durations[i]);
    });
    for (const [stage, ms] of runTotals) {
      perStage.set(stage, [...(perStage.get(stage) ?? []), ms]);
    }
  }
  return Object.fromEntries(
    [...perStage].map(([stage, samples]) => [stage, summarizeSamples(samples).median]),
  );
}

/**
 * The routing time of heads routed in several programs (e.g. MoC, one program a distinct k): repeat i of the whole
 * is the sum of every program's repeat i, and so is each stage's median.
 */
export function sumRoutingTimings(timings: RoutingTiming[]): RoutingTiming {
  const repeats = Math.min(...timings.map((t) => t.samples.length));
  return {
    samples: Array.from(
      { length: repeats },
      (_, i) => timings.reduce((sum, t) => sum + t.samples[i], 0),
    ),
    timer: timings.every((t) => t.timer === "gpu") ? "gpu" : "wall",
    ...(timings.every((t) => t.stages) ? { stages: sumStages(timings.map((t) => t.stages!)) } : {}),
  };
}

/** Stage times of several programs, added stage by stage. */
function sumStages(all: Record<string, number>[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const stages of all) {
    for (const [stage, ms] of Object.entries(stages)) sums[stage] = (sums[stage] ?? 0) + ms;
  }
  return sums;
}

/**
 * Fills `buffers` with all-ones words (0xffffffff: no valid group, index or count, and NaN as f32),
 * so that an entry a routing kernel fails to write is caught when it is read back.
 */
export function poisonBuffers(runtime: GpuRuntime, buffers: readonly GPUBuffer[]): void {
  for (const buffer of buffers) {
    runtime.device.queue.writeBuffer(buffer, 0, new Uint32Array(buffer.size / 4).fill(0xffffffff));
  }
}

/** Reads a whole u32 buffer back. */
export async function readUint32(runtime: GpuRuntime, buffer: GPUBuffer): Promise<Uint32Array> {
  return new Uint32Array(await runtime.read(buffer));
}

/** Reads a whole f32 buffer back. */
export async function readFloat32(runtime: GpuRuntime, buffer: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await runtime.read(buffer));
}

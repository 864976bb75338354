/**
 * GPU timing as docs/metrics.md says: warm-up runs first, then repeats; each repeat is one compute
 * pass timed by timestamp queries when the adapter has them, else by wall time from submit to
 * `onSubmittedWorkDone`.
 *
 * @module
 */
import type { GpuRuntime } from "./runtime.ts";

/**
 * Timed runs per timestamp query set: WebGPU allows at most 4,096 queries in a set, two a run.
 * Longer series use several sets, so `--repeats` above 2,048 times every run.
 */
export const MAX_RUNS_PER_QUERY_SET = 2048;

/** Warm-up and repeat counts. */
export interface TimingOptions {
  /** Untimed runs first (compilation, first-use costs). */
  warmup: number;
  /**
   * Wall time the warm-up lasts at least, ms (default 0): more untimed runs until it has passed.
   * A GPU that idled runs at lower clocks for a while, so a program of a few ms timed right after
   * idle reads slow.
   */
  warmupMs?: number;
  /** Timed runs. */
  repeats: number;
  /** Wall-time budget of the timed repeats, ms: fewer repeats (at least 3) for slow workloads. */
  budgetMs?: number;
  /** Called before the timed repeats (e.g. to poison outputs). */
  beforeTimed?: () => void;
  /** Called after each run: its phase, runs of that phase done, and how many it has. */
  onRun?: (phase: "warmup" | "timed", done: number, of: number) => void;
}

/** Samples of a timed workload, in ms. */
export interface TimingSamples {
  /** One sample per repeat, in run order. */
  samples: number[];
  /** Which clock measured them. */
  timer: "gpu" | "wall";
  /** Wall time of the first warm-up run (first-use cost), ms. */
  firstRunMs: number;
}

/** Times `encode` (everything it puts into one compute pass) on `runtime`. */
export async function timeComputePass(
  runtime: GpuRuntime,
  encode: (pass: GPUComputePassEncoder) => void,
  options: TimingOptions,
): Promise<TimingSamples> {
  const { device } = runtime;
  const useGpuTimer = runtime.facts.timestampQuery;
  const runOnce = async (timestampWrites?: GPUComputePassTimestampWrites) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    encode(pass);
    pass.end();
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    runtime.assertAlive();
    return performance.now() - start;
  };
  let firstRunMs = 0;
  let lastRunMs = 0;
  const warmStart = performance.now();
  const warming = (i: number) =>
    i < options.warmup || performance.now() - warmStart < (options.warmupMs ?? 0);
  for (let i = 0; warming(i); i++) {
    lastRunMs = await runOnce();
    if (i === 0) firstRunMs = lastRunMs;
    options.onRun?.("warmup", i + 1, Math.max(options.warmup, i + 1));
  }
  const repeats = options.budgetMs && lastRunMs > 0
    ? Math.max(
      Math.min(3, options.repeats),
      Math.min(options.repeats, Math.floor(options.budgetMs / lastRunMs)),
    )
    : options.repeats;
  options.beforeTimed?.();
  if (!useGpuTimer) {
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      samples.push(await runOnce());
      options.onRun?.("timed", i + 1, repeats);
    }
    return { samples, timer: "wall", firstRunMs };
  }
  const samples: number[] = [];
  for (let first = 0; first < repeats; first += MAX_RUNS_PER_QUERY_SET) {
    const runs = Math.min(MAX_RUNS_PER_QUERY_SET, repeats - first);
    const querySet = device.createQuerySet({ type: "timestamp", count: 2 * runs });
    for (let i = 0; i < runs; i++) {
      await runOnce({ querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
      options.onRun?.("timed", first + i + 1, repeats);
    }
    samples.push(...await readTimestamps(device, querySet, runs));
    querySet.destroy();
  }
  return { samples, timer: "gpu", firstRunMs };
}

/** Pass durations (ms) from the `runs` begin/end timestamp pairs of `querySet`. */
export async function readTimestamps(
  device: GPUDevice,
  querySet: GPUQuerySet,
  runs: number,
): Promise<number[]> {
  const bytes = 16 * runs;
  const resolved = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.resolveQuerySet(querySet, 0, 2 * runs, resolved, 0);
  encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
  staging.unmap();
  for (const b of [resolved, staging]) b.destroy();
  return Array.from({ length: runs }, (_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
}

/** Median, p10 and p90 of samples (linear interpolation between order statistics). */
export function summarizeSamples(samples: number[]): { median: number; p10: number; p90: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => {
    const x = p * (sorted.length - 1);
    const lo = Math.floor(x);
    const hi = Math.ceil(x);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
  };
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

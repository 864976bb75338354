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

/**
 * Wall time of warm-up on a GPU, ms: a GPU that idled runs at low clocks and needs a moment of
 * steady work to raise them. On the H200 the SM clock fell to 345–660 MHz within a second of
 * idle and came back to 1,980 MHz within 300 ms of steady work; a routing program of 1–2 ms timed
 * at the low clock read up to four times slower (docs/results/routing.md, "v5").
 */
export const GPU_WARMUP_MS = 300;

/**
 * GPU time a batch of short runs lasts at least, ms: runs shorter than this are submitted back to
 * back, several before one wait, and the next batch is queued before that wait, so the GPU does
 * not idle between them (waiting for each run of a 1 ms program left the H200 at 45 % use and
 * 405 MHz; batches of 25 ms each waited for before the next, at 21–36 % and 555 MHz).
 */
export const BATCH_MS = 25;

/** Warm-up and repeat counts. */
export interface TimingOptions {
  /** Untimed runs first (compilation, first-use costs). */
  warmup: number;
  /**
   * Wall time the warm-up lasts at least, ms (default 0): more untimed runs until it has passed
   * (see {@link GPU_WARMUP_MS}).
   */
  warmupMs?: number;
  /** Timed runs. */
  repeats: number;
  /** Wall-time budget of the timed repeats, ms: fewer repeats (at least 3) for slow workloads. */
  budgetMs?: number;
  /** Called before the timed repeats (e.g. to poison outputs). */
  beforeTimed?: () => void;
  /** Called after each run or batch of runs: its phase, runs of that phase done, and how many it has. */
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

/**
 * Runs of `runMs` ms each to submit before one wait: enough to fill {@link BATCH_MS}, at least 1,
 * at most `left`; 1 while the length of a run is not known yet (`runMs` 0).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { runsPerBatch } from "./timing.ts";
 * equal(runsPerBatch(1, 100), 25);
 * equal(runsPerBatch(1, 10), 10);
 * equal(runsPerBatch(40, 100), 1);
 * equal(runsPerBatch(0, 100), 1);
 * ```
 */
export function runsPerBatch(runMs: number, left: number): number {
  if (!(runMs > 0)) return 1;
  return Math.max(1, Math.min(left, Math.floor(BATCH_MS / runMs)));
}

/**
 * Times `encode` (everything it puts into one compute pass) on `runtime`. With timestamp queries,
 * after a first run alone, warm-up and timed runs are submitted in batches of
 * {@link runsPerBatch}, each batch queued before the wait for the one before, so a short program
 * keeps the GPU busy. Without them every run is waited for (a timed run's wall time is its
 * sample).
 */
export async function timeComputePass(
  runtime: GpuRuntime,
  encode: (pass: GPUComputePassEncoder) => void,
  options: TimingOptions,
): Promise<TimingSamples> {
  const { device } = runtime;
  const useGpuTimer = runtime.facts.timestampQuery;
  const submitRun = (timestampWrites?: GPUComputePassTimestampWrites) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
  };
  let runMs = 0;
  // Submits batches of runsPerBatch(runMs, wanted) runs while `wanted(submitted)` > 0, the next
  // batch queued before the wait for the one before, so the GPU has work while the CPU waits and
  // encodes. After each wait, runMs is the time between two finished batches, per run (the GPU's
  // time once the queue stays full), and `onBatch` gets the runs finished.
  const pipelined = async (
    wanted: (submitted: number) => number,
    writes: ((run: number) => GPUComputePassTimestampWrites) | undefined,
    onBatch: (finished: number) => void,
  ) => {
    let submitted = 0;
    let finished = 0;
    let lastFinish = performance.now();
    let inFlight: { runs: number; done: Promise<void> } | undefined;
    const wait = async (batch: { runs: number; done: Promise<void> }) => {
      await batch.done;
      runtime.assertAlive();
      const now = performance.now();
      runMs = (now - lastFinish) / batch.runs;
      lastFinish = now;
      finished += batch.runs;
      onBatch(finished);
    };
    for (let left = wanted(0); left > 0; left = wanted(submitted)) {
      // Without timestamps the budget needs a run's own wall time: one run a wait, none ahead.
      const runs = useGpuTimer ? runsPerBatch(runMs, left) : 1;
      for (let i = 0; i < runs; i++) submitRun(writes?.(submitted + i));
      submitted += runs;
      const batch = { runs, done: device.queue.onSubmittedWorkDone() };
      if (!useGpuTimer) {
        await wait(batch);
        continue;
      }
      if (inFlight) await wait(inFlight);
      inFlight = batch;
    }
    if (inFlight) await wait(inFlight);
  };
  let firstRunMs = 0;
  const warmStart = performance.now();
  if (options.warmup > 0 || (options.warmupMs ?? 0) > 0) {
    // The first run alone: its wall time is the first-use cost.
    await pipelined((submitted) => 1 - submitted, undefined, () => {});
    firstRunMs = runMs;
    options.onRun?.("warmup", 1, Math.max(options.warmup, 1));
    await pipelined(
      (submitted) => {
        const counted = options.warmup - 1 - submitted;
        if (counted > 0) return counted;
        return performance.now() - warmStart < (options.warmupMs ?? 0) ? Infinity : 0;
      },
      undefined,
      (finished) => options.onRun?.("warmup", 1 + finished, Math.max(options.warmup, 1 + finished)),
    );
  }
  const repeats = options.budgetMs && runMs > 0
    ? Math.max(
      Math.min(3, options.repeats),
      Math.min(options.repeats, Math.floor(options.budgetMs / runMs)),
    )
    : options.repeats;
  options.beforeTimed?.();
  if (!useGpuTimer) {
    // Each timed run waited for: its wall time is the sample.
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      submitRun();
      await device.queue.onSubmittedWorkDone();
      runtime.assertAlive();
      samples.push(performance.now() - start);
      options.onRun?.("timed", i + 1, repeats);
    }
    return { samples, timer: "wall", firstRunMs };
  }
  const samples: number[] = [];
  for (let first = 0; first < repeats; first += MAX_RUNS_PER_QUERY_SET) {
    const runs = Math.min(MAX_RUNS_PER_QUERY_SET, repeats - first);
    const querySet = device.createQuerySet({ type: "timestamp", count: 2 * runs });
    await pipelined(
      (submitted) => runs - submitted,
      (run) => ({ querySet, beginningOfPassWriteIndex: 2 * run, endOfPassWriteIndex: 2 * run + 1 }),
      (finished) => options.onRun?.("timed", first + finished, repeats),
    );
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

import assert from "node:assert/strict";
import type { GpuRuntime } from "./runtime.ts";
import { BATCH_MS, MAX_RUNS_PER_QUERY_SET, summarizeSamples, timeComputePass } from "./timing.ts";

/**
 * A runtime whose device only records what timing.ts asks of it. Wall time is a fake clock that
 * each pass advances by `wallMs(i)`; GPU timestamps of pass i are 1 ms apart times `gpuMs(i)`.
 */
function fakeRuntime(options: {
  timestampQuery: boolean;
  wallMs: (pass: number) => number;
  gpuMs?: (pass: number) => number;
}) {
  let now = 0;
  let passes = 0;
  const pendingWalls: number[] = [];
  const ticks = new BigInt64Array(4096);
  const querySetSizes: number[] = [];
  const timedPasses: number[] = [];
  // Submissions between two waits, one entry a wait.
  const batches: number[] = [];
  let counted = 0;
  // Waits awaited while a later batch was already queued.
  let queuedAtWait = 0;
  let submitted = 0;
  const device = {
    createCommandEncoder: () => ({
      beginComputePass: (descriptor: GPUComputePassDescriptor) => {
        const pass = passes++;
        pendingWalls.push(options.wallMs(pass));
        const writes = descriptor.timestampWrites;
        if (writes) {
          timedPasses.push(pass);
          const start = BigInt(pass) * 1_000_000_000n;
          ticks[writes.beginningOfPassWriteIndex!] = start;
          ticks[writes.endOfPassWriteIndex!] = start + BigInt(options.gpuMs!(pass) * 1e6);
        }
        return { end: () => {} };
      },
      resolveQuerySet: () => {},
      copyBufferToBuffer: () => {},
      finish: () => ({}),
    }),
    createQuerySet: ({ count }: { count: number }) => {
      // WebGPU refuses a set of more than 4,096 queries (the passes then run nothing at all).
      if (count > 4096) throw new RangeError(`query set of ${count} > 4096`);
      querySetSizes.push(count);
      return { destroy: () => {} };
    },
    createBuffer: ({ size }: { size: number }) => ({
      mapAsync: () => Promise.resolve(),
      getMappedRange: () => ticks.buffer.slice(0, size),
      unmap: () => {},
      destroy: () => {},
    }),
    queue: {
      submit: () => submitted++,
      // The wait for every pass begun so far: awaiting it advances the clock by those passes'
      // wall times (the ones an earlier wait did not count).
      onSubmittedWorkDone: () => {
        const upTo = passes;
        batches.push(submitted);
        submitted = 0;
        return {
          then: (resolve: () => void) => {
            if (passes > upTo) queuedAtWait++;
            for (; counted < upTo; counted++) now += pendingWalls[counted];
            resolve();
          },
        };
      },
    },
  };
  const runtime = {
    device,
    facts: { timestampQuery: options.timestampQuery },
    assertAlive: () => {},
  } as unknown as GpuRuntime;
  return {
    runtime,
    clock: () => now,
    timedPasses,
    querySetSizes,
    batches,
    queuedAtWait: () => queuedAtWait,
  };
}

/** Runs `body` with performance.now() reading `clock`. */
async function withClock<T>(clock: () => number, body: () => Promise<T>): Promise<T> {
  const real = performance.now;
  performance.now = clock;
  try {
    return await body();
  } finally {
    performance.now = real;
  }
}

Deno.test("timer: timestamp queries when the adapter has them, GPU times per pass", async () => {
  const fake = fakeRuntime({
    timestampQuery: true,
    wallMs: () => 50,
    gpuMs: (pass) => [9, 9, 1.5, 2.5, 3.5][pass],
  });
  const timing = await withClock(
    fake.clock,
    () => timeComputePass(fake.runtime, () => {}, { warmup: 2, repeats: 3 }),
  );
  assert.equal(timing.timer, "gpu");
  assert.deepEqual(timing.samples, [1.5, 2.5, 3.5], "GPU ticks, not the 50 ms wall time");
  assert.deepEqual(fake.timedPasses, [2, 3, 4], "warm-up passes carry no timestamps");
  assert.equal(timing.firstRunMs, 50);
});

Deno.test("timer: more repeats than one query set holds are timed in several sets, every run", async () => {
  const repeats = 2 * MAX_RUNS_PER_QUERY_SET + 5;
  const fake = fakeRuntime({
    timestampQuery: true,
    wallMs: () => 1,
    gpuMs: (pass) => 1 + pass % 7,
  });
  const timing = await withClock(
    fake.clock,
    () => timeComputePass(fake.runtime, () => {}, { warmup: 1, repeats }),
  );
  assert.equal(timing.samples.length, repeats);
  assert.deepEqual(fake.querySetSizes, [4096, 4096, 10]);
  for (let i = 0; i < repeats; i++) assert.equal(timing.samples[i], 1 + (i + 1) % 7, `run ${i}`);
});

Deno.test("timer: wall time submit → onSubmittedWorkDone without timestamp queries", async () => {
  let beforeTimedAt = -1;
  const fake = fakeRuntime({ timestampQuery: false, wallMs: (pass) => [40, 10, 11, 12][pass] });
  const timing = await withClock(fake.clock, () =>
    timeComputePass(fake.runtime, () => {}, {
      warmup: 1,
      repeats: 3,
      beforeTimed: () => (beforeTimedAt = fake.clock()),
    }));
  assert.equal(timing.timer, "wall");
  assert.deepEqual(timing.samples, [10, 11, 12]);
  assert.deepEqual(fake.timedPasses, []);
  assert.equal(timing.firstRunMs, 40);
  assert.equal(beforeTimedAt, 40, "beforeTimed runs after the warm-up, before the repeats");
});

Deno.test("warmupMs: warm-up runs go on until that much wall time has passed", async () => {
  const warmUps = async (warmupMs: number | undefined) => {
    const fake = fakeRuntime({ timestampQuery: false, wallMs: () => 30 });
    let runs = 0;
    const timing = await withClock(fake.clock, () =>
      timeComputePass(fake.runtime, () => {}, {
        warmup: 1,
        warmupMs,
        repeats: 3,
        onRun: (phase) => phase === "warmup" && runs++,
      }));
    assert.equal(timing.samples.length, 3);
    return runs;
  };
  assert.equal(await warmUps(100), 4, "30 ms runs: 4 reach 100 ms");
  assert.equal(await warmUps(undefined), 1, "none asked: the counted warm-up only");
  assert.equal(await warmUps(10), 1, "the first run already took longer");
});

Deno.test("short runs go to the GPU back to back, enough to fill BATCH_MS before each wait", async () => {
  const fake = fakeRuntime({ timestampQuery: true, wallMs: () => 1, gpuMs: () => 1 });
  const timed: string[] = [];
  const timing = await withClock(fake.clock, () =>
    timeComputePass(fake.runtime, () => {}, {
      warmup: 1,
      warmupMs: 2 * BATCH_MS,
      repeats: 3 * BATCH_MS,
      onRun: (phase, done, of) => phase === "timed" && timed.push(`${done}/${of}`),
    }));
  assert.deepEqual(timed, [1, 2, 3].map((n) => `${n * BATCH_MS}/${3 * BATCH_MS}`));
  assert.equal(timing.samples.length, 3 * BATCH_MS);
  assert.equal(timing.firstRunMs, 1);
  // Warm-up: the first run alone (its cost is the first-use cost), then batches of BATCH_MS runs
  // until 2 · BATCH_MS ms have passed, one more queued behind them; then the timed runs in
  // batches of BATCH_MS.
  const batch = BATCH_MS;
  assert.deepEqual(fake.batches, [1, batch, batch, batch, batch, batch, batch]);
  // Each batch is queued before the wait for the one before: the GPU never waits on the CPU.
  // The three warm-up batches and the three timed ones: at every wait but a phase's last.
  assert.equal(fake.queuedAtWait(), 4, "the next batch is queued before each wait");
  // 40 ms runs: each is waited for.
  const slow = fakeRuntime({ timestampQuery: true, wallMs: () => 40, gpuMs: () => 40 });
  await withClock(
    slow.clock,
    () => timeComputePass(slow.runtime, () => {}, { warmup: 2, repeats: 3 }),
  );
  assert.deepEqual(slow.batches, [1, 1, 1, 1, 1]);
});

Deno.test("--budget-ms: repeats shrink to budget ÷ last warm-up, never below 3", async () => {
  const repeatsFor = async (budgetMs: number | undefined, repeats: number) => {
    const fake = fakeRuntime({ timestampQuery: false, wallMs: (pass) => (pass === 0 ? 500 : 20) });
    const timing = await withClock(
      fake.clock,
      () => timeComputePass(fake.runtime, () => {}, { warmup: 2, repeats, budgetMs }),
    );
    return timing.samples.length;
  };
  assert.equal(await repeatsFor(100, 20), 5, "100 ms / 20 ms (the last warm-up, not the first)");
  assert.equal(await repeatsFor(10, 20), 3, "at least 3");
  assert.equal(await repeatsFor(10, 2), 2, "but never more than asked");
  assert.equal(await repeatsFor(10_000, 20), 20, "a large budget keeps every repeat");
  assert.equal(await repeatsFor(undefined, 20), 20, "no budget: every repeat");
});

Deno.test("summarizeSamples: median, p10, p90 by linear interpolation", () => {
  assert.deepEqual(summarizeSamples([5, 1, 4, 2, 3]), { median: 3, p10: 1.4, p90: 4.6 });
  assert.deepEqual(summarizeSamples([7]), { median: 7, p10: 7, p90: 7 });
});

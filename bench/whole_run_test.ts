import assert from "node:assert/strict";
import { parseSchedule } from "../scenarios/schedule.ts";
import { preset } from "../scenarios/presets.ts";
import type { BenchRecord } from "../records/schema.ts";
import { endToEndSpeedup, expandSchedule, wholeRunSummary } from "./whole_run.ts";

Deno.test("the presets' Radial schedules are the official scripts': Hunyuan 12 of 50 steps dense", () => {
  const hunyuan = preset("hunyuan-117f-768x1280", "full");
  // 60 layers × 50 steps × 24 heads; the first 12 steps dense.
  assert.deepEqual(expandSchedule(hunyuan.schedule!, "radial", 24), [
    { spec: "dense", cells: 12 * 60 * 24 },
    { spec: "radial", cells: 38 * 60 * 24 },
  ]);
  // Wan: 40 layers, 1 dense layer and 12 dense steps.
  const wan = preset("wan-69f-768x1280", "ci");
  assert.deepEqual(expandSchedule(wan.schedule!, "radial:decay=0.2", 2), [
    { spec: "dense", cells: (12 * 40 + 38 * 1) * 2 },
    { spec: "radial:decay=0.2", cells: 38 * 39 * 2 },
  ]);
  assert.equal(preset("hunyuan-117f-768x1280@x2", "full").schedule, undefined);
});

Deno.test("the presets' SVG2 runs: 50 k-means rounds at the first sparse step, then 2 a step", () => {
  // Sparse-VideoGen's scripts: kmeans_iter_init=50, kmeans_iter_step=2; Hunyuan 5 of 50 steps
  // and 1 of 60 layers dense, Wan 10 of 50 and 1 of 40.
  const hunyuan = preset("hunyuan-117f-768x1280", "full");
  assert.deepEqual(expandSchedule(hunyuan.schedule!, "svg2", 24), [
    { spec: "dense", cells: (5 * 60 + 45 * 1) * 24 },
    { spec: "svg2", cells: 1 * 59 * 24 },
    { spec: "svg2:iters=2", cells: 44 * 59 * 24 },
  ]);
  const wan = preset("wan-69f-768x1280", "full");
  assert.deepEqual(expandSchedule(wan.schedule!, "svg2:topP=0.95", 40), [
    { spec: "dense", cells: (10 * 40 + 40 * 1) * 40 },
    { spec: "svg2:topP=0.95", cells: 1 * 39 * 40 },
    { spec: "svg2:iters=2;topP=0.95", cells: 39 * 39 * 40 },
  ]);
});

Deno.test("rules and a mask-strategy file pick the configuration of each cell", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  const strategy: Record<string, number[]> = {};
  for (let layer = 0; layer < 2; layer++) {
    for (let head = 0; head < 2; head++) strategy[`1_${layer}_${head}`] = [1, 1, head + 1];
  }
  await Deno.writeTextFile(file, JSON.stringify(strategy));
  const schedule = parseSchedule({
    layers: 2,
    steps: 2,
    methods: {
      sta: { denseSteps: 1, strategy: file },
      moc: { rules: [{ steps: [1, 2], heads: [1, 2], run: "moc:k=3" }] },
    },
  });
  // Step 0 dense (4 cells); step 1: head 0 window 1x1x1, head 1 window 1x1x2, on both layers.
  assert.deepEqual(expandSchedule(schedule, "sta:tile=6x8x8", 2), [
    { spec: "dense", cells: 4 },
    { spec: "sta:tile=6x8x8;window=1x1x1", cells: 2 },
    { spec: "sta:tile=6x8x8;window=1x1x2", cells: 2 },
  ]);
  assert.deepEqual(expandSchedule(schedule, "moc", 2), [
    { spec: "moc", cells: 6 },
    { spec: "moc:k=3", cells: 2 },
  ]);
  // A rule's `set` keeps the spec's other parameters and replaces the ones it names.
  const svg2 = parseSchedule({
    layers: 2,
    steps: 4,
    methods: { svg2: { denseSteps: 1, rules: [{ steps: [2, 4], set: { iters: 2 } }] } },
  });
  assert.deepEqual(expandSchedule(svg2, "svg2:topP=0.8;iters=40", 1), [
    { spec: "dense", cells: 2 },
    { spec: "svg2:topP=0.8;iters=40", cells: 2 },
    { spec: "svg2:iters=2;topP=0.8", cells: 4 },
  ]);
  // A `set` that changes nothing runs the spec as given: one configuration, not two names.
  assert.deepEqual(expandSchedule(svg2, "svg2:topP=0.8;iters=2", 1), [
    { spec: "dense", cells: 2 },
    { spec: "svg2:topP=0.8;iters=2", cells: 6 },
  ]);
  // A method the schedule does not name runs its spec on every cell.
  assert.deepEqual(expandSchedule(schedule, "radial", 2), [{ spec: "radial", cells: 8 }]);
});

function record(method: string, flops: number, median: number, heads = 2): BenchRecord {
  return {
    method,
    heads,
    flops,
    denseFlops: 1000,
    latency: { median, totalMedian: null },
  } as unknown as BenchRecord;
}

Deno.test("whole-run figures sum each configuration's per-head figures over its cells", () => {
  const schedule = parseSchedule({ layers: 2, steps: 5, methods: { radial: { denseSteps: 1 } } });
  const dense = record("dense", 1000, 10);
  const summary = wholeRunSummary({
    scenario: "s",
    method: "radial",
    schedule,
    heads: 2,
    configs: [{ spec: "dense", cells: 4 }, { spec: "radial", cells: 16 }],
    records: [dense, record("radial", 250, 4)],
    dense,
    attentionShare: 0.5,
  });
  // By hand: per head dense 500 FLOPs / 5 ms, radial 125 FLOPs / 2 ms.
  assert.equal(summary.flops, 4 * 500 + 16 * 125);
  assert.equal(summary.denseFlops, 20 * 500);
  assert.equal(summary.ms, 4 * 5 + 16 * 2);
  assert.equal(summary.denseMs, 20 * 5);
  assert.equal(summary.speedup, 100 / 52);
  assert.equal(summary.endToEndSpeedup, 1 / (0.5 + 0.5 / (100 / 52)));
  assert.equal(endToEndSpeedup(1, 0.9), 1);
});

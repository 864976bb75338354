import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import { runCases, type RunSettings } from "../bench/runner.ts";
import { layoutDigest } from "../regress/layout_digest.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { attendedPairs } from "./form.ts";
import { MethodSpecError } from "./method.ts";
import { resolveMethod } from "./registry.ts";
import { sta, staForm } from "./sta.ts";
import { parseMaskStrategy } from "./sta_strategy.ts";

/** Two tiles of 6×8×8 = 384 tokens side by side along W, no text, 2 heads of d = 64. */
const scenario: Scenario = {
  name: "two-tiles",
  latent: [6, 8, 16],
  text: { tokens: 0, position: "none" },
  shots: [6],
  textSegments: [],
  heads: 2,
  headDim: 64,
  modelType: "hunyuan",
};

/** A hand-made FastVideo file: step 1, layer 0 gives head 0 its own tile, head 1 both tiles. */
const HAND_MADE = {
  "1_0_0": [1, 1, 1],
  "1_0_1": [1, 1, 2],
  "0_0_0": [1, 1, 2],
  "0_0_1": [1, 1, 2],
};

async function handMadeFile(): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(HAND_MADE));
  return path;
}

Deno.test("sta:strategy runs the file's window of each head at the step and layer asked", async () => {
  const file = await handMadeFile();
  const method = sta.create({ strategy: file, step: 1, layer: 0 });
  const layout = await method.layout(scenario, {});
  // By hand: head 0 attends its own tile (2 tiles × 384²), head 1 everything (768²).
  assert.deepEqual(layout.forms.map(attendedPairs), [2 * 384 * 384, 768 * 768]);
  assert.equal(layout.stats?.windows, "1x1x1/1x1x2");
  assert.equal(method.analyticFlops?.(scenario), 4 * 64 * (2 * 384 * 384 + 768 * 768));
  assert.deepEqual(method.params, { strategy: file, step: 1, layer: 0, tile: [6, 8, 8] });
});

Deno.test("sta: per-head windows, and the record keeps no per-head keys when none are given", () => {
  const method = sta.create({ windows: "1x1x1/1x1x2" });
  assert.deepEqual(method.params, { tile: [6, 8, 8], windows: "1x1x1/1x1x2" });
  assert.deepEqual(sta.create({}).params, { window: [3, 3, 3], tile: [6, 8, 8] });
  assert.throws(
    () => method.layout({ ...scenario, heads: 3 }, {}),
    /"windows" must give one window for each of the 3 heads \(got 2\)/,
  );
  assert.throws(() => sta.create({ windows: "1x1/2x2x2" }), /one TxHxW window a head/);
  assert.throws(() => sta.create({ windows: "1x1x1", window: [3, 3, 3] }), /not both/);
  assert.throws(() => sta.create({ step: 3 }), /select a cell of "strategy"/);
});

Deno.test("a mask-strategy file with a missing head or a bad entry is refused naming the key", async () => {
  const file = await handMadeFile();
  const method = sta.create({ strategy: file, step: 2, layer: 0 });
  assert.throws(() => method.layout(scenario, {}), /has no window for "2_0_0"/);
  assert.throws(() => parseMaskStrategy({ "1_0_0": [1, 0, 1] }, "x.json"), MethodSpecError);
  assert.throws(() => parseMaskStrategy([], "x.json"), /must hold a JSON object/);
  assert.throws(() => sta.create({ strategy: "/nonexistent/strategy.json" }), /cannot be read/);
});

Deno.test("the kernel runs the hand-made file's per-head windows", async () => {
  const file = await handMadeFile();
  const settings: RunSettings = {
    precision: "f32",
    warmup: 0,
    repeats: 1,
    budgetMs: 10000,
    quality: false,
    seed: 1,
  };
  const runtime = await GpuRuntime.open();
  try {
    const [record] = await runCases(runtime, [{
      scenario,
      inputs: syntheticInputs(scenario, { seed: 1 }),
      methods: [await resolveMethod(`sta:strategy=${file};step=1;layer=0`)],
      recorded: [true],
    }], settings);
    assert.equal(record.error, undefined);
    assert.equal(record.stats?.windows, "1x1x1/1x1x2");
    assert.equal(record.flops, 4 * 64 * (2 * 384 * 384 + 768 * 768));
    const byHand = [
      staForm(scenario, [6, 8, 8], [1, 1, 1]),
      staForm(scenario, [6, 8, 8], [1, 1, 2]),
    ];
    assert.equal(record.layoutDigest, await layoutDigest(byHand));
  } finally {
    runtime.destroy();
  }
});

import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import { layoutDigest } from "../records/layout_digest.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { resolveMethod } from "../methods/registry.ts";
import { staForm } from "../methods/sta.ts";
import { handMadeStrategyFile, TWO_TILES } from "../tests/sta_strategy_fixtures.ts";
import { runCases, type RunSettings } from "./runner.ts";

Deno.test("the kernel runs the hand-made file's per-head windows", async () => {
  const file = await handMadeStrategyFile();
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
      scenario: TWO_TILES,
      inputs: syntheticInputs(TWO_TILES, { seed: 1 }),
      methods: [await resolveMethod(`sta:strategy=${file};step=1;layer=0`)],
      recorded: [true],
    }], settings);
    assert.equal(record.error, undefined);
    assert.equal(record.stats?.windows, "1x1x1/1x1x2");
    assert.equal(record.flops, 4 * 64 * (2 * 384 * 384 + 768 * 768));
    const byHand = [
      staForm(TWO_TILES, [6, 8, 8], [1, 1, 1]),
      staForm(TWO_TILES, [6, 8, 8], [1, 1, 2]),
    ];
    assert.equal(record.layoutDigest, await layoutDigest(byHand));
  } finally {
    runtime.destroy();
  }
});

import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import type { Method } from "../methods/method.ts";
import { resolveMethod } from "../methods/registry.ts";
import { denseForm, FormBuilder } from "../form/form.ts";
import { preset } from "../scenarios/presets.ts";
import { totalTokens } from "../scenarios/scenario.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { runCases, type RunSettings, type ScenarioCases } from "./runner.ts";

const settings: RunSettings = {
  precision: "f32",
  warmup: 1,
  repeats: 2,
  budgetMs: 10000,
  quality: false,
  seed: 1,
};

async function group(name: string): Promise<ScenarioCases> {
  const scenario = { ...preset(name, "ci"), heads: 1 };
  return {
    scenario,
    inputs: syntheticInputs(scenario, { seed: 1 }),
    methods: [await resolveMethod("dense"), await resolveMethod("radial")],
    recorded: [true, true],
  };
}

Deno.test("a lost device ends the run cleanly: every remaining case is recorded as not run", async () => {
  const runtime = await GpuRuntime.open();
  runtime.device.destroy();
  await runtime.device.lost;
  const records = await runCases(runtime, [
    await group("moc-single-shot"),
    await group("wan-69f-768x1280"),
  ], settings);
  assert.equal(records.length, 4, "every case is recorded, none silently dropped");
  assert.ok(records.every((r) => /lost/i.test(r.error ?? "") && r.latency === null));
});

/** A method whose layout throws: a genuine failure, not a scenario it does not apply to. */
const failingMethod: Method = {
  name: "failing",
  params: {},
  dynamic: false,
  layout: () => {
    throw new Error("layout exploded");
  },
};

Deno.test("a failing method is recorded and the sweep goes on", async () => {
  const runtime = await GpuRuntime.open();
  try {
    const cases = await group("mochi-163f-480x848");
    cases.methods.push(failingMethod);
    cases.recorded.push(true);
    const records = await runCases(runtime, [cases, await group("moc-single-shot")], settings);
    assert.deepEqual(records.map((r) => r.method), [
      "dense",
      "radial",
      "failing",
      "dense",
      "radial",
    ]);
    assert.equal(records[2].error, "Error: layout exploded");
    assert.equal(records[2].latency, null);
    assert.ok(records.filter((r) => r !== records[2]).every((r) => !r.error && r.latency));
  } finally {
    runtime.destroy();
  }
});

/** A static method of two branches, each full attention: their mean is dense attention. */
const twiceDense: Method = {
  name: "twice-dense",
  params: {},
  dynamic: false,
  layout: (scenario) => {
    const tokens = totalTokens(scenario);
    return {
      forms: [denseForm(tokens)],
      branches: [{ name: "again", forms: [denseForm(tokens)] }],
      routingFlops: 0,
    };
  },
};

Deno.test("a layout with branches runs every branch: FLOPs summed, output = their mean", async () => {
  const runtime = await GpuRuntime.open();
  try {
    const cases = await group("moc-single-shot");
    cases.methods = [cases.methods[0], twiceDense];
    const [dense, twice] = await runCases(runtime, [cases], { ...settings, quality: true });
    assert.equal(twice.error ?? null, null);
    assert.equal(twice.flops, 2 * dense.flops!);
    assert.equal(twice.tokenSparsity, 0);
    assert.notEqual(twice.layoutDigest, dense.layoutDigest);
    assert.ok(twice.quality!.relL2! < 1e-6, `relL2 ${twice.quality!.relL2}`);
    assert.ok(Math.abs(twice.quality!.recall! - 1) < 1e-5, `recall ${twice.quality!.recall}`);
  } finally {
    runtime.destroy();
  }
});

/** Dense attention run as two key halves merged by log-sum-exp; `halves: 1` runs the first only. */
function splitDense(halves: 1 | 2): Method {
  return {
    name: `split-dense-${halves}`,
    params: {},
    dynamic: false,
    layout: (scenario) => {
      const tokens = totalTokens(scenario);
      const half = Math.floor(tokens / 2);
      const keys = (start: number, end: number) =>
        new FormBuilder(tokens, 128).range(start, end).endTile(tokens).build();
      return {
        forms: [denseForm(tokens)],
        execution: {
          forms: [keys(0, half)],
          branches: halves === 2 ? [{ name: "second half", forms: [keys(half, tokens)] }] : [],
          merge: "lse",
        },
        routingFlops: 0,
      };
    },
  };
}

Deno.test("an execution runs instead of the forms: figures from the forms, same pairs or refused", async () => {
  const runtime = await GpuRuntime.open();
  try {
    const cases = await group("moc-single-shot");
    cases.methods = [cases.methods[0], splitDense(2), splitDense(1)];
    cases.recorded = [true, true, true];
    const [dense, split, short] = await runCases(runtime, [cases], { ...settings, quality: true });
    assert.equal(split.error ?? null, null);
    assert.equal(split.flops, dense.flops);
    assert.equal(split.tokenSparsity, 0);
    assert.notEqual(split.layoutDigest, dense.layoutDigest, "the digest is of what ran");
    assert.ok(split.quality!.relL2! < 1e-5, `relL2 ${split.quality!.relL2}`);
    assert.match(short.error ?? "", /an execution must attend the layout's pairs/);
    assert.equal(short.latency, null);
  } finally {
    runtime.destroy();
  }
});

import assert from "node:assert/strict";
import { GpuRuntime } from "../../gpu/runtime.ts";
import { uploadHeads } from "../../tests/gpu_heads.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import { Prng } from "../../scenarios/prng.ts";
import { lacksShaderF16, testNeeding } from "../../tests/needs.ts";
import { seededQkv, seededValues } from "../../tests/random_qkv.ts";
import { runRoutingOnce, timeRouting } from "../../kernels/routing_program.ts";
import { MOGA_STAGES, type MogaGpuRouter, MogaGpuRouting } from "../../kernels/moga_routing.ts";
import { kmeansSeedTokens, type MogaRouting, type RoutedRange } from "../../kernels/moga_groups.ts";
import { routerMemoryPlan } from "../../kernels/router_logits_wgsl.ts";
import { mogaRoutingReference } from "./moga_reference.ts";

const runtime = await GpuRuntime.open();
const D = 64;

async function gpuRouting(
  tensors: HeadTensors[],
  options: {
    routed: RoutedRange;
    router: MogaGpuRouter;
    precision: "f32" | "f16";
    workgroupLimit?: number;
  },
): Promise<MogaRouting[]> {
  const heads = uploadHeads(runtime, tensors, options.precision);
  const program = await MogaGpuRouting.create(runtime, {
    routed: options.routed,
    router: options.router,
    headDim: D,
    heads: tensors.map((_, h) => h),
    inputs: heads.inputs,
    workgroupLimit: options.workgroupLimit,
  });
  // Twice: every run must start from the inputs, not from the previous run's state.
  await runRoutingOnce(runtime, program);
  // Outputs poisoned first: an entry the kernels do not write would show.
  program.poisonOutputs();
  await runRoutingOnce(runtime, program);
  const routings = await program.read();
  program.release();
  heads.release();
  return routings;
}

function assertSameRouting(gpu: MogaRouting, cpu: MogaRouting, gateTolerance: number): void {
  assert.deepEqual(gpu.assignment, cpu.assignment, "assignment");
  assert.deepEqual(gpu.permutation, cpu.permutation, "permutation");
  assert.deepEqual(gpu.groupOffsets, cpu.groupOffsets, "group offsets");
  for (let i = 0; i < cpu.gate.length; i++) {
    assert.ok(Math.abs(gpu.gate[i] - cpu.gate[i]) <= gateTolerance, `gate ${i}`);
  }
}

/** Keys around `groups` well-separated centres: k-means assignments far from any boundary. */
function clusteredKeys(tokens: number, groups: number, seed: number): Float32Array {
  const centres = seededValues(groups * D, { seed, stream: 90, quantized: false });
  const prng = new Prng(seed, 0, 91);
  const keys = new Float32Array(tokens * D);
  for (let i = 0; i < tokens; i++) {
    const c = Math.floor(prng.uniform() * groups);
    for (let j = 0; j < D; j++) keys[i * D + j] = 4 * centres[c * D + j] + 0.3 * prng.normal();
  }
  return keys;
}

for (const precision of ["f32", "f16"] as const) {
  const missing = precision === "f16" ? lacksShaderF16(runtime.facts) : null;
  const name =
    `moga GPU router + sort = float64 reference, exact inputs, 3 sort blocks (${precision})`;
  testNeeding("shader-f16", missing, {
    name,
    fn: async () => {
      const tokens = 700;
      const source = seededQkv({ tokens, heads: 2, headDim: D }, { seed: 21, quantized: true });
      const groups = 5;
      const weights = seededValues(groups * D, { seed: 22, stream: 0, quantized: true });
      const routed = { start: 40, count: 620 };
      const gpu = await gpuRouting(source.tensors, {
        routed,
        router: { weights, groups },
        precision,
      });
      for (let h = 0; h < 2; h++) {
        const cpu = mogaRoutingReference(
          { keys: source.tensors[h].k, headDim: D, ...routed },
          { weights, groups },
        );
        assertSameRouting(gpu[h], cpu, 1e-6);
        assert.ok(new Set(cpu.assignment).size > 2, "several groups in use");
      }
    },
  });
}

Deno.test("moga GPU router breaks deliberate ties to the lower group; one group gates 1", async () => {
  const tokens = 300;
  const source = seededQkv({ tokens, heads: 1, headDim: D }, { seed: 23, quantized: true });
  const row = seededValues(D, { seed: 24, stream: 0, quantized: true });
  const other = seededValues(D, { seed: 25, stream: 0, quantized: true });
  // Groups 0 and 2 are the same row: group 2 can never win.
  const weights = Float32Array.from([...row, ...other, ...row]);
  const routed = { start: 0, count: tokens };
  const [gpu] = await gpuRouting(source.tensors, {
    routed,
    router: { weights, groups: 3 },
    precision: "f32",
  });
  const cpu = mogaRoutingReference(
    { keys: source.tensors[0].k, headDim: D, ...routed },
    { weights, groups: 3 },
  );
  assertSameRouting(gpu, cpu, 1e-6);
  assert.equal(cpu.groupOffsets[3] - cpu.groupOffsets[2], 0, "the duplicate group is empty");
  assert.ok(cpu.groupOffsets[1] > 0, "the first copy wins");
  const [single] = await gpuRouting(source.tensors, {
    routed,
    router: { weights: row, groups: 1 },
    precision: "f32",
  });
  assert.ok(single.gate.every((g) => g === 1));
  assert.deepEqual([...single.permutation], Array.from({ length: tokens }, (_, i) => i));
});

Deno.test("moga GPU k-means = float64 k-means on clustered keys (identical groups)", async () => {
  const tokens = 400;
  const groups = 6;
  const keys = clusteredKeys(tokens, groups, 31);
  const tensors = [{ q: keys, k: keys, v: keys }];
  const routed = { start: 0, count: tokens };
  const seeds = kmeansSeedTokens({ count: tokens, groups }, { seed: 7, head: 0 });
  const [gpu] = await gpuRouting(tensors, {
    routed,
    router: { seeds: [seeds], iters: 4 },
    precision: "f32",
  });
  const cpu = mogaRoutingReference({ keys, headDim: D, ...routed }, { seeds, iters: 4 });
  assertSameRouting(gpu, cpu, 1e-5);
});

Deno.test("moga GPU router and k-means with more groups than one staged chunk of router rows", async () => {
  // d = 64 stages 32 router rows at a time: 41 groups take two chunks, the second a short one.
  const tokens = 610;
  const groups = 41;
  const source = seededQkv({ tokens, heads: 1, headDim: D }, { seed: 51, quantized: true });
  const weights = seededValues(groups * D, { seed: 52, stream: 0, quantized: true });
  const routed = { start: 7, count: 590 };
  const [gpu] = await gpuRouting(source.tensors, {
    routed,
    router: { weights, groups },
    precision: "f32",
  });
  const cpu = mogaRoutingReference(
    { keys: source.tensors[0].k, headDim: D, ...routed },
    { weights, groups },
  );
  assertSameRouting(gpu, cpu, 1e-6);
  assert.ok(cpu.assignment.some((g) => g >= 32), "a group of the second chunk wins somewhere");
  const keys = clusteredKeys(tokens, groups, 53);
  const seeds = kmeansSeedTokens({ count: tokens, groups }, { seed: 5, head: 0 });
  const whole = { start: 0, count: tokens };
  const [kmeans] = await gpuRouting([{ q: keys, k: keys, v: keys }], {
    routed: whole,
    router: { seeds: [seeds], iters: 3 },
    precision: "f32",
  });
  assertSameRouting(
    kmeans,
    mogaRoutingReference({ keys, headDim: D, ...whole }, { seeds, iters: 3 }),
    1e-5,
  );
});

Deno.test("moga GPU router and k-means laid out for small devices (few staged rows, no bits)", async () => {
  const groups = 7;
  const plan = (variant: "route" | "accumulate", workgroupLimit: number) =>
    routerMemoryPlan({ variant, headDim: D, precision: "f32", groups, heads: 1, workgroupLimit });
  // 1,600 bytes: the router pass stages 2 rows at a time and counts ranks token by token.
  const small = plan("route", 1_600);
  assert.ok(!small.bits && small.chunk === 2, JSON.stringify(small));
  const tokens = 530;
  const source = seededQkv({ tokens, heads: 1, headDim: D }, { seed: 62, quantized: true });
  const weights = seededValues(groups * D, { seed: 63, stream: 0, quantized: true });
  const routed = { start: 11, count: 500 };
  const [routedGpu] = await gpuRouting(source.tensors, {
    routed,
    router: { weights, groups },
    precision: "f32",
    workgroupLimit: 1_600,
  });
  const cpu = mogaRoutingReference(
    { keys: source.tensors[0].k, headDim: D, ...routed },
    { weights, groups },
  );
  assertSameRouting(routedGpu, cpu, 1e-6);
  // 11,000 bytes: the k-means pass does the same.
  const kmeansPlan = plan("accumulate", 11_000);
  assert.ok(!kmeansPlan.bits && kmeansPlan.chunk < groups, JSON.stringify(kmeansPlan));
  const keys = clusteredKeys(tokens, groups, 61);
  const whole = { start: 0, count: tokens };
  const seeds = kmeansSeedTokens({ count: tokens, groups }, { seed: 9, head: 0 });
  const [kmeans] = await gpuRouting([{ q: keys, k: keys, v: keys }], {
    routed: whole,
    router: { seeds: [seeds], iters: 3 },
    precision: "f32",
    workgroupLimit: 11_000,
  });
  const reference = mogaRoutingReference({ keys, headDim: D, ...whole }, { seeds, iters: 3 });
  assertSameRouting(kmeans, reference, 1e-5);
});

Deno.test("moga GPU k-means agrees with float64 on Gaussian keys", async () => {
  const tokens = 300;
  const source = seededQkv({ tokens, heads: 1, headDim: D }, { seed: 41, quantized: false });
  const routed = { start: 0, count: tokens };
  const seeds = kmeansSeedTokens({ count: tokens, groups: 4 }, { seed: 3, head: 0 });
  const [gpu] = await gpuRouting(source.tensors, {
    routed,
    router: { seeds: [seeds], iters: 3 },
    precision: "f32",
  });
  const cpu = mogaRoutingReference(
    { keys: source.tensors[0].k, headDim: D, ...routed },
    { seeds, iters: 3 },
  );
  assertSameRouting(gpu, cpu, 1e-5);
});

Deno.test("moga GPU sort = stable CPU sort over more blocks than scan threads", async () => {
  const tokens = 256 * 300 + 17;
  const keys = seededValues(tokens * D, { seed: 61, stream: 0, quantized: true });
  const weights = seededValues(3 * D, { seed: 62, stream: 0, quantized: true });
  const routed = { start: 0, count: tokens };
  const [gpu] = await gpuRouting([{ q: keys, k: keys, v: keys }], {
    routed,
    router: { weights, groups: 3 },
    precision: "f32",
  });
  const cpu = mogaRoutingReference({ keys, headDim: D, ...routed }, { weights, groups: 3 });
  assertSameRouting(gpu, cpu, 1e-6);
});

Deno.test("moga GPU k-means over more heads than one dispatch binds (several batches)", async () => {
  const heads = runtime.device.limits.maxStorageBuffersPerShaderStage - 2;
  const tokens = 60;
  const groups = 3;
  const tensors = Array.from({ length: heads }, (_, h) => {
    const keys = clusteredKeys(tokens, groups, 100 + h);
    return { q: keys, k: keys, v: keys };
  });
  const routed = { start: 0, count: tokens };
  const seeds = tensors.map((_, head) =>
    kmeansSeedTokens({ count: tokens, groups }, { seed: 5, head })
  );
  const gpu = await gpuRouting(tensors, { routed, router: { seeds, iters: 2 }, precision: "f32" });
  assert.equal(gpu.length, heads);
  for (let h = 0; h < heads; h++) {
    const cpu = mogaRoutingReference(
      { keys: tensors[h].k, headDim: D, ...routed },
      { seeds: seeds[h], iters: 2 },
    );
    assertSameRouting(gpu[h], cpu, 1e-5);
  }
});

Deno.test("moga routing timing: whole-program samples and one median per stage", async () => {
  const tokens = 300;
  const source = seededQkv({ tokens, heads: 2, headDim: D }, { seed: 81, quantized: true });
  const heads = uploadHeads(runtime, source.tensors, "f32");
  const routed = { start: 0, count: tokens };
  const program = await MogaGpuRouting.create(runtime, {
    routed,
    router: {
      seeds: [0, 1].map((head) =>
        kmeansSeedTokens({ count: tokens, groups: 4 }, { seed: 1, head })
      ),
      iters: 2,
    },
    headDim: D,
    heads: [0, 1],
    inputs: heads.inputs,
  });
  const timing = await timeRouting(runtime, program, { warmup: 1, repeats: 3 });
  program.release();
  heads.release();
  assert.equal(timing?.samples.length, 3);
  if (!runtime.facts.timestampQuery) {
    assert.equal(timing?.stages, undefined, "no stages without timestamp queries");
    return;
  }
  assert.deepEqual(Object.keys(timing?.stages ?? {}).sort(), Object.values(MOGA_STAGES).sort());
  for (const ms of Object.values(timing!.stages!)) assert.ok(Number.isFinite(ms) && ms >= 0);
});

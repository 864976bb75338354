import assert from "node:assert/strict";
import { GpuRuntime } from "../../gpu/runtime.ts";
import { uploadHeads } from "../../tests/gpu_heads.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import { seededQkv } from "../../tests/random_qkv.ts";
import { runRoutingOnce } from "../../kernels/routing_program.ts";
import { Svg2GpuRouting } from "../../kernels/svg2_routing.ts";
import { routerMemoryPlan } from "../../kernels/router_logits_wgsl.ts";
import { kmeansSeedTokens, type RoutedRange } from "../../kernels/moga_groups.ts";
import type { Svg2Routing } from "../../kernels/svg2_clusters.ts";
import { svg2RoutingReference } from "./svg2_reference.ts";

const runtime = await GpuRuntime.open();
const D = 32;

type Rules = { iters: number; topP: number; minKept: number; qc: number; kc: number };

async function both(
  tensors: HeadTensors[],
  routed: RoutedRange,
  rules: Rules,
): Promise<{ gpu: Svg2Routing[]; cpu: Svg2Routing[] }> {
  const seeds = (clusters: number) =>
    tensors.map((_, head) =>
      kmeansSeedTokens({ count: routed.count, groups: clusters }, { seed: 3, head })
    );
  const querySeeds = seeds(rules.qc);
  const keySeeds = seeds(rules.kc);
  const heads = uploadHeads(runtime, tensors, "f32");
  const program = await Svg2GpuRouting.create(runtime, {
    routed,
    inputs: heads.inputs,
    heads: tensors.map((_, h) => h),
    headDim: D,
    querySeeds,
    keySeeds,
    ...rules,
  });
  try {
    // Twice: every run must start from the inputs, not from the previous run's state.
    await runRoutingOnce(runtime, program);
    // Outputs poisoned first: an entry the kernels do not write would show.
    program.poisonOutputs();
    await runRoutingOnce(runtime, program);
    const gpu = await program.read();
    const cpu = tensors.map((t, h) =>
      svg2RoutingReference(
        { queries: t.q, keys: t.k, headDim: D, ...routed },
        { querySeeds: querySeeds[h], keySeeds: keySeeds[h], ...rules },
      )
    );
    return { gpu, cpu };
  } finally {
    program.release();
    heads.release();
  }
}

Deno.test("svg2 GPU routing = float64 reference (clusters, sizes, kept pairs; L not a tile multiple)", async () => {
  const tokens = 301;
  const routed = { start: 0, count: 283 };
  const source = seededQkv({ tokens, heads: 2, headDim: D }, { seed: 9, quantized: true });
  const rules = { iters: 1, topP: 0.7, minKept: 2, qc: 7, kc: 13 };
  const { gpu, cpu } = await both(source.tensors, routed, rules);
  for (let h = 0; h < 2; h++) {
    assert.deepEqual(gpu[h].query.assignment, cpu[h].query.assignment, `head ${h} Q labels`);
    assert.deepEqual(gpu[h].key.assignment, cpu[h].key.assignment, `head ${h} K labels`);
    assert.deepEqual(gpu[h].query.sizes, cpu[h].query.sizes);
    assert.deepEqual(gpu[h].key.sizes, cpu[h].key.sizes);
    assert.deepEqual(gpu[h].kept, cpu[h].kept, `head ${h} kept pairs`);
  }
});

Deno.test("svg2 GPU routing over more heads than one dispatch binds (several batches)", async () => {
  const heads = runtime.device.limits.maxStorageBuffersPerShaderStage - 2;
  const routed = { start: 3, count: 61 };
  const source = seededQkv({ tokens: 67, heads, headDim: D }, { seed: 12, quantized: true });
  const rules = { iters: 2, topP: 0.8, minKept: 1, qc: 3, kc: 5 };
  const { gpu, cpu } = await both(source.tensors, routed, rules);
  assert.equal(gpu.length, heads);
  for (let h = 0; h < heads; h++) {
    assert.deepEqual(gpu[h].query.assignment, cpu[h].query.assignment, `head ${h} Q labels`);
    assert.deepEqual(gpu[h].key.assignment, cpu[h].key.assignment, `head ${h} K labels`);
    assert.deepEqual(gpu[h].kept, cpu[h].kept, `head ${h} kept pairs`);
  }
});

Deno.test("svg2 GPU k-means over several rounds agrees with float64 (routed range offset)", async () => {
  const tokens = 250;
  const routed = { start: 17, count: 221 };
  const source = seededQkv({ tokens, heads: 1, headDim: D }, { seed: 4, quantized: false });
  const { gpu, cpu } = await both(source.tensors, routed, {
    iters: 4,
    topP: 0.9,
    minKept: 0,
    qc: 5,
    kc: 9,
  });
  let same = 0;
  gpu[0].key.assignment.forEach((c, i) => same += c === cpu[0].key.assignment[i] ? 1 : 0);
  assert.ok(same >= 0.98 * routed.count, `${same} of ${routed.count} key labels agree`);
  let keptSame = 0;
  gpu[0].kept.forEach((bit, pair) => keptSame += bit === cpu[0].kept[pair] ? 1 : 0);
  assert.ok(keptSame >= 0.95 * gpu[0].kept.length, `${keptSame} kept bits agree`);
  assert.equal(gpu[0].key.sizes.reduce((a, b) => a + b, 0), routed.count);
});

Deno.test("svg2 GPU routing with more key clusters than membership bits fit = float64 reference", async () => {
  // The fewest key clusters whose bits do not fit this device: ranks counted token by token.
  const workgroupLimit = runtime.device.limits.maxComputeWorkgroupStorageSize;
  let kc = 64;
  const nearest = (groups: number) => ({
    variant: "nearest" as const,
    headDim: D,
    precision: "f32" as const,
    groups,
    heads: 1,
    workgroupLimit,
  });
  while (routerMemoryPlan(nearest(kc)).bits) kc++;
  const tokens = kc + 150;
  const routed = { start: 3, count: kc + 140 };
  const source = seededQkv({ tokens, heads: 1, headDim: D }, { seed: 17, quantized: true });
  const rules = { iters: 1, topP: 0.5, minKept: 2, qc: 5, kc };
  const { gpu, cpu } = await both(source.tensors, routed, rules);
  assert.deepEqual(gpu[0].key.assignment, cpu[0].key.assignment, "K labels");
  assert.deepEqual(gpu[0].key.sizes, cpu[0].key.sizes);
  assert.deepEqual(gpu[0].kept, cpu[0].kept, "kept pairs");
});

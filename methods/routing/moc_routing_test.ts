import assert from "node:assert/strict";
import { GpuRuntime } from "../../gpu/runtime.ts";
import { uploadHeads } from "../../tests/gpu_heads.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import { type Scenario, totalTokens } from "../../scenarios/scenario.ts";
import { lacksShaderF16, testNeeding } from "../../tests/needs.ts";
import { seededQkv } from "../../tests/random_qkv.ts";
import { runRoutingOnce } from "../../kernels/routing_program.ts";
import {
  type MocChunking,
  type MocChunks,
  mocChunks,
  type MocSelection,
  NO_CHUNK,
} from "../../kernels/moc_chunks.ts";
import { MocGpuRouting } from "../../kernels/moc_routing.ts";
import { mocDescriptorsReference, mocRoutingReference } from "./moc_reference.ts";

const runtime = await GpuRuntime.open();

/** Two shots of 3 frames, 4×4 tokens a frame (P = 16, a power of two: exact means), d = 64. */
const SCENARIO: Scenario = {
  name: "moc-gpu-test",
  latent: [6, 4, 4],
  text: { tokens: 8, position: "suffix" },
  shots: [3, 3],
  textSegments: [4, 4],
  heads: 2,
  headDim: 64,
  modelType: "hunyuan",
};

async function gpuSelections(
  chunks: MocChunks,
  tensors: HeadTensors[],
  options: { k: number; precision: "f32" | "f16" },
): Promise<MocSelection[]> {
  const heads = uploadHeads(runtime, tensors, options.precision);
  const program = await MocGpuRouting.create(runtime, {
    chunks,
    k: options.k,
    headDim: SCENARIO.headDim,
    heads: tensors.map((_, h) => h),
    inputs: heads.inputs,
  });
  await runRoutingOnce(runtime, program);
  const selections = await program.read();
  program.release();
  heads.release();
  return selections;
}

/**
 * Settings the kernels must agree on: frame chunks, causal (the default); 32-token chunks, which a
 * 48-token shot cuts into 32 + 16 (no multiple of the chunk; powers of two keep the means exact),
 * non-causal; whole shots, non-causal.
 */
const SETTINGS: Array<{ chunking: MocChunking; causal: boolean; intraShot: boolean }> = [
  { chunking: "frame", causal: true, intraShot: false },
  { chunking: "frame", causal: true, intraShot: true },
  { chunking: 32, causal: false, intraShot: false },
  { chunking: 32, causal: false, intraShot: true },
  { chunking: "shot", causal: false, intraShot: false },
];

for (const precision of ["f32", "f16"] as const) {
  for (const setting of SETTINGS) {
    for (const k of [2, 5]) {
      const missing = precision === "f16" ? lacksShaderF16(runtime.facts) : null;
      const name = `moc GPU routing = float64 reference, exact inputs (${precision}, chunk ` +
        `${setting.chunking}, causal ${setting.causal}, intraShot ${setting.intraShot}, k ${k})`;
      testNeeding("shader-f16", missing, {
        name,
        fn: async () => {
          const chunks = mocChunks(SCENARIO, setting);
          const source = seededQkv(
            { tokens: totalTokens(SCENARIO), heads: SCENARIO.heads, headDim: SCENARIO.headDim },
            { seed: 11 + k, quantized: true },
          );
          const gpu = await gpuSelections(chunks, source.tensors, { k, precision });
          for (let h = 0; h < SCENARIO.heads; h++) {
            const cpu = mocRoutingReference(source.tensors[h], {
              chunks,
              headDim: SCENARIO.headDim,
              k,
            });
            assert.deepEqual(gpu[h].chosen, cpu.chosen, `head ${h}`);
            assert.ok(cpu.chosen.some((c) => c !== NO_CHUNK), "some query routes somewhere");
          }
        },
      });
    }
  }
}

Deno.test("moc GPU routing breaks deliberate ties to the lower chunk, like the reference", async () => {
  const chunks = mocChunks(SCENARIO, { intraShot: false, causal: true, chunking: "frame" });
  const source = seededQkv(
    { tokens: totalTokens(SCENARIO), heads: 1, headDim: SCENARIO.headDim },
    { seed: 5, quantized: true },
  );
  const { k: keys } = source.tensors[0];
  const frame = 16 * SCENARIO.headDim;
  // Frames 1 and 3 copy frames 0 and 2: equal descriptors, so equal scores for every query.
  keys.copyWithin(frame, 0, frame);
  keys.copyWithin(3 * frame, 2 * frame, 3 * frame);
  const descriptors = mocDescriptorsReference(keys, { chunks, headDim: SCENARIO.headDim });
  assert.deepEqual(descriptors.subarray(0, 64), descriptors.subarray(64, 128));
  for (const k of [1, 3]) {
    const gpu = await gpuSelections(chunks, source.tensors, { k, precision: "f32" });
    const cpu = mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k });
    assert.deepEqual(gpu[0].chosen, cpu.chosen);
    // A query of frame 2 (candidates 0 and 1, tied) takes chunk 0 first.
    const query = 2 * 16;
    assert.equal(cpu.chosen[query * k], 0);
    if (k === 3) {
      assert.deepEqual([...cpu.chosen.subarray(query * k, query * k + 3)], [0, 1, NO_CHUNK]);
    }
  }
});

Deno.test("moc GPU routing agrees with float64 on Gaussian inputs up to near-ties", async () => {
  const scenario: Scenario = { ...SCENARIO, latent: [7, 3, 5], shots: [7], textSegments: [8] };
  // 105 video tokens in chunks of 20 (the last 5), non-causal: inexact means on both sides.
  const chunks = mocChunks(scenario, { intraShot: false, causal: false, chunking: 20 });
  const source = seededQkv(
    { tokens: totalTokens(scenario), heads: 1, headDim: scenario.headDim },
    { seed: 3, quantized: false },
  );
  const k = 2;
  const [gpu] = await gpuSelections(chunks, source.tensors, { k, precision: "f32" });
  const cpu = mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k });
  const descriptors = mocDescriptorsReference(source.tensors[0].k, { chunks, headDim: 64 });
  const score = (query: number, c: number) => {
    let s = 0;
    for (let j = 0; j < 64; j++) {
      s += source.tensors[0].q[(chunks.videoStart + query) * 64 + j] * descriptors[c * 64 + j];
    }
    return s;
  };
  let differing = 0;
  for (let i = 0; i < cpu.chosen.length; i++) {
    if (gpu.chosen[i] === cpu.chosen[i]) continue;
    differing++;
    const query = Math.floor(i / k);
    const gap = Math.abs(score(query, gpu.chosen[i]) - score(query, cpu.chosen[i]));
    assert.ok(
      gap < 1e-4,
      `query ${query}: chunks ${gpu.chosen[i]} vs ${cpu.chosen[i]}, gap ${gap}`,
    );
  }
  assert.ok(differing <= 2, `${differing} slots differ`);
});

Deno.test("moc GPU routing over more heads than one dispatch binds (several batches)", async () => {
  const heads = runtime.device.limits.maxStorageBuffersPerShaderStage - 2;
  const chunks = mocChunks(SCENARIO, { intraShot: false, causal: true, chunking: "frame" });
  const source = seededQkv(
    { tokens: totalTokens(SCENARIO), heads, headDim: SCENARIO.headDim },
    { seed: 17, quantized: true },
  );
  const gpu = await gpuSelections(chunks, source.tensors, { k: 2, precision: "f32" });
  assert.equal(gpu.length, heads);
  for (let h = 0; h < heads; h++) {
    const cpu = mocRoutingReference(source.tensors[h], { chunks, headDim: SCENARIO.headDim, k: 2 });
    assert.deepEqual(gpu[h].chosen, cpu.chosen, `head ${h}`);
  }
});

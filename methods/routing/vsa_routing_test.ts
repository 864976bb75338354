import assert from "node:assert/strict";
import { GpuRuntime } from "../../gpu/runtime.ts";
import { uploadHeads } from "../../tests/gpu_heads.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import { type Scenario, totalTokens } from "../../scenarios/scenario.ts";
import { lacksShaderF16, testNeeding } from "../../tests/needs.ts";
import { seededQkv } from "../../tests/random_qkv.ts";
import { runRoutingOnce } from "../../kernels/routing_program.ts";
import { VsaGpuRouting } from "../../kernels/vsa_routing.ts";
import { cubePooling, type CubeShape, vsaCubes } from "../vsa_cubes.ts";
import { topIndices, vsaReferenceSelection, type VsaSelection } from "./vsa_reference.ts";

const runtime = await GpuRuntime.open();
const CUBE: CubeShape = [4, 4, 4];

/**
 * 5×6×8 latent tokens in 4×4×4 cubes: T and H are no multiple of the cube, so the 8 cubes hold 64, 32,
 * 16 or 8 tokens (powers of two: with quantized inputs every mean and score is exact in f16, f32
 * and f64, so GPU and CPU must choose alike, ties included). Text after the video.
 */
const SCENARIO: Scenario = {
  name: "vsa-gpu-test",
  latent: [5, 6, 8],
  text: { tokens: 9, position: "suffix" },
  shots: [5],
  textSegments: [9],
  heads: 2,
  headDim: 64,
  modelType: "hunyuan",
};

async function gpuSelections(
  scenario: Scenario,
  tensors: HeadTensors[],
  options: { k: number; precision: "f32" | "f16"; threads?: number },
): Promise<VsaSelection[]> {
  const heads = uploadHeads(runtime, tensors, options.precision);
  const program = await VsaGpuRouting.create(runtime, {
    pooling: cubePooling(vsaCubes(scenario, CUBE)),
    k: options.k,
    headDim: scenario.headDim,
    heads: tensors.map((_, h) => h),
    inputs: heads.inputs,
    threads: options.threads,
  });
  program.poisonOutputs(); // an entry the kernel fails to write reads 0xffffffff, not cube 0
  await runRoutingOnce(runtime, program);
  const selections = await program.read();
  program.release();
  heads.release();
  return selections;
}

Deno.test("topIndices keeps the k highest, best first, ties to the lower index", () => {
  assert.deepEqual(topIndices([1, 3, 3, 0, 5], 3), [4, 1, 2]);
  assert.deepEqual(topIndices([2, 2, 2], 2), [0, 1]);
  assert.deepEqual(topIndices([0.5], 4), [0]);
});

// The device's thread count (8 here: one a sorted entry), and 2 threads: fewer than the sorted
// entries and the columns, so every strided loop of the selection kernel takes several turns.
for (const [precision, threads] of [["f32", undefined], ["f16", undefined], ["f32", 2]] as const) {
  for (const k of [1, 3, 8]) {
    const missing = precision === "f16" ? lacksShaderF16(runtime.facts) : null;
    const named = threads === undefined ? "" : `, ${threads} threads`;
    testNeeding("shader-f16", missing, {
      name: `vsa GPU routing = float64 reference, exact inputs (${precision}, k ${k}${named})`,
      fn: async () => {
        const cubes = vsaCubes(SCENARIO, CUBE);
        assert.equal(cubes.cubes, 8);
        const source = seededQkv(
          { tokens: totalTokens(SCENARIO), heads: SCENARIO.heads, headDim: SCENARIO.headDim },
          { seed: 21 + k, quantized: true },
        );
        const gpu = await gpuSelections(SCENARIO, source.tensors, { k, precision, threads });
        for (let h = 0; h < SCENARIO.heads; h++) {
          const cpu = vsaReferenceSelection(source.tensors[h], cubes, { topk: k, headDim: 64 });
          assert.equal(gpu[h].k, k);
          assert.deepEqual(gpu[h].chosen, cpu.chosen, `head ${h}`);
        }
      },
    });
  }
}

Deno.test("vsa GPU routing breaks deliberate ties to the lower cube, like the reference", async () => {
  const scenario: Scenario = { ...SCENARIO, latent: [8, 4, 4], heads: 1 };
  const cubes = vsaCubes(scenario, CUBE);
  const source = seededQkv(
    { tokens: totalTokens(scenario), heads: 1, headDim: 64 },
    { seed: 4, quantized: true },
  );
  // Latent frames 4..7 (cube 1) copy frames 0..3 (cube 0): equal key means, equal scores.
  const { k: keys } = source.tensors[0];
  keys.copyWithin(4 * 16 * 64, 0, 4 * 16 * 64);
  const [gpu] = await gpuSelections(scenario, source.tensors, { k: 1, precision: "f32" });
  const cpu = vsaReferenceSelection(source.tensors[0], cubes, { topk: 1, headDim: 64 });
  assert.deepEqual(cpu.chosen, Uint32Array.of(0, 0));
  assert.deepEqual(gpu.chosen, cpu.chosen);
});

Deno.test("vsa GPU routing agrees with float64 on Gaussian inputs up to near-ties", async () => {
  // 5×6×7: cubes of 64, 48, 32, 24, 16, 12 tokens, means inexact on both sides.
  const scenario: Scenario = { ...SCENARIO, latent: [5, 6, 7], heads: 1 };
  const cubes = vsaCubes(scenario, CUBE);
  const source = seededQkv(
    { tokens: totalTokens(scenario), heads: 1, headDim: 64 },
    { seed: 8, quantized: false },
  );
  const k = 3;
  const [gpu] = await gpuSelections(scenario, source.tensors, { k, precision: "f32" });
  const cpu = vsaReferenceSelection(source.tensors[0], cubes, { topk: k, headDim: 64 });
  let differing = 0;
  for (let i = 0; i < cpu.chosen.length; i++) if (gpu.chosen[i] !== cpu.chosen[i]) differing++;
  assert.ok(differing <= 2, `${differing} of ${cpu.chosen.length} slots differ`);
});

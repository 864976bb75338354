import assert from "node:assert/strict";
import { GpuRuntime } from "../../gpu/runtime.ts";
import { uploadHeads } from "../../tests/gpu_heads.ts";
import { lacksShaderF16, testNeeding } from "../../tests/needs.ts";
import { Prng } from "../../scenarios/prng.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import { runRoutingOnce } from "../../kernels/routing_program.ts";
import { SpargeGpuRouting } from "../../kernels/sparge_routing.ts";
import type { SpargeRoutingOptions } from "../../kernels/sparge_selection.ts";
import { spargeRoutingReference } from "./sparge_reference.ts";
import { spargeForm } from "../sparge_form.ts";
import { denseMask, tokenSparsity, validateForm } from "../../form/form.ts";
import { referenceAttention } from "../../kernels/reference.ts";
import { runFormOnce } from "../../tests/attention_fixtures.ts";

const runtime = await GpuRuntime.open();

/**
 * Q/K/V in runs of 13 tokens sharing a direction of varying strength plus noise (so blocks of
 * both kinds occur), rounded to multiples of 1/8 (exact in f16 storage).
 */
function clusteredHead(tokens: number, headDim: number, seed: number): HeadTensors {
  const prng = new Prng(seed, 0, 0);
  const make = () => {
    const x = new Float32Array(tokens * headDim);
    let direction = new Float64Array(headDim);
    let strength = 0;
    for (let t = 0; t < tokens; t++) {
      if (t % 13 === 0) {
        direction = Float64Array.from({ length: headDim }, () => prng.normal());
        strength = 2 * prng.uniform();
      }
      for (let c = 0; c < headDim; c++) {
        x[t * headDim + c] = Math.round((strength * direction[c] + prng.normal()) * 8) / 8;
      }
    }
    return x;
  };
  return { q: make(), k: make(), v: make() };
}

const TOKENS = 333; // 11 query blocks of 32 (the last 13), 21 key blocks of 16 (the last 13)
const HEAD_DIM = 64;
const SETTINGS: Array<Omit<SpargeRoutingOptions, "headDim" | "blockQ" | "blockK">> = [
  { simThreshold: 0.3, cdfThreshold: 0.9, smoothK: true },
  { simThreshold: 0.2, cdfThreshold: 0.6, smoothK: false },
  { simThreshold: 0.25, cdfThreshold: 0.98, smoothK: true },
];

for (const precision of ["f32", "f16"] as const) {
  for (const setting of SETTINGS) {
    const missing = precision === "f16" ? lacksShaderF16(runtime.facts) : null;
    testNeeding("shader-f16", missing, {
      name: `sparge GPU routing = float64 reference (${precision}, sim ${setting.simThreshold}, ` +
        `cdf ${setting.cdfThreshold}, smoothK ${setting.smoothK}, L = ${TOKENS})`,
      fn: async () => {
        const options = { ...setting, headDim: HEAD_DIM, blockQ: 32, blockK: 16 };
        const tensors = [clusteredHead(TOKENS, HEAD_DIM, 3), clusteredHead(TOKENS, HEAD_DIM, 4)];
        const heads = uploadHeads(runtime, tensors, precision);
        const program = await SpargeGpuRouting.create(runtime, {
          ...options,
          tokens: TOKENS,
          inputs: heads.inputs,
          heads: [0, 1],
        });
        try {
          await runRoutingOnce(runtime, program);
          const gpu = await program.read();
          const kinds = new Set<number>();
          tensors.forEach((head, h) => {
            const cpu = spargeRoutingReference(head, options);
            assert.deepEqual(gpu[h].queryBlockSimilar, cpu.queryBlockSimilar, `head ${h} Q`);
            assert.deepEqual(gpu[h].keyBlockSimilar, cpu.keyBlockSimilar, `head ${h} K`);
            assert.deepEqual(gpu[h].kept, cpu.kept, `head ${h} kept blocks`);
            cpu.kept.forEach((bit) => kinds.add(bit));
          });
          assert.deepEqual([...kinds].sort(), [0, 1], "kept and skipped block pairs occur");
        } finally {
          program.release();
          heads.release();
        }
      },
    });
  }
}

Deno.test("sparge end to end: GPU routing, form and kernel = float64 attention of the same mask", async () => {
  const options = {
    headDim: HEAD_DIM,
    blockQ: 32,
    blockK: 16,
    simThreshold: 0.1,
    cdfThreshold: 0.5,
    smoothK: true,
  };
  const head = clusteredHead(TOKENS, HEAD_DIM, 5);
  const heads = uploadHeads(runtime, [head], "f32");
  const program = await SpargeGpuRouting.create(runtime, {
    ...options,
    tokens: TOKENS,
    inputs: heads.inputs,
    heads: [0],
  });
  try {
    await runRoutingOnce(runtime, program);
    const [selection] = await program.read();
    const form = validateForm(spargeForm(selection, {
      tokens: TOKENS,
      blockQ: 32,
      blockK: 16,
      pvThreshold: 50,
    }));
    assert.ok(tokenSparsity(form) > 0.1, `sparsity ${tokenSparsity(form)}`);
    // With λ = 50 (base 2) no step of these scores (|s·log2(e)/√d| < 25) can be skipped.
    const { out } = await runFormOnce(runtime, form, head, { precision: "f32" });
    const ref = referenceAttention(head, {
      tokens: TOKENS,
      headDim: HEAD_DIM,
      mask: denseMask(form),
    });
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref.out[i]));
    assert.ok(worst < 2e-5, `max |O − O_ref| = ${worst}`);
  } finally {
    program.release();
    heads.release();
  }
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { vsa, vsaAnalyticHeadFlops, vsaRoutingFlops, vsaTopkGrid } from "./vsa.ts";
import { MethodSpecError } from "./method.ts";
import {
  attendedPairs,
  denseMask,
  type ExecutionForm,
  tiledPairs,
  tokenSparsity,
  validateForm,
} from "../form/form.ts";
import { poolRows, validatePooling } from "../form/pooling.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";
import { BranchedAttention } from "../kernels/branched_attention.ts";
import { referenceAttention } from "../kernels/reference.ts";
import { parseTiling } from "../kernels/attention_tiling.ts";
import { fitTilingToForms, kernelEfficiency } from "../kernels/row_block.ts";
import { uploadHeads } from "../tests/gpu_heads.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import type { HeadTensors } from "../scenarios/inputs.ts";
import {
  type Scenario,
  type TextPosition,
  totalTokens,
  videoStart,
} from "../scenarios/scenario.ts";
import { preset } from "../scenarios/presets.ts";

/** A small scenario: T, H, W no multiple of the 4×4×4 cube (partial cubes on every axis). */
function scenarioOf(
  latent: [number, number, number],
  text: { tokens: number; position: TextPosition },
): Scenario {
  return {
    name: "vsa-test",
    latent,
    text,
    shots: [latent[0]],
    textSegments: [text.tokens],
    heads: 2,
    headDim: 8,
    modelType: "hunyuan",
  };
}

/**
 * VSA's fine mask from its definition, written out directly: each video token's cube from its
 * (t, h, w); cube means of Q and K over the cube's tokens; per query cube the `topk` key cubes of
 * highest mean score (ties to the lower cube); a video query attends every key of those cubes and
 * all text; a text query attends everything.
 */
function independentMask(scenario: Scenario, tensors: HeadTensors, topk: number): Uint8Array {
  const [T, H, W] = scenario.latent;
  const [nt, nh, nw] = [Math.ceil(T / 4), Math.ceil(H / 4), Math.ceil(W / 4)];
  const C = nt * nh * nw;
  const d = scenario.headDim;
  const L = totalTokens(scenario);
  const v0 = videoStart(scenario);
  const cubeOf = (token: number) => {
    const v = token - v0;
    if (v < 0 || v >= T * H * W) return -1;
    const t = Math.floor(v / (H * W));
    const h = Math.floor(v / W) % H;
    const w = v % W;
    return (Math.floor(t / 4) * nh + Math.floor(h / 4)) * nw + Math.floor(w / 4);
  };
  const qMean = new Float64Array(C * d);
  const kMean = new Float64Array(C * d);
  const count = new Float64Array(C);
  for (let token = 0; token < L; token++) {
    const c = cubeOf(token);
    if (c < 0) continue;
    count[c]++;
    for (let j = 0; j < d; j++) {
      qMean[c * d + j] += tensors.q[token * d + j];
      kMean[c * d + j] += tensors.k[token * d + j];
    }
  }
  const chosen: Set<number>[] = [];
  for (let a = 0; a < C; a++) {
    const score = (b: number) => {
      let s = 0;
      for (let j = 0; j < d; j++) {
        s += (qMean[a * d + j] / count[a]) * (kMean[b * d + j] / count[b]);
      }
      return s;
    };
    const order = Array.from({ length: C }, (_, b) => b)
      .sort((x, y) => score(y) - score(x) || x - y);
    chosen.push(new Set(order.slice(0, Math.min(topk, C))));
  }
  const mask = new Uint8Array(L * L);
  for (let q = 0; q < L; q++) {
    for (let k = 0; k < L; k++) {
      const [cq, ck] = [cubeOf(q), cubeOf(k)];
      mask[q * L + k] = cq < 0 || ck < 0 || chosen[cq].has(ck) ? 1 : 0;
    }
  }
  return mask;
}

async function layoutOf(
  scenario: Scenario,
  tensors: HeadTensors[],
  params: Record<string, number>,
) {
  const source = {
    description: "test",
    tokens: totalTokens(scenario),
    heads: tensors.length,
    headDim: scenario.headDim,
    head: (h: number) => Promise.resolve(tensors[h]),
  };
  return await vsa.create(params).layout(scenario, { inputs: source });
}

const CASES: Array<{ latent: [number, number, number]; text: number; position: TextPosition }> = [
  { latent: [5, 6, 7], text: 5, position: "suffix" },
  { latent: [6, 5, 9], text: 4, position: "prefix" },
  { latent: [3, 9, 5], text: 0, position: "none" },
];

for (const { latent, text, position } of CASES) {
  Deno.test(`vsa fine layout = its definition written out (${latent.join("x")}, text ${position})`, async () => {
    const scenario = scenarioOf(latent, { tokens: text, position });
    const { tensors } = seededQkv(
      { tokens: totalTokens(scenario), heads: 2, headDim: 8 },
      { seed: 7, quantized: false },
    );
    for (const topk of [1, 3, 100]) {
      const layout = await layoutOf(scenario, tensors, { topk });
      for (let h = 0; h < 2; h++) {
        validateForm(layout.forms[h]);
        assert.deepEqual(
          denseMask(layout.forms[h]),
          independentMask(scenario, tensors[h], topk),
          `topk ${topk}, head ${h}`,
        );
      }
      const coarse = layout.branches![0];
      assert.equal(layout.merge, "gated-sum");
      const cubes = latent.reduce((n, axis) => n * Math.ceil(axis / 4), 1);
      assert.equal(coarse.forms[0].tokens, cubes);
      validatePooling(coarse.pooling!, totalTokens(scenario));
    }
  });
}

Deno.test("vsa properties: every query attends, no key twice, sparsity falls as topk grows", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 1, max: 1000 }),
      async ([t, h], w, text, seed) => {
        const scenario = {
          ...scenarioOf([t, h, w], { tokens: text, position: "suffix" }),
          heads: 1,
        };
        const { tensors } = seededQkv(
          { tokens: totalTokens(scenario), heads: 1, headDim: 8 },
          { seed, quantized: false },
        );
        let previous = Infinity;
        for (const topk of [1, 2, 4, 8]) {
          const form = (await layoutOf(scenario, tensors, { topk })).forms[0];
          validateForm(form); // ranges of a tile never overlap: no key twice
          const mask = denseMask(form);
          const L = form.tokens;
          for (let q = 0; q < L; q++) {
            assert.ok(mask.subarray(q * L, (q + 1) * L).some((b) => b === 1), `query ${q}`);
          }
          const sparsity = tokenSparsity(form);
          assert.ok(sparsity <= previous + 1e-12, `topk ${topk}: ${sparsity} > ${previous}`);
          previous = sparsity;
        }
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("vsa FLOPs by hand: 8×4×4 video, 3 text tokens, topk 1, d 8", async () => {
  // Two cubes of 64 tokens. Fine branch, each video query: 64 keys of its one cube + 3 text;
  // text queries: all 131 keys. Coarse branch: 2 × 2 cube means.
  const scenario = { ...scenarioOf([8, 4, 4], { tokens: 3, position: "suffix" }), heads: 1 };
  const { tensors } = seededQkv({ tokens: 131, heads: 1, headDim: 8 }, {
    seed: 2,
    quantized: true,
  });
  const layout = await layoutOf(scenario, tensors, { topk: 1 });
  assert.equal(attendedPairs(layout.forms[0]), 128 * 67 + 3 * 131);
  assert.equal(attendedPairs(layout.branches![0].forms[0]), 4);
  // Routing: means of Q and K (2·(128 + 2)·8) and 4 scores of 2·8 plus ⌈log₂2⌉ = 1 compare each.
  assert.equal(vsaRoutingFlops(scenario, [4, 4, 4]), 2 * 130 * 8 + 4 * (16 + 1));
  assert.equal(layout.routingFlops, 2 * 130 * 8 + 4 * 17);
  // Paper's count: 4·d·(N·k·64 + C² + N·text + text·L).
  assert.equal(
    vsaAnalyticHeadFlops(scenario, [4, 4, 4], 1),
    4 * 8 * (128 * 64 + 4 + 128 * 3 + 3 * 131),
  );
});

Deno.test("vsa topk: auto keeps ⌈0.2·C⌉ cubes; the knob grid runs densest first", async () => {
  const scenario = scenarioOf([5, 6, 7], { tokens: 5, position: "suffix" });
  const { tensors } = seededQkv({ tokens: 215, heads: 2, headDim: 8 }, {
    seed: 1,
    quantized: true,
  });
  const layout = await layoutOf(scenario, tensors, {});
  assert.equal(layout.params?.topk, 2, "8 cubes: ⌈1.6⌉ = 2");
  const hunyuan = preset("hunyuan-117f-768x1280", "full");
  const grid = vsaTopkGrid(hunyuan);
  assert.deepEqual(grid, [1920, 960, 384, 192, 32, 16, 8, 4, 2, 1]);
  assert.throws(() => vsa.create({ topk: 0 }), MethodSpecError);
  assert.throws(() => vsa.create({ topk: "most" }), /"topk" must be auto or an integer/);
  assert.throws(() => vsa.create({ gate: -1 }), /"gate" must be a number ≥ 0/);
  assert.throws(() => vsa.create({ cube: [4, 4] }), /"cube" must be three integers/);
});

Deno.test("vsa on the GPU: fine + gate × coarse = float64 reference of the same layout", async () => {
  const runtime = await GpuRuntime.open();
  for (const position of ["suffix", "prefix"] as const) {
    const scenario = { ...scenarioOf([5, 6, 7], { tokens: 5, position }), headDim: 16 };
    const L = totalTokens(scenario);
    const d = scenario.headDim;
    const { tensors } = seededQkv({ tokens: L, heads: 2, headDim: d }, {
      seed: 9,
      quantized: false,
    });
    const layout = await layoutOf(scenario, tensors, { topk: 3, gate: 0.5 });
    const heads = uploadHeads(runtime, tensors, "f32");
    const program = await BranchedAttention.create(
      runtime,
      [
        { forms: layout.forms, weight: 1 },
        ...layout.branches!.map((b) => ({ forms: b.forms, weight: b.gate!, pooling: b.pooling })),
      ],
      heads.inputs,
      {
        lse: "first",
      },
    );
    program.poisonOutputs();
    submitComputePass(runtime, (pass) => program.encode(pass));
    const pooling = layout.branches![0].pooling!;
    for (let h = 0; h < 2; h++) {
      const out = new Float32Array(await runtime.read(program.outputs.out[h]));
      const lse = new Float32Array(await runtime.read(program.outputs.lse[h]));
      const fine = referenceAttention(tensors[h], {
        tokens: L,
        headDim: d,
        mask: denseMask(layout.forms[h] as ExecutionForm),
      });
      const C = pooling.offsets.length - 1;
      const coarse = referenceAttention({
        q: poolRows(tensors[h].q, pooling, d),
        k: poolRows(tensors[h].k, pooling, d),
        v: poolRows(tensors[h].v, pooling, d),
      }, { tokens: C, headDim: d });
      const expected = Float64Array.from(fine.out);
      for (let c = 0; c < C; c++) {
        for (let m = pooling.offsets[c]; m < pooling.offsets[c + 1]; m++) {
          const token = pooling.members[m];
          for (let j = 0; j < d; j++) expected[token * d + j] += 0.5 * coarse.out[c * d + j];
        }
      }
      let err = 0;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - expected[i]));
      let lseErr = 0;
      for (let i = 0; i < L; i++) lseErr = Math.max(lseErr, Math.abs(lse[i] - fine.lse[i]));
      assert.ok(err < 2e-5, `${position}, head ${h}: max output error ${err}`);
      assert.ok(lseErr < 1e-4, `${position}, head ${h}: max LSE error ${lseErr}`);
    }
    program.release();
    heads.release();
  }
  runtime.destroy();
});

Deno.test("vsa kernel rows: a cube's queries fill the kernel's row block at a non-multiple size", async () => {
  // 10×12×14: partial cubes on every axis, 13 text tokens (a short text tile).
  const scenario = scenarioOf([10, 12, 14], { tokens: 13, position: "suffix" });
  const { tensors } = seededQkv({ tokens: totalTokens(scenario), heads: 2, headDim: 8 }, {
    seed: 4,
    quantized: false,
  });
  const fine = (await layoutOf(scenario, tensors, { topk: 5 })).forms[0];
  assert.equal(fine.queryBlock, 64, "the fine form states the cube's volume as its query block");
  const limits = { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024 };
  const kernel = { headDim: 128, math: "f32" as const, limits };
  const rows = fitTilingToForms(parseTiling("rows128x16.r1s2"), [fine], kernel).blockQ;
  assert.equal(64 % rows, 0, `row block ${rows} must divide the cube's 64 queries`);
  // Executed = attended within the cube structure: only short tiles (partial cubes, text) pad.
  let padded = 0;
  let wholeCubes = 0;
  for (let t = 0; t + 1 < fine.tileBounds.length; t++) {
    const tileRows = fine.tileBounds[t + 1] - fine.tileBounds[t];
    let keys = 0;
    for (let r = fine.rangeOffsets[t]; r < fine.rangeOffsets[t + 1]; r++) {
      keys += fine.rangeEnds[r] - fine.rangeStarts[r];
    }
    if (tileRows === 64) wholeCubes++;
    else padded += (Math.ceil(tileRows / rows) * rows - tileRows) * keys;
  }
  assert.ok(wholeCubes > 0);
  assert.equal(tiledPairs(fine, rows), attendedPairs(fine) + padded);
  assert.ok(kernelEfficiency([{ forms: [fine], rowBlock: rows }], 1) >= 0.9);
  assert.ok(kernelEfficiency([{ forms: [fine], rowBlock: 128 }], 1) < 0.6);
});

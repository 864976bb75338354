import assert from "node:assert/strict";
import fc from "fast-check";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadQkv } from "../gpu/upload_qkv.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import { referenceAttention } from "../kernels/reference.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import { attendedPairs, denseMask, tokenSparsity, validateForm } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { svg2, svg2ClusterCount, svg2RoutingFlops } from "./svg2.ts";
import { svg2Form } from "./svg2_form.ts";
import { svg2RoutingReference } from "./routing/svg2_reference.ts";
import { kmeansSeedTokens } from "../kernels/moga_groups.ts";
import { seededQkv } from "../tests/random_qkv.ts";

const D = 16;

function scenarioOf(latent: [number, number, number], text: number): Scenario {
  return {
    name: "svg2-test",
    latent,
    text: { tokens: text, position: text > 0 ? "suffix" : "none" },
    shots: [latent[0]],
    textSegments: [text],
    heads: 2,
    headDim: D,
    modelType: "hunyuan",
  };
}

/** One head routed in float64 with seeds of (seed 1, head 0). */
function routeOne(
  scenario: Scenario,
  rules: { qc: number; kc: number; topP: number; minKept: number; iters: number; seed: number },
) {
  const L = totalTokens(scenario);
  const N = L - scenario.text.tokens;
  const { tensors } = seededQkv({ tokens: L, heads: 1, headDim: D }, {
    seed: rules.seed,
    quantized: false,
  });
  const seeds = (groups: number) => kmeansSeedTokens({ count: N, groups }, { seed: 1, head: 0 });
  const routed = { start: 0, count: N };
  const routing = svg2RoutingReference(
    { queries: tensors[0].q, keys: tensors[0].k, headDim: D, ...routed },
    { querySeeds: seeds(rules.qc), keySeeds: seeds(rules.kc), ...rules },
  );
  return { routing, routed, tensors: tensors[0], L, N };
}

Deno.test("svg2 layout = its definition, mask built from first principles", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e6 }),
      fc.constantFrom(0, 5),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      (seed, text, topP) => {
        const scenario = scenarioOf([3, 3, 5], text);
        const rules = { qc: 4, kc: 6, topP, minKept: 1, iters: 3, seed };
        const { routing, routed, tensors, L, N } = routeOne(scenario, rules);
        const form = validateForm(svg2Form(scenario, { routing, routed, blockSize: 8 }));
        // Definition, straight from the tensors: final clusters' means, masses, top-p rule.
        const qa = routing.query.assignment;
        const ka = routing.key.assignment;
        const mean = (rows: Float32Array, labels: Uint32Array, c: number) => {
          const sum = new Float64Array(D);
          let n = 0;
          labels.forEach((l, t) => {
            if (l !== c) return;
            n++;
            for (let x = 0; x < D; x++) sum[x] += rows[t * D + x];
          });
          return { centroid: sum.map((s) => s / n), n };
        };
        const keyClusters = Array.from({ length: 6 }, (_, c) => mean(tensors.k, ka, c));
        const keep = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const q = mean(tensors.q, qa, i);
          if (q.n === 0) continue;
          const weights = keyClusters.map(({ centroid, n }) => {
            const dot = centroid.reduce((s, v, x) => s + v * q.centroid[x], 0);
            return n === 0 ? 0 : n * Math.exp(dot / Math.sqrt(D));
          });
          const total = weights.reduce((a, b) => a + b, 0);
          const order = weights.map((w, j) => [w / total, j]).sort((a, b) =>
            b[0] - a[0] || a[1] - b[1]
          );
          let before = 0;
          order.forEach(([m, j], rank) => {
            if (rank === 0 || before <= topP || rank < 1) keep.add(`${i},${j}`);
            before += m;
          });
        }
        const expected = new Uint8Array(L * L);
        for (let t = 0; t < L; t++) {
          for (let u = 0; u < L; u++) {
            const text = t >= N || u >= N;
            expected[t * L + u] = text || keep.has(`${qa[t]},${ka[u]}`) ? 1 : 0;
          }
        }
        assert.deepEqual(denseMask(form), expected);
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("svg2 properties: every query attends a key, no key twice, sparsity falls as topP rises", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), (seed) => {
      const scenario = scenarioOf([2, 4, 5], 3);
      let previous = -1;
      for (const topP of [0.2, 0.5, 0.8, 1]) {
        const { routing, routed, L } = routeOne(scenario, {
          qc: 5,
          kc: 7,
          topP,
          minKept: 0,
          iters: 2,
          seed,
        });
        const form = validateForm(svg2Form(scenario, { routing, routed, blockSize: 8 }));
        const mask = denseMask(form);
        for (let t = 0; t < L; t++) assert.ok(mask.subarray(t * L, (t + 1) * L).some((b) => b));
        // denseMask merges duplicates; attendedPairs does not: equal means no key twice.
        assert.equal(attendedPairs(form), mask.reduce((a, b) => a + b, 0));
        assert.ok(attendedPairs(form) >= previous, `topP ${topP}`);
        previous = attendedPairs(form);
      }
    }),
    { numRuns: 15 },
  );
});

Deno.test("svg2 routing FLOPs: hand count on a tiny case", () => {
  // R = 10, C_q = 2, C_k = 3, d = 4, 1 round:
  // round(C) = 2·4·10·C + 2·10·C + 2·4·C + 10·4 + C·4 → C=2: 160+40+16+40+8 = 264; C=3: 240+60+24+40+12 = 376
  // masses 2·3·(2·4 + 7) = 90.
  assert.equal(
    svg2RoutingFlops({ routed: 10, queryClusters: 2, keyClusters: 3, headDim: 4, iters: 1 }),
    264 + 376 + 90,
  );
});

Deno.test("svg2 parameters: clear errors, auto cluster counts", () => {
  assert.throws(() => svg2.create({ topP: 0 }), MethodSpecError);
  assert.throws(() => svg2.create({ topP: 1.5 }), /topP" must be a number in \(0, 1\]/);
  assert.throws(() => svg2.create({ qClusters: 0 }), /qClusters" must be an integer/);
  assert.throws(() => svg2.create({ iters: 0 }), /iters" must be an integer 1\.\.100/);
  assert.equal(svg2ClusterCount("auto", 400, 115_200), 400);
  assert.equal(svg2ClusterCount("auto", 1000, 1536), 14);
  assert.equal(svg2ClusterCount(50, 400, 30), 30);
});

Deno.test("svg2 end to end on the GPU: GPU routing agrees with float64; kernel = float64 reference", async () => {
  const runtime = await GpuRuntime.open();
  const scenario = { ...scenarioOf([3, 5, 7], 9), headDim: 32 };
  const L = totalTokens(scenario);
  const inputs = seededQkv({ tokens: L, heads: 2, headDim: 32 }, { seed: 6, quantized: true });
  const gpuInputs = await uploadQkv(runtime, inputs, "f32");
  const method = svg2.create({ qClusters: 4, kClusters: 9, iters: 1, topP: 0.6 });
  const layout = await method.layout(scenario, { gpu: runtime, gpuInputs, routingRepeats: 1 });
  assert.equal(layout.stats?.routedOn, "gpu");
  assert.equal(layout.routing?.samples.length, 1);
  const cpu = await method.layout(scenario, { inputs });
  const program = await AttentionProgram.create(runtime, layout.forms, gpuInputs);
  try {
    submitComputePass(runtime, (pass) => program.encode(pass));
    for (let h = 0; h < 2; h++) {
      assert.deepEqual(layout.forms[h].keyPermutation, cpu.forms[h].keyPermutation);
      assert.ok(tokenSparsity(layout.forms[h]) > 0);
      const out = new Float32Array(await runtime.read(program.outputs.out[h]));
      const ref = referenceAttention(inputs.tensors[h], {
        tokens: L,
        headDim: 32,
        mask: denseMask(layout.forms[h]),
      });
      let err = 0;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
      assert.ok(err < 2e-5, `head ${h}: max error ${err}`);
    }
  } finally {
    program.release();
    runtime.release([...gpuInputs.q, ...gpuInputs.k, ...gpuInputs.v]);
  }
});

import assert from "node:assert/strict";
import { submitComputePass } from "../gpu/compute_pass.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadQkv } from "../gpu/upload_qkv.ts";
import { BranchedAttention } from "../kernels/branched_attention.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { type Scenario, totalTokens, videoStart, videoTokens } from "../scenarios/scenario.ts";
import { denseMask } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { frameForm, spatialTemporalForm } from "./moga_branches.ts";
import { mogaForm } from "./moga_form.ts";
import { mogaPaper } from "./moga_paper.ts";
import { mogaPaperMasks, mogaPaperReference } from "./moga_paper_reference.ts";
import { routeHiddenStates, seededRouterWeights } from "./routing/content_router.ts";

/** A small scenario whose sizes are no tile multiple: 3 shots of a 5×3×5 latent video. */
function scenarioOf(
  text: { tokens: number; position: "suffix" | "prefix" | "none" },
  modelType: "wan" | "hunyuan" = "hunyuan",
): Scenario {
  return {
    name: "moga-paper-test",
    latent: [5, 3, 5],
    text,
    shots: [2, 1, 2],
    textSegments: text.tokens > 0 ? [2, 2, text.tokens - 4] : [],
    heads: 2,
    headDim: 64,
    modelType,
  };
}

Deno.test("moga router: argmax of W·x with ties to the lower group, gate = softmax, computed here", () => {
  // Four tokens of two dims; W = [[1, 0], [0, 1], [1, 1]]: logits are (x0, x1, x0 + x1).
  const x = Float32Array.from([2, 0, 0, 3, 1, 1, -1, -1]);
  const weights = [1, 0, 0, 1, 1, 1];
  const routing = routeHiddenStates({ dims: 2, x }, {
    routed: { start: 0, count: 4 },
    router: { weights, groups: 3 },
  });
  // Token 0: logits (2, 0, 2), tie → group 0. Token 1: (0, 3, 3) → 1. Token 2: (1, 1, 2) → 2.
  // Token 3: (−1, −1, −2) → 0.
  assert.deepEqual([...routing.assignment], [0, 1, 2, 0]);
  const gates = [
    1 / (1 + Math.exp(-2) + 1),
    1 / (Math.exp(-3) + 1 + 1),
    1 / (Math.exp(-1) + Math.exp(-1) + 1),
    1 / (1 + 1 + Math.exp(-1)),
  ];
  gates.forEach((g, i) => assert.ok(Math.abs(routing.gate[i] - g) < 1e-6, `gate ${i}`));
  assert.deepEqual([...routing.permutation], [0, 3, 1, 2]);
  assert.throws(
    () =>
      routeHiddenStates({ dims: 2, x }, {
        routed: { start: 0, count: 4 },
        router: { weights, groups: 2 },
      }),
    /router holds 6 weights, not groups × dims = 4/,
  );
});

Deno.test("moga forms attend exactly the paper's masks (prefix, suffix, none; text joint or outside)", async () => {
  for (const position of ["prefix", "suffix", "none"] as const) {
    for (const textKeys of [true, false]) {
      const scenario = scenarioOf({ tokens: position === "none" ? 0 : 7, position });
      const hidden = await syntheticInputs(scenario, { seed: 3 }).hidden!();
      const routed = { start: videoStart(scenario), count: videoTokens(scenario) };
      const weights = Float64Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i * 7.1));
      const routing = routeHiddenStates(hidden, { routed, router: { weights, groups: 4 } });
      const settings = { routing, textKeys, partitions: [2, 3] as [number, number], adjacent: 1 };
      const masks = mogaPaperMasks(scenario, { ...settings, gate: true });
      const options = { textKeys, blockSize: 16 };
      const forms = [
        mogaForm(scenario, { routing, routed, window: null, ...options }),
        spatialTemporalForm(scenario, { ...options, ...settings }),
        frameForm(scenario, options),
      ];
      forms.forEach((form, b) =>
        assert.deepEqual(denseMask(form), masks[b], `${position}, text ${textKeys}, branch ${b}`)
      );
    }
  }
});

Deno.test("moga spatial-temporal branch: a shot reaches `adjacent` frames of its neighbours", () => {
  // Shots of 2, 1 and 2 frames of 15 tokens; one spatial partition. The query is cell (0, 0)
  // of frame 2, the one-frame middle shot.
  const scenario = scenarioOf({ tokens: 0, position: "none" });
  const form = spatialTemporalForm(scenario, {
    textKeys: false,
    blockSize: 16,
    partitions: [1, 1],
    adjacent: 1,
  });
  const mask = denseMask(form);
  const query = 2 * 15;
  const frames = new Set<number>();
  for (let key = 0; key < 75; key++) if (mask[query * 75 + key]) frames.add(Math.floor(key / 15));
  assert.deepEqual([...frames], [1, 2, 3]);
  const wide = denseMask(spatialTemporalForm(scenario, {
    textKeys: false,
    blockSize: 16,
    partitions: [1, 1],
    adjacent: 0,
  }));
  const only = new Set<number>();
  for (let key = 0; key < 75; key++) if (wide[query * 75 + key]) only.add(Math.floor(key / 15));
  assert.deepEqual([...only], [2]);
});

Deno.test("moga defaults follow the model type; bad parameters and missing x are clear errors", async () => {
  for (const [modelType, groups, text] of [["wan", 5, "outside"], ["hunyuan", 20, "joint"]]) {
    const scenario = scenarioOf({ tokens: 7, position: "suffix" }, modelType as "wan");
    const inputs = syntheticInputs(scenario, { seed: 1 });
    const layout = await mogaPaper.create({}).layout(scenario, { inputs });
    assert.equal(layout.params?.groups, groups);
    assert.equal(layout.params?.text, text);
    assert.equal(layout.branches?.length, 2);
    assert.ok(layout.notes?.some((n) => n.includes("untrained")));
  }
  assert.throws(() => mogaPaper.create({ groups: 0 }), /"groups" must be auto or an integer/);
  assert.throws(() => mogaPaper.create({ text: "inside" }), /"text" must be auto, joint or/);
  assert.throws(() => mogaPaper.create({ partitions: [2] }), /"partitions" must be RxC/);
  assert.throws(() => mogaPaper.create({ router: "keys" }), /"router" must be kmeans, random or/);
  assert.throws(() => mogaPaper.create({ iters: -1 }), /"iters" must be an integer 0..100/);
  const scenario = scenarioOf({ tokens: 7, position: "suffix" });
  const source = syntheticInputs(scenario, { seed: 1 });
  const noHidden = { ...source, hidden: undefined };
  await assert.rejects(
    () => Promise.resolve(mogaPaper.create({}).layout(scenario, { inputs: noHidden })),
    (e: Error) => e instanceof MethodSpecError && /hidden states x/.test(e.message),
  );
});

Deno.test("moga on the GPU: routing = float64 routing; three branches averaged = float64 reference", async () => {
  const runtime = await GpuRuntime.open();
  const scenario = scenarioOf({ tokens: 7, position: "suffix" });
  const L = totalTokens(scenario);
  const inputs = syntheticInputs(scenario, { seed: 5 });
  const gpuInputs = await uploadQkv(runtime, inputs, "f32");
  const hidden = await inputs.hidden!();
  for (const router of ["random", "kmeans"]) {
    const method = mogaPaper.create({ groups: 3, router });
    const onGpu = await method.layout(scenario, {
      inputs,
      gpu: runtime,
      gpuInputs,
      seed: 2,
      routingRepeats: 1,
    });
    const onCpu = await method.layout(scenario, { inputs, seed: 2 });
    assert.equal(onGpu.stats?.routedOn, "gpu");
    assert.equal(onGpu.routing?.samples.length, 1);
    assert.deepEqual(onGpu.forms[0].permutation, onCpu.forms[0].permutation, router);
    assert.deepEqual(onGpu.forms[0].tileBounds, onCpu.forms[0].tileBounds, router);
    const gateError = onGpu.forms[0].outputScale!.reduce(
      (worst, g, i) => Math.max(worst, Math.abs(g - onCpu.forms[0].outputScale![i])),
      0,
    );
    assert.ok(gateError < 1e-5, `${router}: GPU gates differ from float64 by ${gateError}`);
  }
  const cases = [
    { gate: true, text: "joint" },
    { gate: false, text: "joint" },
    { gate: true, text: "outside" },
  ];
  for (const { gate, text } of cases) {
    // The random router, whose weights the reference below rebuilds.
    const method = mogaPaper.create({ groups: 3, gate, text, router: "random" });
    const layout = await method.layout(scenario, { inputs, seed: 2 });
    const branches = [layout.forms, ...layout.branches!.map((b) => b.forms)];
    const program = await BranchedAttention.create(
      runtime,
      branches.map((forms) => ({ forms, weight: 1 / 3 })),
      gpuInputs,
    );
    program.poisonOutputs();
    submitComputePass(runtime, (pass) => program.encode(pass));
    const routing = routeHiddenStates(hidden, {
      routed: { start: 0, count: videoTokens(scenario) },
      router: { weights: seededRouterWeights({ groups: 3, dims: 64 }, { seed: 2 }), groups: 3 },
    });
    for (let h = 0; h < 2; h++) {
      const out = new Float32Array(await runtime.read(program.outputs.out[h]));
      const lse = new Float32Array(await runtime.read(program.outputs.lse[h]));
      const ref = mogaPaperReference(scenario, await inputs.head(h), {
        routing,
        textKeys: text === "joint",
        partitions: [2, 2],
        adjacent: 1,
        gate,
      });
      let err = 0;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
      let lseErr = 0;
      for (let i = 0; i < L; i++) lseErr = Math.max(lseErr, Math.abs(lse[i] - ref.lse[i]));
      assert.ok(err < 2e-5, `gate ${gate}, text ${text}, head ${h}: max output error ${err}`);
      assert.ok(lseErr < 1e-4, `gate ${gate}, text ${text}, head ${h}: max LSE error ${lseErr}`);
    }
    program.release();
  }
  runtime.release([...gpuInputs.q, ...gpuInputs.k, ...gpuInputs.v]);
  runtime.destroy();
});

Deno.test("moga's default router is k-means on x: the synthetic video splits into several groups", async () => {
  const scenario = scenarioOf({ tokens: 7, position: "suffix" });
  const inputs = syntheticInputs(scenario, { seed: 1 });
  const layout = await mogaPaper.create({ groups: 4 }).layout(scenario, { inputs });
  assert.equal(layout.params?.router, "kmeans");
  assert.ok(layout.notes?.some((n) => n.includes("k-means centroids of x")), "notes name k-means");
  const largest = layout.stats?.groupMax as number;
  assert.ok(
    largest < videoTokens(scenario) / 2,
    `largest group ${largest} of ${videoTokens(scenario)}`,
  );
});

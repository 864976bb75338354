import assert from "node:assert/strict";
import fc from "fast-check";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadQkv } from "../gpu/upload_qkv.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import { referenceAttention } from "../kernels/reference.ts";
import { preset } from "../scenarios/presets.ts";
import { type Scenario, totalTokens, videoStart } from "../scenarios/scenario.ts";
import { attendedPairs, denseMask, type ExecutionForm } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { mogaKmeans as moga, mogaRoutingFlops } from "./moga.ts";
import { seededQkv, seededValues } from "../tests/random_qkv.ts";

const D = 64;

function scenarioOf(
  latent: [number, number, number],
  text: number,
  position: "suffix" | "prefix",
): Scenario {
  return {
    name: "moga-test",
    latent,
    text: { tokens: text, position: text > 0 ? position : "none" },
    shots: [latent[0]],
    textSegments: [text],
    heads: 2,
    headDim: D,
    modelType: "hunyuan",
  };
}

/** The group (or −1 for an unrouted text token) of every original token, read off the form. */
function groupsOf(form: ExecutionForm, groupCount: number, routedCount: number): Int32Array {
  const groupOf = new Int32Array(form.tokens).fill(-1);
  const perm = form.permutation!;
  // Tiles of one group share their first range (the group segment).
  for (let t = 0; t + 1 < form.tileBounds.length; t++) {
    if (form.tileBounds[t] >= routedCount) continue;
    const segStart = form.rangeStarts[form.rangeOffsets[t]];
    for (let p = form.tileBounds[t]; p < form.tileBounds[t + 1]; p++) groupOf[perm[p]] = segStart;
  }
  const ids = [...new Set(groupOf)].filter((g) => g >= 0).sort((a, b) => a - b);
  assert.ok(ids.length <= groupCount);
  return groupOf.map((g) => (g < 0 ? -1 : ids.indexOf(g)));
}

/** Whether video token `key` is in the STA-style window of video token `query`. */
function inWindow(scenario: Scenario, window: number[], query: number, key: number): boolean {
  const [T, H, W] = scenario.latent;
  const coords = (v: number) => [Math.floor(v / (H * W)), Math.floor(v / W) % H, v % W];
  const q = coords(query);
  const k = coords(key);
  return [T, H, W].every((n, axis) => {
    const size = window[axis];
    const left = Math.floor(size / 2);
    const right = left - (size % 2 === 0 ? 1 : 0);
    const centre = Math.min(Math.max(q[axis], left), n - 1 - right);
    return k[axis] >= centre - left && k[axis] <= centre + right;
  });
}

Deno.test("moga parameters: defaults, spellings and clear errors", () => {
  assert.deepEqual(moga.create({}).params, {
    groups: 16,
    iters: 5,
    window: "off",
    text: true,
    router: "kmeans",
    block: 128,
  });
  assert.equal(moga.create({ window: [3, 1, 5] }).params.window, "3x1x5");
  for (const groups of [0, 1.5, 257]) {
    assert.throws(() => moga.create({ groups }), /"groups" must be an integer 1\.\.256/);
  }
  assert.throws(() => moga.create({ iters: -1 }), /"iters" must be an integer 0\.\.100/);
  assert.throws(() => moga.create({ window: 3 }), /"window" must be off or TxHxW/);
  assert.throws(() => moga.create({ window: "big" }), MethodSpecError);
  assert.throws(() => moga.create({ router: "weights.txt" }), /kmeans or a path to a \.json/);
  assert.throws(() => moga.create({ text: "yes" }), /"text" must be a boolean/);
});

Deno.test("moga form: a permutation, one group a token, gates in (0, 1], exact masks", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        latent: fc.tuple(
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 6 }),
        ),
        text: fc.integer({ min: 0, max: 9 }),
        position: fc.constantFrom("suffix" as const, "prefix" as const),
        groups: fc.integer({ min: 1, max: 6 }),
        textSeparate: fc.boolean(),
        window: fc.option(
          fc.tuple(
            fc.integer({ min: 1, max: 3 }),
            fc.integer({ min: 1, max: 3 }),
            fc.integer({ min: 1, max: 3 }),
          ),
          { nil: null },
        ),
        seed: fc.integer({ min: 0, max: 1e6 }),
      }),
      async (r) => {
        const scenario = scenarioOf(r.latent, r.text, r.position);
        const window = r.window?.map((n, axis) => Math.min(n, r.latent[axis])) ?? null;
        const L = totalTokens(scenario);
        const separate = r.textSeparate && r.text > 0;
        const routedCount = separate ? L - r.text : L;
        const groups = Math.min(r.groups, routedCount);
        const method = moga.create({
          groups,
          iters: 2,
          text: r.textSeparate,
          window: window ? window.join("x") : "off",
        });
        const inputs = seededQkv({ tokens: L, heads: 1, headDim: D }, {
          seed: r.seed,
          quantized: false,
        });
        const layout = await method.layout(scenario, { inputs, heads: [0], seed: r.seed });
        const form = layout.forms[0];
        const perm = form.permutation!;
        assert.equal(form.permutationName, "moga-group-sorted");
        assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: L }, (_, i) => i));
        const groupOf = groupsOf(form, groups, routedCount);
        const v0 = videoStart(scenario);
        const isText = (t: number) => separate && (t < v0 || t >= v0 + L - r.text);
        for (let t = 0; t < L; t++) {
          assert.equal(groupOf[t] < 0, isText(t), `token ${t}: routed unless separate text`);
          const gate = form.outputScale![t];
          assert.ok(gate > 0 && gate <= 1, `gate ${gate}`);
          if (isText(t)) assert.equal(gate, 1);
          if (groups === 1) assert.equal(gate, 1);
        }
        const mask = denseMask(form);
        for (let q = 0; q < L; q++) {
          for (let k = 0; k < L; k++) {
            const videoPair = !isText(q) && !isText(k) && q >= v0 && k >= v0 &&
              q < v0 + L - r.text && k < v0 + L - r.text;
            const expected = isText(q) || isText(k) || groupOf[q] === groupOf[k] ||
              (window !== null && videoPair && inWindow(scenario, window, q - v0, k - v0));
            assert.equal(mask[q * L + k], expected ? 1 : 0, `pair (${q}, ${k})`);
          }
        }
        assert.equal(layout.stats?.attendedPairs, attendedPairs(form));
        assert.equal(
          layout.routingFlops,
          scenario.heads *
            mogaRoutingFlops({ routed: routedCount, groups, headDim: D }, { kmeansIters: 2 }),
        );
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("moga with one group is dense attention with gate 1", async () => {
  const scenario = scenarioOf([3, 4, 4], 5, "suffix");
  const L = totalTokens(scenario);
  const inputs = seededQkv({ tokens: L, heads: 2, headDim: D }, { seed: 1, quantized: false });
  const layout = await moga.create({ groups: 1 }).layout(scenario, { inputs });
  for (const form of layout.forms) {
    assert.equal(attendedPairs(form), L * L);
    assert.ok(form.outputScale!.every((g) => g === 1));
  }
  assert.equal(layout.stats?.groupMin, 48);
  assert.equal(layout.stats?.groupMax, 48);
});

Deno.test("moga router file: used for every head, shape errors name the parameter", async () => {
  const scenario = scenarioOf([2, 4, 4], 0, "suffix");
  const path = await Deno.makeTempFile({ suffix: ".json" });
  const rows = Array.from({ length: 3 }, (_, g) => [
    ...seededValues(D, { seed: g, stream: 0, quantized: true }),
  ]);
  await Deno.writeTextFile(path, JSON.stringify(rows));
  const inputs = seededQkv({ tokens: 32, heads: 2, headDim: D }, { seed: 2, quantized: true });
  const layout = await moga.create({ groups: 3, router: path }).layout(scenario, { inputs });
  assert.equal(layout.forms.length, 2);
  assert.match(layout.notes!.join(" "), /weights from/);
  await assert.rejects(
    async () => await moga.create({ groups: 4, router: path }).layout(scenario, { inputs }),
    /must hold 4 rows \(parameter "groups"\) of 64 finite numbers/,
  );
  await Deno.writeTextFile(path, "not json");
  await assert.rejects(
    async () => await moga.create({ groups: 3, router: path }).layout(scenario, { inputs }),
    /"router" must be kmeans or a readable JSON file/,
  );
  await Deno.remove(path);
});

Deno.test("moga groups and gates match argmax and softmax of W·k computed here", async () => {
  const scenario = { ...scenarioOf([2, 3, 4], 5, "suffix"), heads: 1 };
  const L = totalTokens(scenario);
  const groups = 4;
  const weights = Array.from({ length: groups }, (_, g) => [
    ...seededValues(D, { seed: 10 + g, stream: 0, quantized: false }),
  ]);
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(weights));
  const inputs = seededQkv({ tokens: L, heads: 1, headDim: D }, { seed: 4, quantized: false });
  const { k } = await inputs.head(0);
  // text=false: every token, text included, is routed by the same rule.
  const method = moga.create({ groups, router: path, text: false });
  const form = (await method.layout(scenario, { inputs })).forms[0];
  await Deno.remove(path);
  const expectedGroup = new Int32Array(L);
  const expectedGate = new Float64Array(L);
  for (let t = 0; t < L; t++) {
    const logits = weights.map((row) => row.reduce((sum, w, j) => sum + w * k[t * D + j], 0));
    const best = logits.indexOf(Math.max(...logits));
    expectedGroup[t] = best;
    expectedGate[t] = 1 / logits.reduce((sum, x) => sum + Math.exp(x - logits[best]), 0);
  }
  assert.ok(new Set(expectedGroup).size > 1, "the test routes to more than one group");
  const mask = denseMask(form);
  for (let q = 0; q < L; q++) {
    const gate = form.outputScale![q];
    assert.ok(Math.abs(gate - expectedGate[q]) <= 1e-5, `token ${q}: gate ${gate}`);
    for (let key = 0; key < L; key++) {
      const same = expectedGroup[q] === expectedGroup[key] ? 1 : 0;
      assert.equal(mask[q * L + key], same, `pair (${q}, ${key})`);
    }
  }
});

Deno.test("moga window must fit the latent video", async () => {
  const scenario = scenarioOf([2, 4, 4], 0, "suffix");
  const inputs = seededQkv({ tokens: 32, heads: 2, headDim: D }, { seed: 2, quantized: true });
  await assert.rejects(
    async () => await moga.create({ window: "3x3x3" }).layout(scenario, { inputs }),
    /"window" \(3x3x3\) must fit the latent video 2x4x4/,
  );
});

Deno.test("moga end to end on the GPU: GPU routing = CPU routing; kernel = gated float64 reference", async () => {
  const runtime = await GpuRuntime.open();
  const scenario = {
    ...preset("moga-minute-480p", "ci"),
    latent: [4, 4, 4] as [number, number, number],
    shots: [2, 2],
    textSegments: [6, 6],
    text: { tokens: 12, position: "suffix" as const },
  };
  const L = totalTokens(scenario);
  const inputs = seededQkv({ tokens: L, heads: 2, headDim: D }, { seed: 8, quantized: true });
  const path = await Deno.makeTempFile({ suffix: ".json" });
  const rows = Array.from({ length: 5 }, (_, g) => [
    ...seededValues(D, { seed: 50 + g, stream: 0, quantized: true }),
  ]);
  await Deno.writeTextFile(path, JSON.stringify(rows));
  const gpuInputs = await uploadQkv(runtime, inputs, "f32");
  for (const router of [path, "kmeans"]) {
    const method = moga.create({ groups: 5, router, window: "2x3x3" });
    const layout = await method.layout(scenario, { gpu: runtime, gpuInputs, routingRepeats: 1 });
    assert.equal(layout.stats?.routedOn, "gpu");
    assert.equal(layout.routing?.samples.length, 1);
    if (router === path) {
      // Exact inputs and weights: the GPU and CPU routings must be identical.
      const cpu = await method.layout(scenario, { inputs });
      for (let h = 0; h < 2; h++) {
        assert.deepEqual(layout.forms[h].permutation, cpu.forms[h].permutation);
        assert.deepEqual(layout.forms[h].tileBounds, cpu.forms[h].tileBounds);
        assert.deepEqual(layout.forms[h].maskWords, cpu.forms[h].maskWords);
      }
    }
    const program = await AttentionProgram.create(runtime, layout.forms, gpuInputs);
    const encoder = runtime.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    program.encode(pass);
    pass.end();
    runtime.device.queue.submit([encoder.finish()]);
    for (let h = 0; h < 2; h++) {
      const form = layout.forms[h];
      const out = new Float32Array(await runtime.read(program.outputs.out[h]));
      const ref = referenceAttention(inputs.tensors[h], {
        tokens: L,
        headDim: D,
        mask: denseMask(form),
      });
      let err = 0;
      for (let i = 0; i < out.length; i++) {
        const expected = ref.out[i] * form.outputScale![Math.floor(i / D)];
        err = Math.max(err, Math.abs(out[i] - expected));
      }
      assert.ok(err < 2e-5, `${router}, head ${h}: max error ${err}`);
    }
    program.release();
  }
  await Deno.remove(path);
  runtime.destroy();
});

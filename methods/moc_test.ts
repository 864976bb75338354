import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadQkv } from "../gpu/upload_qkv.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import { referenceAttention } from "../kernels/reference.ts";
import { preset } from "../scenarios/presets.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import { attendedPairs, countedFlops, denseMask } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { moc, resolveIntraShot } from "./moc.ts";
import { MOC_PAPER_FIGURES, mocAttendedPairs, mocRoutingFlops } from "./moc_flops.ts";
import { mocForm } from "./moc_form.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import { mocChunks } from "../kernels/moc_chunks.ts";
import { mocRoutingReference } from "./routing/moc_reference.ts";

Deno.test("moc parameters: defaults, spellings and clear errors", () => {
  assert.deepEqual(moc.create({}).params, { k: 4, intraShot: "auto", block: 128 });
  assert.equal(moc.create({ intraShot: true }).params.intraShot, "true");
  for (const k of [0, 1.5, -2, 257]) {
    assert.throws(() => moc.create({ k }), (e: Error) => {
      return e instanceof MethodSpecError && /"k" must be an integer 1\.\.256/.test(e.message);
    });
  }
  assert.throws(() => moc.create({ k: "many" }), MethodSpecError);
  assert.throws(() => moc.create({ intraShot: "maybe" }), /auto, true, false/);
  assert.throws(() => moc.create({ topk: 3 }), /unknown parameter "topk"/);
});

Deno.test("moc reproduces the paper's dense and MoC FLOPs on its presets within 10%", async () => {
  for (const figure of MOC_PAPER_FIGURES) {
    const scenario = preset(figure.preset, "full");
    const L = totalTokens(scenario);
    const d = scenario.headDim;
    const dense = 4 * L * L * d;
    assert.ok(Math.abs(dense / figure.denseFlops - 1) < 0.1, `${figure.preset} dense ${dense}`);
    const chunks = mocChunks(scenario, { intraShot: resolveIntraShot("auto", scenario) });
    const flopsAt = (k: number) => 4 * d * mocAttendedPairs(chunks, { k });
    const error = (k: number) => Math.abs(flopsAt(k) / figure.mocFlops - 1);
    const best = Array.from({ length: 16 }, (_, i) => i + 1).reduce((a, b) =>
      error(b) < error(a) ? b : a
    );
    assert.equal(best, figure.k, `${figure.preset}: closest k`);
    assert.ok(
      error(figure.k) < 0.1,
      `${figure.preset}: ${flopsAt(figure.k)} vs ${figure.mocFlops}`,
    );
    if (L <= 8192) {
      // Small enough to route for real: the counted FLOPs of the actual form agree.
      const source = syntheticInputs(scenario, { seed: 1 });
      const selection = mocRoutingReference(await source.head(0), {
        chunks,
        headDim: d,
        k: figure.k,
      });
      assert.equal(
        countedFlops(mocForm(chunks, { selection, blockSize: 128 }), d),
        flopsAt(figure.k),
      );
    }
  }
});

Deno.test("moc analyticFlops is the paper's L·d + 2·L·C·d + 4·L·k·m̄·d, figured here by hand", () => {
  // moc-single-shot, one head: L = 6,092, d = 128, C = 25 frame chunks + 1 prompt chunk, k = 4.
  const single = { ...preset("moc-single-shot", "full"), heads: 1 };
  const singleByHand = 6092 * 128 + 2 * 6092 * 26 * 128 + 4 * 6092 * 4 * (6092 / 26) * 128;
  assert.ok(Math.abs(singleByHand - 2.9646484e9) < 1e3, "the hand figure itself");
  const singleFlops = moc.create({ k: 4 }).analyticFlops!(single)!;
  assert.ok(Math.abs(singleFlops / singleByHand - 1) < 1e-12, `${singleFlops}`);
  // moc-multi-shot, one head: L = 178,592, C = 8·14 frame chunks + 8 prompt chunks = 120, k = 2.
  const multi = { ...preset("moc-multi-shot", "full"), heads: 1 };
  const multiByHand = 178592 * 128 + 2 * 178592 * 120 * 128 +
    4 * 178592 * 2 * (178592 / 120) * 128;
  const multiFlops = moc.create({ k: 2 }).analyticFlops!(multi)!;
  assert.ok(Math.abs(multiFlops / multiByHand - 1) < 1e-12, `${multiFlops}`);
  // All heads: 24 times one head's figure.
  const allHeads = moc.create({ k: 4 }).analyticFlops!(preset("moc-single-shot", "full"))!;
  assert.ok(Math.abs(allHeads / (24 * singleByHand) - 1) < 1e-12);
});

Deno.test("moc structural pair count = the routed form's, at the MoC presets' ci sizes", async () => {
  for (const name of ["moc-single-shot", "moc-multi-shot"]) {
    const scenario = preset(name, "ci");
    const method = moc.create({ k: 3 });
    const inputs = syntheticInputs(scenario, { seed: 2 });
    const layout = await method.layout(scenario, { inputs });
    assert.equal(layout.forms.length, scenario.heads);
    const chunks = mocChunks(scenario, { intraShot: scenario.shots.length > 1 });
    for (const form of layout.forms) {
      assert.equal(attendedPairs(form), mocAttendedPairs(chunks, { k: 3 }));
    }
    assert.equal(
      layout.routingFlops,
      scenario.heads * mocRoutingFlops(chunks, { k: 3, headDim: scenario.headDim }),
    );
    assert.equal(layout.params?.intraShot, String(scenario.shots.length > 1));
    assert.equal(layout.stats?.routedOn, "cpu-float64");
    assert.ok((layout.stats?.executedOverAttended as number) >= 1);
  }
});

Deno.test("moc layout without inputs names what it needs", async () => {
  const scenario = preset("moc-single-shot", "ci");
  await assert.rejects(async () => await moc.create({}).layout(scenario, {}), /context\.inputs/);
});

Deno.test("moc end to end on the GPU: routed form + sparse kernel = float64 masked attention", async () => {
  const runtime = await GpuRuntime.open();
  const scenario: Scenario = {
    name: "moc-e2e",
    latent: [5, 4, 6],
    text: { tokens: 10, position: "prefix" },
    shots: [2, 3],
    textSegments: [5, 5],
    heads: 2,
    headDim: 64,
    modelType: "hunyuan",
  };
  const L = totalTokens(scenario);
  const inputs = seededQkv({ tokens: L, heads: 2, headDim: 64 }, { seed: 4, quantized: true });
  const gpuInputs = await uploadQkv(runtime, inputs, "f32");
  const method = moc.create({ k: 1, intraShot: false });
  const layout = await method.layout(scenario, { gpu: runtime, gpuInputs, routingRepeats: 2 });
  const cpuLayout = await method.layout(scenario, { inputs });
  assert.equal(layout.stats?.routedOn, "gpu");
  assert.equal(layout.routing?.samples.length, 2);
  const program = await AttentionProgram.create(runtime, layout.forms, gpuInputs);
  const encoder = runtime.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  program.encode(pass);
  pass.end();
  runtime.device.queue.submit([encoder.finish()]);
  for (let h = 0; h < 2; h++) {
    assert.deepEqual(denseMask(layout.forms[h]), denseMask(cpuLayout.forms[h]));
    const out = new Float32Array(await runtime.read(program.outputs.out[h]));
    const ref = referenceAttention(inputs.tensors[h], {
      tokens: L,
      headDim: 64,
      mask: denseMask(layout.forms[h]),
    });
    let err = 0;
    for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
    assert.ok(err < 2e-5, `head ${h}: max error ${err}`);
  }
  program.release();
  runtime.destroy();
});

import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadQkv } from "../gpu/upload_qkv.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import { BranchedAttention } from "../kernels/branched_attention.ts";
import { referenceAttention } from "../kernels/reference.ts";
import { preset } from "../scenarios/presets.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import { attendedPairs, countedFlops, denseMask } from "../form/form.ts";
import { MethodSpecError, type Params } from "./method.ts";
import { moc, parseChunking } from "./moc.ts";
import { MOC_PAPER_FIGURES, mocAttendedPairs, mocRoutingFlops } from "./moc_flops.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import {
  isMocCandidate,
  mocChunkLength,
  type MocChunks,
  mocChunks,
  mocVideoChunks,
  NO_CHUNK,
} from "../kernels/moc_chunks.ts";
import { mocRoutingReference } from "./routing/moc_reference.ts";

Deno.test("moc parameters: defaults, spellings and clear errors", () => {
  assert.deepEqual(moc.create({}).params, {
    k: 4,
    intraShot: "auto",
    chunk: "frame",
    causal: true,
    block: 128,
  });
  assert.equal(moc.create({ intraShot: true }).params.intraShot, "true");
  assert.equal(moc.create({ chunk: 256 }).params.chunk, "256");
  assert.equal(moc.create({ chunk: "shot", causal: false }).params.causal, false);
  // The execution form is named in the params only when given.
  assert.equal(moc.create({ form: "union" }).params.form, "union");
  assert.equal(moc.create({ form: "chunk-major" }).params.form, "chunk-major");
  assert.throws(
    () => moc.create({ form: "tiles" }),
    (e: Error) =>
      e instanceof MethodSpecError &&
      e.message === `moc: parameter "form" must be one of chunk-major, union (got tiles)`,
  );
  for (const k of [0, 1.5, -2, 257]) {
    assert.throws(() => moc.create({ k }), (e: Error) => {
      return e instanceof MethodSpecError && /"k" must be an integer 1\.\.256/.test(e.message);
    });
  }
  assert.throws(() => moc.create({ k: "many" }), MethodSpecError);
  assert.throws(() => moc.create({ intraShot: "maybe" }), /auto, true, false/);
  for (const chunk of [0, 2.5, "frames", -3]) {
    assert.throws(() => moc.create({ chunk }), /"chunk" must be frame, shot or an integer ≥ 1/);
  }
  assert.throws(() => moc.create({ causal: "maybe" }), /"causal" must be a boolean/);
  assert.throws(() => moc.create({ topk: 3 }), /unknown parameter "topk"/);
});

/** Counted FLOPs of one head of `spec` on a preset, routed in float64 on head 0 (seed 1). */
async function countedHeadFlops(name: string, spec: Params): Promise<{
  flops: number;
  chunks: ReturnType<typeof mocChunks>;
  chosen: Uint32Array;
}> {
  const scenario = { ...preset(name, "full"), heads: 1 };
  const method = moc.create(spec);
  const layout = await method.layout(scenario, { inputs: syntheticInputs(scenario, { seed: 1 }) });
  const chunks = mocChunks(scenario, {
    intraShot: layout.params?.intraShot === "true",
    causal: method.params.causal as boolean,
    chunking: parseChunking(method.params.chunk as string),
  });
  const source = syntheticInputs(scenario, { seed: 1 });
  const selection = mocRoutingReference(await source.head(0), {
    chunks,
    headDim: scenario.headDim,
    k: method.params.k as number,
  });
  assert.equal(
    countedFlops(layout.forms[0], scenario.headDim),
    4 * 128 * mocAttendedPairs(chunks, selection),
  );
  return {
    flops: countedFlops(layout.forms[0], scenario.headDim),
    chunks,
    chosen: selection.chosen,
  };
}

Deno.test("moc single-shot row: the paper's chunk=256;k=3;causal=false misses 4.1e9 by the partial chunk, by hand", async () => {
  const row = MOC_PAPER_FIGURES.find((f) => f.preset === "moc-single-shot" && f.kind === "paper")!;
  assert.equal(row.spec, "moc:chunk=256;k=3;causal=false");
  // L = 6,000 video + 92 text; 6,000 = 23·256 + 112, so 23 full chunks and one of 112 tokens.
  const { flops, chosen } = await countedHeadFlops("moc-single-shot", {
    chunk: 256,
    k: 3,
    causal: false,
  });
  const text = 92 * 6092;
  const anchors = 5888 * (92 + 256) + 112 * (92 + 112);
  const routedFull = 6000 * 3 * 256;
  const best = 4 * 128 * (text + anchors + routedFull);
  assert.equal(best, 3_707_052_032);
  assert.ok(Math.abs(best / 4.1e9 - 1) < 0.1, "only if no query picked the short chunk");
  const shortPicks = chosen.filter((c) => c === 23).length;
  assert.equal(flops, best - 4 * 128 * 144 * shortPicks);
  assert.ok(shortPicks > 0, "routing picks the 112-token chunk too");
  const error = flops / 4.1e9 - 1;
  assert.ok(error > -0.12 && error < -0.1, `counted ${flops}: ${(100 * error).toFixed(1)}%`);
});

Deno.test("moc multi-shot row: the own-shot anchor alone is 91.5% of 2.32e12 at the preset's shot length", () => {
  const row = MOC_PAPER_FIGURES.find((f) => f.preset === "moc-multi-shot" && f.kind === "paper")!;
  assert.equal(row.spec, "moc:chunk=1280;k=5");
  // 8 shots of 14·30·53 = 22,260 video tokens, 8·64 text; 22,260 = 17·1280 + 500.
  const anchored = 512 * 178_592 + 8 * 22_260 * (512 + 22_260);
  assert.ok(Math.abs((4 * 128 * anchored) / 2.32e12 - 0.9151) < 1e-4);
  // Shots 1…7 route 5 chunks of 500 to 1,280 tokens: the count lies between +0.1% and +13.5%
  // (the routed count on head 0, seed 1, is 2.60e12: docs/methods.md).
  const least = 4 * 128 * (anchored + 7 * 22_260 * 5 * 500);
  const most = 4 * 128 * (anchored + 7 * 22_260 * 5 * 1280);
  assert.ok(Math.abs(least / 2.32e12 - 1.0011) < 1e-4 && Math.abs(most / 2.32e12 - 1.1352) < 1e-4);
  const chunks = mocChunks(preset("moc-multi-shot", "full"), {
    intraShot: true,
    causal: true,
    chunking: 1280,
  });
  const everyFull = 4 * 128 *
    mocAttendedPairs(chunks, {
      k: 5,
      chosen: fullChunkPicks(chunks, 5),
    });
  assert.equal(everyFull, most);
});

Deno.test("moc fitted rows: k=4 and k=2 on frame chunks meet the paper's figures within 10%", () => {
  for (const figure of MOC_PAPER_FIGURES.filter((f) => f.kind === "fit")) {
    const scenario = preset(figure.preset, "full");
    const L = totalTokens(scenario);
    assert.ok(Math.abs((4 * L * L * 128) / figure.denseFlops - 1) < 0.1, `${figure.preset} dense`);
    assert.match(figure.assumption, /^fit: /);
    // Frame chunks all hold P tokens: a frame-f query attends text, its anchor and min(k, c_f)
    // earlier frames, c_f = f (one shot) or the first frame of its shot (own shot anchored).
    const P = scenario.latent[1] * scenario.latent[2];
    const text = L - scenario.latent[0] * P;
    const k = figure.spec === "moc:k=4" ? 4 : 2;
    let pairs = text * L;
    let first = 0;
    for (const frames of scenario.shots) {
      for (let f = first; f < first + frames; f++) {
        const oneShot = scenario.shots.length === 1;
        const anchor = oneShot ? P : frames * P;
        const candidates = oneShot ? f : first;
        pairs += P * (text + anchor + Math.min(k, candidates) * P);
      }
      first += frames;
    }
    const flops = 4 * 128 * pairs;
    assert.ok(Math.abs(flops / figure.mocFlops - 1) < 0.1, `${figure.spec}: ${flops}`);
  }
});

Deno.test("moc analyticFlops follows the paper's formula with m̄ the mean chunk, figured here by hand", () => {
  // moc-single-shot, one head, the paper's setting: L = 6,092, d = 128, C = 24 chunks of 256
  // tokens (the last 112) + 1 prompt chunk, k = 3, m̄ = 6,000 / 24 = 250.
  const single = { ...preset("moc-single-shot", "full"), heads: 1 };
  const singleByHand = 6092 * 128 + 2 * 6092 * 25 * 128 + 4 * 6092 * 3 * 250 * 128;
  assert.equal(singleByHand, 2_379_096_576); // 42% under the paper's 4.1e9: no anchors in it
  const singleFlops = moc.create({ chunk: 256, k: 3, causal: false }).analyticFlops!(single)!;
  assert.ok(Math.abs(singleFlops / singleByHand - 1) < 1e-12, `${singleFlops}`);
  // moc-multi-shot, one head, the paper's setting: L = 178,592, C = 8·18 chunks of ≤ 1,280
  // tokens + 8 prompt chunks = 152, k = 5, m̄ = 178,080 / 144.
  const multi = { ...preset("moc-multi-shot", "full"), heads: 1 };
  const multiByHand = 178592 * 128 + 2 * 178592 * 152 * 128 +
    4 * 178592 * 5 * (178080 / 144) * 128;
  assert.ok(Math.abs(multiByHand - 5.7237069e11) < 1e4, "the hand figure itself");
  const multiFlops = moc.create({ chunk: 1280, k: 5 }).analyticFlops!(multi)!;
  assert.ok(Math.abs(multiFlops / multiByHand - 1) < 1e-12, `${multiFlops}`);
  // Frame chunks: m̄ = P = 240 on moc-single-shot, C = 25 + 1; all heads: 24 times one head.
  const frameByHand = 6092 * 128 + 2 * 6092 * 26 * 128 + 4 * 6092 * 4 * 240 * 128;
  const allHeads = moc.create({ k: 4 }).analyticFlops!(preset("moc-single-shot", "full"))!;
  assert.ok(Math.abs(allHeads / (24 * frameByHand) - 1) < 1e-12);
});

Deno.test("moc structural pair count = the routed form's, at the MoC presets' ci sizes", async () => {
  for (const name of ["moc-single-shot", "moc-multi-shot"]) {
    const scenario = preset(name, "ci");
    for (const spec of [{ k: 3 }, { k: 3, chunk: 100, causal: false }] as Params[]) {
      const method = moc.create(spec);
      const inputs = syntheticInputs(scenario, { seed: 2 });
      const layout = await method.layout(scenario, { inputs });
      assert.equal(layout.forms.length, scenario.heads);
      const chunks = mocChunks(scenario, {
        intraShot: scenario.shots.length > 1,
        causal: method.params.causal as boolean,
        chunking: parseChunking(method.params.chunk as string),
      });
      for (let h = 0; h < scenario.heads; h++) {
        const selection = mocRoutingReference(await inputs.head(h), {
          chunks,
          headDim: scenario.headDim,
          k: 3,
        });
        assert.equal(attendedPairs(layout.forms[h]), mocAttendedPairs(chunks, selection));
      }
      assert.equal(
        layout.routingFlops,
        scenario.heads * mocRoutingFlops(chunks, { k: 3, headDim: scenario.headDim }),
      );
      assert.equal(layout.params?.intraShot, String(scenario.shots.length > 1));
      assert.equal(layout.stats?.routedOn, "cpu-float64");
      assert.ok((layout.stats?.executedOverAttended as number) >= 1);
      assert.ok(layout.notes?.some((n) => n.startsWith("MoC paper setting")));
    }
  }
});

Deno.test("moc notes name the paper setting a record runs and each departure", async () => {
  const notesOf = async (name: string, spec: Params) => {
    const scenario = { ...preset(name, "ci"), heads: 1 };
    const inputs = syntheticInputs(scenario, { seed: 3 });
    return (await moc.create(spec).layout(scenario, { inputs })).notes ?? [];
  };
  const single = await notesOf("moc-single-shot", { chunk: 256, k: 3, causal: false });
  assert.ok(single.includes(
    "MoC paper setting: runs the paper's single-shot setting (256-token chunks, k = 3, non-causal)",
  ));
  const multi = await notesOf("moc-multi-shot", {});
  const departs = multi.find((n) => n.startsWith("MoC paper setting: departs"))!;
  assert.match(departs, /multi-shot setting/);
  assert.match(
    departs,
    /in chunk=frame \(paper 1280 tokens\), k=4 \(paper 5; the default 4 is a fit/,
  );
  assert.ok(!departs.includes("causal="), "causal and the own shot are the paper's");
  const analytic = multi.find((n) => n.startsWith("MoC analytic FLOPs"))!;
  assert.match(analytic, /m̄ = 64\.0 tokens: the mean video chunk length stands for the paper's/);
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
  // Frame chunks with causal routing, and 7-token chunks (shots of 48 and 72 tokens are no
  // multiple of 7) with non-causal routing; each run chunk-major (the default: branches merged by
  // log-sum-exp) and as union tiles.
  const specs = [{ k: 1, intraShot: false }, { k: 2, chunk: 7, causal: false }] as Params[];
  for (const spec of specs.flatMap((s) => [s, { ...s, form: "union" }])) {
    const method = moc.create(spec);
    const layout = await method.layout(scenario, { gpu: runtime, gpuInputs, routingRepeats: 2 });
    const cpuLayout = await method.layout(scenario, { inputs });
    assert.equal(layout.stats?.routedOn, "gpu");
    assert.equal(layout.routing?.samples.length, 2);
    if (layout.routing?.timer === "gpu") {
      assert.deepEqual(Object.keys(layout.routing.stages ?? {}).sort(), [
        "chunk-pool",
        "scores-topk",
      ]);
    }
    const execution = layout.execution;
    assert.equal(execution === undefined, spec.form === "union", "chunk-major runs an execution");
    const program = execution
      ? await BranchedAttention.create(
        runtime,
        [execution.forms, ...execution.branches!.map((b) => b.forms)].map((forms) => ({
          forms,
          weight: 1,
        })),
        gpuInputs,
        { lse: "merge" },
      )
      : await AttentionProgram.create(runtime, layout.forms, gpuInputs);
    // Outputs poisoned first: a row the kernels (or the merge) leave unwritten reads NaN below.
    program.poisonOutputs();
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
      assert.ok(err < 2e-5, `${JSON.stringify(spec)} head ${h}: max error ${err}`);
    }
    program.release();
  }
  runtime.destroy();
});

/** A selection in which every video query takes its first k candidates of the full length. */
function fullChunkPicks(chunks: MocChunks, k: number): Uint32Array {
  const chosen = new Uint32Array(chunks.chunkStart[mocVideoChunks(chunks)] * k).fill(NO_CHUNK);
  for (let c = 0; c < mocVideoChunks(chunks); c++) {
    const full: number[] = [];
    for (let other = 0; other < mocVideoChunks(chunks) && full.length < k; other++) {
      if (isMocCandidate(chunks, c, other) && mocChunkLength(chunks, other) === 1280) {
        full.push(other);
      }
    }
    for (let q = chunks.chunkStart[c]; q < chunks.chunkStart[c + 1]; q++) {
      chosen.set(full, q * k);
    }
  }
  return chosen;
}

Deno.test("moc per-head ks: head h routes with its own k, by the float64 reference", async () => {
  const scenario = { ...preset("moc-multi-shot", "ci"), heads: 3 };
  const ks = [1, 6, 1];
  const method = moc.create({ ks: "1/6/1", chunk: 100 });
  assert.equal(method.params.ks, "1/6/1");
  assert.ok(!("k" in method.params), "k leaves the params");
  const inputs = syntheticInputs(scenario, { seed: 4 });
  const layout = await method.layout(scenario, { inputs });
  const chunks = mocChunks(scenario, {
    intraShot: true,
    causal: true,
    chunking: parseChunking("100"),
  });
  const headDim = scenario.headDim;
  for (const [h, k] of ks.entries()) {
    const selection = mocRoutingReference(await inputs.head(h), { chunks, headDim, k });
    assert.equal(attendedPairs(layout.forms[h]), mocAttendedPairs(chunks, selection), `head ${h}`);
  }
  assert.ok(attendedPairs(layout.forms[1]) > attendedPairs(layout.forms[0]), "k 6 attends more");
  assert.equal(
    layout.routingFlops,
    ks.reduce((sum, k) => sum + mocRoutingFlops(chunks, { k, headDim }), 0),
  );
  const perHeadAnalytic = (k: number) => moc.create({ k, chunk: 100 }).analyticFlops!(scenario)!;
  assert.equal(
    method.analyticFlops!(scenario),
    ks.reduce((sum, k) => sum + perHeadAnalytic(k) / scenario.heads, 0),
  );
  assert.ok(layout.notes?.some((n) => n.includes("ks=1/6/1 (paper 5")), "the notes say ks");
  // Only the heads asked for are routed, each with its own k.
  const head1 = await method.layout(scenario, { inputs, heads: [1] });
  assert.deepEqual(head1.forms, [layout.forms[1]]);
});

Deno.test("moc per-head ks: bad lists, a wrong count and both forms are refused", async () => {
  assert.throws(() => moc.create({ ks: "2/0" }), /"ks" must be one integer k a head/);
  assert.throws(() => moc.create({ ks: "2/x" }), /"ks" must be one integer k a head/);
  assert.throws(() => moc.create({ k: 2, ks: "2/2" }), /give "k" or per-head "ks"/);
  assert.equal(moc.create({ ks: 3 }).params.ks, "3", "one head: a plain number");
  const scenario = preset("moc-multi-shot", "ci");
  await assert.rejects(
    async () =>
      await moc.create({ ks: "1/2/3" }).layout(scenario, {
        inputs: syntheticInputs(scenario, { seed: 1 }),
      }),
    /one k for each of the 2 heads \(got 3\)/,
  );
});

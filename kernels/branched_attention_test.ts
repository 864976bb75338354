import assert from "node:assert/strict";
import { denseForm, denseMask, FormBuilder } from "../form/form.ts";
import { poolRows } from "../form/pooling.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";
import { uploadHeads } from "../tests/gpu_heads.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import { BranchedAttention } from "./branched_attention.ts";
import { referenceAttention } from "./reference.ts";

Deno.test("branched attention, gated sum: main + 2 × plain branch + 0.25 × pooled branch", async () => {
  const runtime = await GpuRuntime.open();
  const L = 37;
  const d = 8;
  const { tensors } = seededQkv({ tokens: L, heads: 2, headDim: d }, { seed: 3, quantized: false });
  const heads = uploadHeads(runtime, tensors, "f32");
  // Main: a band of tiles; plain branch: the first 20 keys for everyone.
  const main = new FormBuilder(L, 8);
  for (let t0 = 0; t0 < L; t0 += 8) {
    main.range(t0, Math.min(L, t0 + 8)).endTile(Math.min(L, t0 + 8));
  }
  const mainForm = main.build();
  const plainForm = new FormBuilder(L, 8).range(0, 20).endTile(L).build();
  // Pooled: 3 groups of scattered tokens of different sizes; tokens 30..36 are in no group.
  const pooling = {
    offsets: Uint32Array.of(0, 5, 7, 12),
    members: Uint32Array.of(0, 9, 3, 27, 14, 1, 2, 29, 4, 5, 6, 8),
  };
  const program = await BranchedAttention.create(
    runtime,
    [
      { forms: [mainForm], weight: 1 },
      { forms: [plainForm], weight: 2 },
      { forms: [denseForm(3)], weight: 0.25, pooling },
    ],
    heads.inputs,
    { lse: "first" },
  );
  program.poisonOutputs();
  submitComputePass(runtime, (pass) => program.encode(pass));
  for (let h = 0; h < 2; h++) {
    const out = new Float32Array(await runtime.read(program.outputs.out[h]));
    const lse = new Float32Array(await runtime.read(program.outputs.lse[h]));
    const first = referenceAttention(tensors[h], {
      tokens: L,
      headDim: d,
      mask: denseMask(mainForm),
    });
    const plain = referenceAttention(tensors[h], {
      tokens: L,
      headDim: d,
      mask: denseMask(plainForm),
    });
    const pooled = referenceAttention({
      q: poolRows(tensors[h].q, pooling, d),
      k: poolRows(tensors[h].k, pooling, d),
      v: poolRows(tensors[h].v, pooling, d),
    }, { tokens: 3, headDim: d });
    const expected = first.out.map((x, i) => x + 2 * plain.out[i]);
    for (let g = 0; g < 3; g++) {
      for (let m = pooling.offsets[g]; m < pooling.offsets[g + 1]; m++) {
        for (let j = 0; j < d; j++) {
          expected[pooling.members[m] * d + j] += 0.25 * pooled.out[g * d + j];
        }
      }
    }
    let err = 0;
    for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - expected[i]));
    let lseErr = 0;
    for (let i = 0; i < L; i++) lseErr = Math.max(lseErr, Math.abs(lse[i] - first.lse[i]));
    assert.ok(err < 2e-5, `head ${h}: max output error ${err}`);
    assert.ok(lseErr < 1e-5, `head ${h}: the LSE is the first branch's (error ${lseErr})`);
  }
  program.release();
  await assert.rejects(
    () =>
      BranchedAttention.create(
        runtime,
        [{ forms: [denseForm(3)], weight: 1, pooling }],
        heads.inputs,
      ),
    /the first branch cannot be pooled/,
  );
  heads.release();
  runtime.destroy();
});

Deno.test("branched attention, log-sum-exp merge of disjoint branches = softmax over their union", async () => {
  const runtime = await GpuRuntime.open();
  const L = 37;
  const d = 8;
  const { tensors } = seededQkv({ tokens: L, heads: 1, headDim: d }, { seed: 5, quantized: false });
  const heads = uploadHeads(runtime, tensors, "f32");
  const left = new FormBuilder(L, 8).range(0, 20).endTile(L).build();
  // Rows 30..36 attend nothing here: their merged rows are the left branch's alone.
  const right = new FormBuilder(L, 8).range(20, L).endTile(30).endTile(L).build();
  const program = await BranchedAttention.create(
    runtime,
    [
      { forms: [left], weight: 1 },
      { forms: [right], weight: 1 },
    ],
    heads.inputs,
    { lse: "merge" },
  );
  program.poisonOutputs();
  submitComputePass(runtime, (pass) => program.encode(pass));
  const out = new Float32Array(await runtime.read(program.outputs.out[0]));
  const lse = new Float32Array(await runtime.read(program.outputs.lse[0]));
  const union = new Uint8Array(L * L);
  for (let q = 0; q < L; q++) union.fill(1, q * L, q * L + (q < 30 ? L : 20));
  const expected = referenceAttention(tensors[0], { tokens: L, headDim: d, mask: union });
  let err = 0;
  for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - expected.out[i]));
  let lseErr = 0;
  for (let i = 0; i < L; i++) lseErr = Math.max(lseErr, Math.abs(lse[i] - expected.lse[i]));
  assert.ok(err < 2e-5, `max output error ${err}`);
  assert.ok(lseErr < 1e-5, `max LSE error ${lseErr}`);
  program.release();
  const pooling = { offsets: Uint32Array.of(0, 2), members: Uint32Array.of(0, 1) };
  await assert.rejects(
    () =>
      BranchedAttention.create(
        runtime,
        [
          { forms: [left], weight: 1 },
          { forms: [denseForm(1)], weight: 1, pooling },
        ],
        heads.inputs,
        { lse: "merge" },
      ),
    /a log-sum-exp merge needs every branch over the L tokens/,
  );
  heads.release();
  runtime.destroy();
});

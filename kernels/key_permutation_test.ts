import assert from "node:assert/strict";
import { denseMask, type ExecutionForm, FormBuilder, validateForm } from "../form/form.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadHeads } from "../tests/gpu_heads.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import { AttentionProgram } from "./attention.ts";
import { referenceAttention } from "./reference.ts";

const runtime = await GpuRuntime.open();

/** A form whose queries and keys run in two different random orders, tiles of uneven length. */
function keyedForm(tokens: number, seed: number, keyed: boolean): ExecutionForm {
  let s = seed;
  const next = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const shuffled = () => {
    const order = Uint32Array.from({ length: tokens }, (_, i) => i);
    for (let i = tokens - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  };
  const builder = new FormBuilder(tokens, 16);
  while (builder.tileStart < tokens) {
    const end = Math.min(tokens, builder.tileStart + 1 + Math.floor(next() * 70));
    const a = Math.floor(next() * tokens);
    builder.range(a, a + 1 + Math.floor(next() * (tokens - a)));
    builder.endTile(end);
  }
  const scale = Float32Array.from({ length: tokens }, () => 0.5 + next() / 2);
  return validateForm(builder.build(shuffled(), "random", scale, keyed ? shuffled() : null));
}

/** Every head's output = float64 attention over its form's mask, times the output scale. */
async function assertMatchesReference(
  program: AttentionProgram,
  forms: ExecutionForm[],
  tensors: ReturnType<typeof seededQkv>["tensors"],
): Promise<void> {
  const { tokens } = forms[0];
  for (const [h, form] of forms.entries()) {
    const headDim = tensors[h].q.length / tokens;
    const out = new Float32Array(await runtime.read(program.outputs.out[h]));
    const ref = referenceAttention(tensors[h], { tokens, headDim, mask: denseMask(form) });
    let err = 0;
    for (let i = 0; i < out.length; i++) {
      const token = Math.floor(i / headDim);
      err = Math.max(err, Math.abs(out[i] - ref.out[i] * form.outputScale![token]));
    }
    assert.ok(err < 1e-4, `head ${h}: output error ${err}`);
  }
}

Deno.test("key permutation: keys and values gathered by their own order = float64 reference", async () => {
  const tokens = 211;
  const headDim = 32;
  // Head 0 orders its keys apart; head 1 does not, and runs through the same keyed gather.
  const forms = [keyedForm(tokens, 11, true), keyedForm(tokens, 12, false)];
  const { tensors } = seededQkv({ tokens, heads: 2, headDim }, { seed: 5, quantized: false });
  const heads = uploadHeads(runtime, tensors, "f32");
  const program = await AttentionProgram.create(runtime, forms, heads.inputs);
  try {
    program.poisonOutputs();
    submitComputePass(runtime, (pass) => program.encode(pass));
    await assertMatchesReference(program, forms, tensors);
  } finally {
    program.release();
    heads.release();
  }
});

Deno.test("key permutation: keys in their own order read in place, no copy of K and V", async () => {
  const tokens = 211;
  const headDim = 32;
  const inOrder = (form: ExecutionForm) => ({
    ...form,
    keyPermutation: Uint32Array.from({ length: tokens }, (_, i) => i),
  });
  // Both heads keep their keys in the original order (an identity key permutation); the program
  // they are compared with gathers head 1's keys in its query order instead, copying K and V.
  const forms = [keyedForm(tokens, 21, false), keyedForm(tokens, 22, false)].map(inOrder);
  const { tensors } = seededQkv({ tokens, heads: 2, headDim }, { seed: 6, quantized: false });
  const heads = uploadHeads(runtime, tensors, "f32");
  const inPlace = await AttentionProgram.create(runtime, forms, heads.inputs);
  const copied = await AttentionProgram.create(runtime, [
    forms[0],
    { ...forms[1], keyPermutation: forms[1].permutation!.slice() },
  ], heads.inputs);
  try {
    // With every key order the identity, K and V stay in place: two tensors' copies fewer.
    assert.ok(
      inPlace.memoryBytes <= copied.memoryBytes - 2 * 2 * tokens * headDim * 4,
      `${inPlace.memoryBytes} bytes in place, ${copied.memoryBytes} copied`,
    );
    inPlace.poisonOutputs();
    submitComputePass(runtime, (pass) => inPlace.encode(pass));
    await assertMatchesReference(inPlace, forms, tensors);
  } finally {
    inPlace.release();
    copied.release();
    heads.release();
  }
});

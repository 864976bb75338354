import assert from "node:assert/strict";
import fc from "fast-check";
import { GpuRuntime } from "../gpu/runtime.ts";
import { uploadHead } from "../gpu/upload_qkv.ts";
import {
  denseForm,
  denseMask,
  type ExecutionForm,
  FormBuilder,
  validateForm,
} from "../form/form.ts";
import { gpuGroupTest, lacksShaderF16, testNeeding } from "../tests/needs.ts";
import { runFormOnce } from "../tests/attention_fixtures.ts";
import { AttentionProgram } from "./attention.ts";
import { encodeWork } from "./attention_work.ts";
import { type AttentionTiling, type KernelMath, parseTiling } from "./attention_tiling.ts";
import { referenceAttention } from "./reference.ts";

const runtime = await GpuRuntime.open();

function randomTensor(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    out[i] = ((z ^ (z >>> 16)) >>> 0) / 2 ** 32 * 2 - 1;
  }
  return out;
}

/** Runs `form` on the GPU and returns the largest errors against the float64 reference. */
async function maxErrors(
  form: ExecutionForm,
  headDim: number,
  precision: "f32" | "f16",
  seed: number,
  tiling?: AttentionTiling,
  math?: KernelMath,
): Promise<{ out: number; lse: number }> {
  const L = form.tokens;
  const tensors = {
    q: randomTensor(L * headDim, seed).map((x) => x * 3),
    k: randomTensor(L * headDim, seed + 1),
    v: randomTensor(L * headDim, seed + 2),
  };
  const rounded = precision === "f16"
    ? {
      q: Float16Array.from(tensors.q),
      k: Float16Array.from(tensors.k),
      v: Float16Array.from(tensors.v),
    }
    : tensors;
  const { out, lse } = await runFormOnce(runtime, form, tensors, { precision, tiling, math });
  const mask = form.tokens * form.tokens <= 4e6 ? denseMask(form) : undefined;
  const ref = referenceAttention(rounded, { tokens: L, headDim, mask });
  let outErr = 0;
  let lseErr = 0;
  for (let i = 0; i < out.length; i++) {
    const scale = form.outputScale ? form.outputScale[Math.floor(i / headDim)] : 1;
    outErr = Math.max(outErr, Math.abs(out[i] - ref.out[i] * scale));
  }
  for (let i = 0; i < L; i++) {
    if (ref.lse[i] === -Infinity) assert.ok(lse[i] < -1e29, `row ${i} attends nothing`);
    else lseErr = Math.max(lseErr, Math.abs(lse[i] - ref.lse[i]));
  }
  assert.ok(!out.some(Number.isNaN), "every output row was written (poisoned with NaN before)");
  return { out: outErr, lse: lseErr };
}

// Tolerances: f32 accumulation over ≤ 1000 keys of |v| ≤ 1 gives ~1e-6 per element; f16
// storage rounds the inputs only (the reference uses the same rounded inputs).
const TOLERANCE = { f32: 2e-5, f16: 2e-4 } as const;

for (const headDim of [64, 128]) {
  for (const tokens of [1, 63, 65, 1000]) {
    Deno.test(`dense kernel = float64 reference (L=${tokens}, d=${headDim}, f32)`, async () => {
      const err = await maxErrors(denseForm(tokens), headDim, "f32", tokens * 7 + headDim);
      assert.ok(err.out < TOLERANCE.f32, `max |O − O_ref| = ${err.out}`);
      assert.ok(err.lse < TOLERANCE.f32 * 10, `max |lse − lse_ref| = ${err.lse}`);
    });
  }
}

testNeeding("shader-f16", lacksShaderF16(runtime.facts), {
  name: "dense kernel = float64 reference (L=65, d=128, f16 storage)",
  fn: async () => {
    const err = await maxErrors(denseForm(65), 128, "f16", 5);
    assert.ok(err.out < TOLERANCE.f16, `max |O − O_ref| = ${err.out}`);
  },
});

/** A random form: random tiles, random ranges, random row and token masks. */
function randomForm(tokens: number, seed: number): ExecutionForm {
  const r = randomTensor(4096, seed).map((x) => (x + 1) / 2);
  let n = 0;
  const next = () => r[n++ % r.length];
  const builder = new FormBuilder(tokens, 16);
  while (builder.tileStart < tokens) {
    const start = builder.tileStart;
    const end = Math.min(tokens, start + 1 + Math.floor(next() * 90));
    const rows = end - start;
    const cuts = [...new Set(Array.from({ length: 6 }, () => Math.floor(next() * (tokens + 1))))]
      .sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i += 2) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      const kind = Math.floor(next() * 3);
      if (kind === 0) builder.range(a, b);
      else if (kind === 1) {
        const words = Array.from({ length: Math.ceil(rows / 32) }, () => (next() * 2 ** 32) >>> 0);
        builder.range(a, b, { kind: 1, words });
      } else {
        const words = Array.from(
          { length: rows * Math.ceil((b - a) / 32) },
          () => (next() * 2 ** 32) >>> 0,
        );
        builder.range(a, b, { kind: 2, words });
      }
    }
    builder.endTile(end);
  }
  let perm: Uint32Array | null = null;
  if (next() < 0.5) {
    perm = Uint32Array.from({ length: tokens }, (_, i) => i);
    for (let i = tokens - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
  }
  const scale = next() < 0.5 ? Float32Array.from({ length: tokens }, () => 0.5 + next() / 2) : null;
  return validateForm(builder.build(perm, perm ? "random" : null, scale));
}

Deno.test("sparse kernel = float64 masked reference on random forms (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 1e6 }),
      async (tokens, seed) => {
        const form = randomForm(tokens, seed);
        const err = await maxErrors(form, 64, "f32", seed);
        assert.ok(err.lse < 2e-4, `lse error ${err.lse}`);
        assert.ok(err.out < TOLERANCE.f32, `output error ${err.out}`);
      },
    ),
    { numRuns: 12 },
  );
});

// The tile kernel at tilings that fit a software adapter's workgroup memory, on a random masked
// form and on a dense form that is not a tile multiple.
for (const name of ["64x16.s4x4.o8x8", "48x32.s4x4.o4x8"]) {
  Deno.test(`tiling ${name} = float64 reference on a random masked form (d=64)`, async () => {
    const tiling = parseTiling(name);
    const masked = await maxErrors(randomForm(293, 64), 64, "f32", 3, tiling);
    assert.ok(masked.out < TOLERANCE.f32 && masked.lse < 2e-4, `masked: ${JSON.stringify(masked)}`);
    const dense = await maxErrors(denseForm(301), 64, "f32", 4, tiling);
    assert.ok(dense.out < TOLERANCE.f32 && dense.lse < 2e-4, `dense: ${JSON.stringify(dense)}`);
  });
}

// The row-block kernel (rows a thread × head-dim slices, partial scores summed in workgroup
// memory; a trailing d double-buffers K/V) at small blocks that compile fast on a software
// adapter: masked, permuted and scaled forms, and a dense form that is not a multiple of blockQ
// or blockK.
for (
  const [name, headDim] of [
    ["rows32x8.r2s2", 64],
    ["rows16x4.r1s4", 128],
    ["rows24x4.r3s1", 64],
    ["rows32x8.r2s2d", 64],
    ["rows16x4.r1s1d", 128],
    // P·V mapped apart from Q·Kᵀ: two rows × four slices there, one row × two slices here.
    ["rows16x4.r1s2.p2s4", 128],
    ["rows16x4.r1s2d.p2s4", 64],
    ["rows16x4.r1s1.p2s2", 64],
    // A row group's slices in different warps (32 row groups a warp), also with P·V apart.
    ["rows64x4.r2s4w", 128],
    ["rows64x4.r1s2w", 128],
    ["rows64x4.r1s2w.p2s4", 64],
  ] as const
) {
  Deno.test(`row-block tiling ${name} = float64 reference (d=${headDim})`, async () => {
    const tiling = parseTiling(name);
    const masked = await maxErrors(randomForm(293, 5), headDim, "f32", 3, tiling);
    assert.ok(masked.out < TOLERANCE.f32 && masked.lse < 2e-4, `masked: ${JSON.stringify(masked)}`);
    const dense = await maxErrors(denseForm(301), headDim, "f32", 4, tiling);
    assert.ok(dense.out < TOLERANCE.f32 && dense.lse < 2e-4, `dense: ${JSON.stringify(dense)}`);
  });
}

// Tilings an H200 picks (the row kernel's 128×16; the tile kernel's largest f32 tile at d = 128,
// which needs 48 KiB of workgroup memory; the row-block kernel's f32 winners), masked and
// unmasked. In the GPU group (deno task test:gpu): llvmpipe needs minutes to compile the row
// kernel at these sizes.
for (
  const [name, headDim] of [
    ["rows128x16", 64],
    ["rows128x16", 128],
    ["48x32.s4x4.o8x8", 128],
    ["rows128x8.r2s2", 64],
    ["rows128x16.r1s2", 128],
    ["rows128x16.r1s2d", 128],
    ["rows128x16.r1s2.p4s8", 128],
    ["rows64x8.r2s4w", 128],
  ] as const
) {
  gpuGroupTest(runtime.facts, {
    name: `GPU tiling ${name} = float64 reference on a random masked form (d=${headDim})`,
    fn: async () => {
      const tiling = parseTiling(name);
      const masked = await maxErrors(randomForm(293, headDim), headDim, "f32", 3, tiling);
      assert.ok(
        masked.out < TOLERANCE.f32 && masked.lse < 2e-4,
        `masked: ${JSON.stringify(masked)}`,
      );
      const dense = await maxErrors(denseForm(301), headDim, "f32", 4, tiling);
      assert.ok(dense.out < TOLERANCE.f32 && dense.lse < 2e-4, `dense: ${JSON.stringify(dense)}`);
    },
  });
}

// f16 math: products in f16 (partial sums flushed to f32), statistics and outputs in f32; the
// reference uses the same f16-rounded inputs, so the error is the arithmetic's alone.
const F16_MATH_TOLERANCE = { out: 2e-3, lse: 5e-3 };
for (
  const [name, headDim] of [
    ["rows64x4", 128],
    ["64x16.s4x4.o8x8", 64],
    ["rows32x4.r2s4", 128],
    ["rows32x4.r2s4d", 128],
    // d = 192 in two slices: the default chunk (64 dims) does not divide a thread's 96.
    ["rows16x4.r1s2", 192],
  ] as const
) {
  testNeeding("shader-f16", lacksShaderF16(runtime.facts), {
    name:
      `f16 math, tiling ${name} = float64 reference within ${F16_MATH_TOLERANCE.out} (d=${headDim})`,
    fn: () => checkF16Math(parseTiling(name), headDim),
  });
}

/** f16 math at `tiling` against float64 on a dense form of 97 rows and a random masked one. */
async function checkF16Math(tiling: AttentionTiling, headDim: number): Promise<void> {
  const dense = await maxErrors(denseForm(97), headDim, "f16", 8, tiling, "f16");
  assert.ok(dense.out < F16_MATH_TOLERANCE.out, `dense: ${JSON.stringify(dense)}`);
  assert.ok(dense.lse < F16_MATH_TOLERANCE.lse, `dense: ${JSON.stringify(dense)}`);
  const masked = await maxErrors(randomForm(150, 9), headDim, "f16", 9, tiling, "f16");
  assert.ok(masked.out < F16_MATH_TOLERANCE.out, `masked: ${JSON.stringify(masked)}`);
}

// The f16-math tilings an H200 picks (8-half units in the row-block ones; the row kernel), in
// the GPU group.
for (
  const [name, headDim] of [
    ["rows128x8.r2s2d", 128],
    ["rows128x16.r1s2", 128],
    ["rows128x16", 64],
  ] as const
) {
  gpuGroupTest(runtime.facts, {
    name: `GPU f16 math, tiling ${name} = float64 reference (d=${headDim}; needs shader-f16)`,
    ignore: lacksShaderF16(runtime.facts) !== null,
    fn: () => checkF16Math(parseTiling(name), headDim),
  });
}

Deno.test("a tiling the device cannot run is refused with the reason", async () => {
  const buffers = uploadHead(
    runtime,
    {
      q: new Float32Array(64 * 64),
      k: new Float32Array(64 * 64),
      v: new Float32Array(64 * 64),
    },
    "f32",
    0,
  );
  const inputs = { precision: "f32" as const, q: [buffers.q], k: [buffers.k], v: [buffers.v] };
  await assert.rejects(
    AttentionProgram.create(runtime, [denseForm(64)], inputs, {
      tiling: parseTiling("64x32.s4x8.o8x8"),
    }),
    /score grid \(64 threads\) and output grid \(128\)|workgroup memory/,
  );
  runtime.release([buffers.q, buffers.k, buffers.v]);
});

Deno.test("a long sub-tile is split across workgroups and merged by log-sum-exp (split-KV)", async () => {
  const tokens = 9000;
  const headDim = 64;
  const builder = new FormBuilder(tokens, 64);
  // Tile 0: 64 rows attending every key in three ranges, one of them row-masked.
  const rowMask = { kind: 1 as const, words: [0xaaaaaaaa, 0xffff0000] };
  builder.range(0, 3000).range(3000, 7000, rowMask).range(7000, tokens).endTile(64);
  while (builder.tileStart < tokens) {
    const start = builder.tileStart;
    const end = Math.min(tokens, start + 64);
    builder.range(Math.max(0, start - 64), Math.min(tokens, start + 64)).endTile(end);
  }
  const perm = Uint32Array.from({ length: tokens }, (_, i) => (i * 7919) % tokens);
  const form = validateForm(builder.build(perm, "stride"));
  const work = encodeWork(form, 64);
  assert.ok(work.slots >= 2, `tile 0 was split (${work.slots} parts)`);
  assert.equal(work.merges.length / 4, 1);
  const tensors = {
    q: randomTensor(tokens * headDim, 11).map((x) => x * 3),
    k: randomTensor(tokens * headDim, 12),
    v: randomTensor(tokens * headDim, 13),
  };
  const { out, lse } = await runFormOnce(runtime, form, tensors, { precision: "f32" });
  // Rows of tile 0 (original tokens perm[0..63]) against the masked float64 reference.
  const rows = Array.from(perm.subarray(0, 64));
  const mask = new Uint8Array(tokens * tokens);
  for (let p = 0; p < 64; p++) {
    for (let k = 0; k < tokens; k++) {
      const masked = k >= 3000 && k < 7000 && ((rowMask.words[p >>> 5] >>> (p & 31)) & 1) === 0;
      if (!masked) mask[perm[p] * tokens + perm[k]] = 1;
    }
  }
  const ref = referenceAttention(tensors, { tokens, headDim, mask, rows });
  let outErr = 0;
  let lseErr = 0;
  for (const row of rows) {
    lseErr = Math.max(lseErr, Math.abs(lse[row] - ref.lse[row]));
    for (let c = 0; c < headDim; c++) {
      outErr = Math.max(outErr, Math.abs(out[row * headDim + c] - ref.out[row * headDim + c]));
    }
  }
  assert.ok(!lse.some(Number.isNaN), "every row written");
  assert.ok(outErr < 2e-5, `output error ${outErr}`);
  assert.ok(lseErr < 2e-4, `lse error ${lseErr}`);
});

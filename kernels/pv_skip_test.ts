import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import { type ExecutionForm, FormBuilder, validateForm } from "../form/form.ts";
import { runFormOnce } from "../tests/attention_fixtures.ts";
import { parseTiling } from "./attention_tiling.ts";
import { encodeWork } from "./attention_work.ts";

const runtime = await GpuRuntime.open();

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Tiles of 40 rows over L = 203 tokens, each walking blocks of 24 keys (the last one shorter)
 * in a shuffled order, so a row's running maximum grows step by step.
 */
function shuffledBlockForm(tokens: number, threshold: number | null, seed: number): ExecutionForm {
  const next = random(seed);
  const builder = new FormBuilder(tokens, 24);
  for (let start = 0; start < tokens; start += 40) {
    const blocks = Array.from({ length: Math.ceil(tokens / 24) }, (_, b) => b);
    for (let i = blocks.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
    }
    for (const b of blocks.slice(0, 6)) builder.range(b * 24, Math.min(tokens, b * 24 + 24));
    builder.endTile(Math.min(tokens, start + 40));
  }
  return validateForm({ ...builder.build(), pvSkipThreshold: threshold });
}

/**
 * Float64 attention that applies the PV-skip rule from its definition: per row, the ranges in
 * form order, each in steps of `step` keys from its start; a step whose largest base-2 score is
 * more than `threshold` below the running maximum of the earlier steps adds nothing.
 */
function skippingReference(
  form: ExecutionForm,
  tensors: { q: Float32Array; k: Float32Array; v: Float32Array },
  run: { headDim: number; step: number; threshold: number },
): { out: Float64Array; skipped: number; steps: number } {
  const { headDim: d, step, threshold } = run;
  const out = new Float64Array(form.tokens * d);
  const scale = Math.LOG2E / Math.sqrt(d);
  let skipped = 0;
  let steps = 0;
  for (let t = 0; t + 1 < form.tileBounds.length; t++) {
    for (let row = form.tileBounds[t]; row < form.tileBounds[t + 1]; row++) {
      let max = -Infinity;
      let sum = 0;
      const acc = new Float64Array(d);
      for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
        for (let k0 = form.rangeStarts[r]; k0 < form.rangeEnds[r]; k0 += step) {
          const k1 = Math.min(form.rangeEnds[r], k0 + step);
          const scores: number[] = [];
          for (let key = k0; key < k1; key++) {
            let dot = 0;
            for (let c = 0; c < d; c++) dot += tensors.q[row * d + c] * tensors.k[key * d + c];
            scores.push(dot * scale);
          }
          const stepMax = Math.max(...scores);
          steps++;
          if (stepMax - max < -threshold) {
            skipped++;
            continue;
          }
          const newMax = Math.max(max, stepMax);
          const rescale = 2 ** (max - newMax);
          sum *= rescale;
          for (let c = 0; c < d; c++) acc[c] *= rescale;
          scores.forEach((s, i) => {
            const p = 2 ** (s - newMax);
            sum += p;
            for (let c = 0; c < d; c++) acc[c] += p * tensors.v[(k0 + i) * d + c];
          });
          max = newMax;
        }
      }
      for (let c = 0; c < d; c++) out[row * d + c] = acc[c] / sum;
    }
  }
  return { out, skipped, steps };
}

/** Q, K, V whose key blocks have very different magnitudes, so some steps fall far behind. */
function skewedTensors(tokens: number, headDim: number, seed: number) {
  const next = random(seed);
  const q = Float32Array.from({ length: tokens * headDim }, () => (next() * 2 - 1) * 3);
  const k = new Float32Array(tokens * headDim);
  for (let key = 0; key < tokens; key++) {
    const amplitude = [0.2, 1, 3][Math.floor(key / 24) % 3];
    for (let c = 0; c < headDim; c++) k[key * headDim + c] = (next() * 2 - 1) * amplitude;
  }
  const v = Float32Array.from({ length: tokens * headDim }, () => next() * 2 - 1);
  return { q, k, v };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const TOKENS = 203;
const HEAD_DIM = 64;
const THRESHOLD = 3;

for (const name of ["rows64x16", "32x32.s4x4.o4x8", "rows32x8.r2s2", "rows32x4.r1s4"]) {
  Deno.test(`PV skip (${name}) = float64 reference applying the same rule`, async () => {
    const tiling = parseTiling(name);
    const tensors = skewedTensors(TOKENS, HEAD_DIM, 11);
    const form = shuffledBlockForm(TOKENS, THRESHOLD, 5);
    const { out } = await runFormOnce(runtime, form, tensors, { precision: "f32", tiling });
    const run = { headDim: HEAD_DIM, step: tiling.blockK, threshold: THRESHOLD };
    const withSkip = skippingReference(form, tensors, run);
    const without = skippingReference(form, tensors, { ...run, threshold: Infinity });
    assert.ok(withSkip.skipped > 0, "the inputs make some steps skip");
    assert.ok(
      maxDifference(withSkip.out, without.out) > 1e-4,
      "skipping changes the output beyond the tolerance (the test can tell them apart)",
    );
    const err = maxDifference(out, withSkip.out);
    assert.ok(err < 2e-5, `max |O − O_ref(skip)| = ${err}`);
  });
}

Deno.test("PV skip with a huge threshold = plain attention of the form", async () => {
  const tiling = parseTiling("rows64x16");
  const tensors = skewedTensors(TOKENS, HEAD_DIM, 12);
  const form = shuffledBlockForm(TOKENS, 1e6, 6);
  const { out } = await runFormOnce(runtime, form, tensors, { precision: "f32", tiling });
  const plain = skippingReference(form, tensors, {
    headDim: HEAD_DIM,
    step: tiling.blockK,
    threshold: Infinity,
  });
  assert.ok(maxDifference(out, plain.out) < 2e-5);
});

Deno.test("a form with a PV-skip threshold is never split (split-KV restarts the row max)", () => {
  const builder = new FormBuilder(20000, 64);
  builder.range(0, 20000).endTile(64);
  for (let start = 64; start < 20000; start += 64) {
    builder.range(start, start + 64 > 20000 ? 20000 : start + 64).endTile(
      Math.min(20000, start + 64),
    );
  }
  const form = builder.build();
  assert.ok(encodeWork(form, 64).slots > 0, "without a threshold the long tile is split");
  assert.equal(encodeWork({ ...form, pvSkipThreshold: 50 }, 64).slots, 0);
});

Deno.test("validateForm rejects a negative or non-finite PV-skip threshold", () => {
  const form = shuffledBlockForm(50, null, 1);
  assert.throws(
    () => validateForm({ ...form, pvSkipThreshold: -1 }),
    /pvSkipThreshold must be null or a finite number ≥ 0 \(got -1\)/,
  );
  assert.throws(() => validateForm({ ...form, pvSkipThreshold: NaN }), /pvSkipThreshold/);
  validateForm({ ...form, pvSkipThreshold: 0 });
});

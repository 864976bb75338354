import { deepEqual, ok, throws } from "node:assert/strict";
import { denseForm, denseMask, type ExecutionForm, FormBuilder } from "../form/form.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { Prng } from "../scenarios/prng.ts";
import { crossShotMassOf } from "../tests/cross_shot_mass.ts";
import { crossShotRecall, outputQuality, recallFromLse, sampleQueries } from "./quality.ts";

function assertClose(actual: number | null, expected: number, tolerance = 1e-9): void {
  ok(actual !== null, `expected ${expected}, got null`);
  ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
}

function randomArray(length: number, seed: number): Float32Array {
  const prng = new Prng(seed, 0, 0);
  return Float32Array.from({ length }, () => prng.between(-1, 1));
}

/** Float64 log-sum-exp of every query over the keys `form` attends (the test's own reference). */
function referenceLse(q: Float32Array, k: Float32Array, d: number, form: ExecutionForm) {
  const tokens = form.tokens;
  const mask = denseMask(form);
  const lse = new Float32Array(tokens);
  for (let i = 0; i < tokens; i++) {
    let sum = 0;
    for (let j = 0; j < tokens; j++) {
      if (!mask[i * tokens + j]) continue;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[i * d + c] * k[j * d + c];
      sum += Math.exp(dot / Math.sqrt(d));
    }
    lse[i] = Math.log(sum);
  }
  return lse;
}

Deno.test("identical outputs: relL2 0, cosine 1, PSNR null (infinite)", () => {
  const dense = [randomArray(64 * 8, 1), randomArray(64 * 8, 2)];
  const method = dense.map((head) => Float32Array.from(head));
  deepEqual(outputQuality(method, dense, 8), { relL2: 0, cosine: 1, psnrDb: null });
  // One changed value of the method's second head must show in every figure.
  method[1][5] += 1;
  const changed = outputQuality(method, dense, 8);
  ok(changed.relL2! > 0 && changed.cosine! < 1 && changed.psnrDb !== null);
});

Deno.test("a zero output against [3, 4]: relL2 1, cosine 0, PSNR from the peak 4", () => {
  const quality = outputQuality([new Float32Array(2)], [new Float32Array([3, 4])], 2);
  assertClose(quality.relL2, 1);
  assertClose(quality.cosine, 0);
  assertClose(quality.psnrDb, 20 * Math.log10(4 / Math.sqrt(12.5)));
});

Deno.test("cosine is the mean over rows and heads: opposite row −1, equal row 1", () => {
  const dense = [new Float32Array([1, 0]), new Float32Array([0, 2])];
  const method = [new Float32Array([-1, 0]), new Float32Array([0, 5])];
  assertClose(outputQuality(method, dense, 2).cosine, 0);
  assertClose(outputQuality([dense[0]], [dense[0]], 2).cosine, 1);
});

Deno.test("outputQuality rejects mismatched heads and lengths, naming the field", () => {
  throws(() => outputQuality([], [new Float32Array(2)], 2), /method must hold/);
  throws(
    () => outputQuality([new Float32Array(4)], [new Float32Array(2)], 2),
    /head 0: method and dense/,
  );
});

Deno.test("recall: identical log-sum-exps keep all the mass", () => {
  const d = 4;
  const tokens = 16;
  const q = randomArray(tokens * d, 3);
  const k = randomArray(tokens * d, 4);
  const denseLse = referenceLse(q, k, d, denseForm(tokens));
  const methodLse = referenceLse(q, k, d, denseForm(tokens));
  deepEqual(recallFromLse([methodLse], [denseLse], sampleQueries(tokens)), 1);
  // A method log-sum-exp lower by ln 4 on every query keeps a quarter of the mass.
  const quarter = methodLse.map((x) => x - Math.log(4));
  assertClose(recallFromLse([quarter], [denseLse], sampleQueries(tokens)), 0.25, 1e-6);
});

Deno.test("recall: dropping one key of each equal-score pair keeps exactly half", () => {
  const d = 4;
  const tokens = 4;
  const q = randomArray(tokens * d, 5);
  const pairA = randomArray(d, 6);
  const pairB = randomArray(d, 7);
  const k = new Float32Array([...pairA, ...pairA, ...pairB, ...pairB]);
  const keepsFirstOfEachPair = new FormBuilder(tokens, 2).range(0, 1).range(2, 3).endTile(tokens)
    .build();
  const methodLse = referenceLse(q, k, d, keepsFirstOfEachPair);
  const denseLse = referenceLse(q, k, d, denseForm(tokens));
  assertClose(recallFromLse([methodLse], [denseLse], sampleQueries(tokens)), 0.5, 1e-6);
});

Deno.test("recall rejects an empty sample and a query outside the sequence", () => {
  const lse = [new Float32Array(4)];
  throws(() => recallFromLse(lse, lse, new Int32Array(0)), /sample must hold/);
  throws(() => recallFromLse(lse, lse, new Int32Array([4])), /sample query 4/);
});

Deno.test("sampleQueries: distinct, ascending, seeded, inside the sequence", () => {
  const sample = sampleQueries(10_000, { count: 1024, seed: 9 });
  deepEqual(sample.length, 1024);
  for (let i = 1; i < sample.length; i++) ok(sample[i] > sample[i - 1]);
  ok(sample[0] >= 0 && sample[sample.length - 1] < 10_000);
  deepEqual(sample, sampleQueries(10_000, { count: 1024, seed: 9 }));
  ok(sample.some((v, i) => v !== sampleQueries(10_000, { count: 1024, seed: 10 })[i]));
  deepEqual([...sampleQueries(5)], [0, 1, 2, 3, 4]);
});

/** Three frames of two tokens (shots [1, 2]) and one text token, head dim 2. */
const twoShots: Scenario = {
  name: "two-shots",
  latent: [3, 1, 2],
  text: { tokens: 1, position: "suffix" },
  shots: [1, 2],
  textSegments: [1],
  heads: 1,
  headDim: 2,
  modelType: "hunyuan",
};

Deno.test("cross-shot mass: a method keeping the key with e^s = 3 of two earlier keys keeps 3/4", () => {
  const tokens = 7;
  const a = Math.SQRT2 * Math.log(3); // score a/√2 = ln 3 on key 0, 0 on every other key
  const q = new Float32Array(tokens * 2);
  for (let t = 0; t < tokens; t++) q[t * 2] = a;
  const k = new Float32Array(tokens * 2);
  k[0] = 1;
  const dropsKey1 = new FormBuilder(tokens, 2).range(0, 1).range(2, tokens).endTile(tokens).build();
  const mass = crossShotMassOf(twoShots, { q, k, form: dropsKey1 });
  deepEqual(mass.queries, 4);
  assertClose(mass.earlier, 4 * 4 / 9, 1e-6);
  assertClose(mass.kept, 4 * 3 / 9, 1e-6);
  assertClose(crossShotRecall([mass]), 0.75, 1e-6);
  const dense = crossShotMassOf(twoShots, { q, k, form: denseForm(tokens) });
  assertClose(crossShotRecall([dense]), 1);
});

Deno.test("cross-shot mass: a single shot has no earlier mass, so the recall is null", () => {
  const single = { ...twoShots, shots: [3] };
  const q = randomArray(14, 11);
  const mass = crossShotMassOf(single, { q, k: q, form: denseForm(7) });
  deepEqual(mass, { queries: 0, kept: 0, earlier: 0 });
  deepEqual(crossShotRecall([mass]), null);
});

Deno.test("cross-shot rows and kept mass reject tensors and forms of the wrong size", () => {
  const q = new Float32Array(14);
  throws(
    () => crossShotMassOf(twoShots, { q: new Float32Array(12), k: q, form: denseForm(7) }),
    /q and k must be \[7, 2\]/,
  );
  throws(
    () => crossShotMassOf(twoShots, { q, k: q, form: denseForm(6) }),
    /form.tokens must be 7/,
  );
});

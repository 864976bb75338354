import { deepEqual, equal, ok } from "node:assert/strict";
import { headQualities, methodQuality, type QualityInputs } from "./quality_pass.ts";
import { denseForm, FormBuilder } from "../form/form.ts";
import { crossShotRecall } from "../metrics/quality.ts";
import { crossShotMassOf } from "../tests/cross_shot_mass.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import type { Scenario } from "../scenarios/scenario.ts";

const scenario: Scenario = {
  name: "two-heads",
  latent: [2, 2, 2],
  text: { tokens: 0, position: "none" },
  shots: [2],
  textSegments: [0],
  heads: 2,
  headDim: 2,
  modelType: "wan",
};

/** Rows [8 tokens, d = 2] filled from a formula (no code under test involved). */
function rows(f: (token: number, column: number) => number): Float32Array {
  return Float32Array.from({ length: 16 }, (_, i) => f(Math.floor(i / 2), i % 2));
}

function inputs(): QualityInputs {
  const tensors = [0, 1].map((h) => ({
    q: rows((t, c) => t + c + h),
    k: rows((t, c) => t - c),
    v: rows((t, c) => t * c),
  }));
  return {
    scenario,
    heads: 2,
    tensors,
    seed: 3,
    dense: { out: [rows(() => 1), rows(() => 2)], lse: [new Float32Array(8), new Float32Array(8)] },
  };
}

Deno.test("headQualities: each head's relL2 and recall over that head alone", () => {
  const quality = inputs();
  // Head 0 off by 0.1 in every value (relL2 0.1), head 1 exact; recall exp(-0.5) and 1.
  const outputs = {
    out: [rows(() => 1.1), rows(() => 2)],
    lse: [new Float32Array(8).fill(-0.5), new Float32Array(8)],
  };
  const forms = [denseForm(8)];
  const [head0, head1] = headQualities(quality, outputs, forms);
  ok(Math.abs(head0.relL2! - 0.1) < 1e-6, `head 0 relL2 ${head0.relL2}`);
  ok(Math.abs(head0.recall! - Math.exp(-0.5)) < 1e-6, `head 0 recall ${head0.recall}`);
  equal(head1.relL2, 0);
  equal(head1.recall, 1);
  // Recall over both heads is the mean of the heads' recalls (the same sampled queries).
  const all = methodQuality(quality, outputs, forms);
  ok(Math.abs(all.recall! - (head0.recall! + head1.recall!) / 2) < 1e-12);
});

Deno.test("headQualities without a dense reference says so on every head", () => {
  const quality = { ...inputs(), dense: null };
  const outputs = {
    out: [rows(() => 1), rows(() => 1)],
    lse: [new Float32Array(8), new Float32Array(8)],
  };
  deepEqual(
    headQualities(quality, outputs, [denseForm(8)]).map((q) => [q.recall, q.note]),
    [[null, "dense reference did not run"], [null, "dense reference did not run"]],
  );
});

Deno.test("methodQuality scores every case on each head's own cross-shot rows", () => {
  // Two shots of one 12×12 frame: 144 candidate queries, more than the 128 sampled, so which
  // queries a head samples depends on its seed (seed + head).
  const twoShots: Scenario = { ...scenario, latent: [2, 12, 12], shots: [1, 1], headDim: 4 };
  const tokens = 288;
  const { tensors } = seededQkv({ tokens, heads: 2, headDim: 4 }, { seed: 8, quantized: false });
  const zeros = () => new Float32Array(tokens * 4);
  const quality: QualityInputs = {
    scenario: twoShots,
    heads: 2,
    tensors,
    seed: 3,
    dense: { out: [zeros(), zeros()], lse: [new Float32Array(tokens), new Float32Array(tokens)] },
  };
  const outputs = { out: quality.dense!.out, lse: quality.dense!.lse };
  // Each keeps a different part of shot 0 (keys 0–143) for every query.
  const keeps = (start: number, end: number) =>
    new FormBuilder(tokens, 8).range(start, end).range(144, tokens).endTile(tokens).build();
  for (const form of [keeps(0, 40), keeps(100, 144), keeps(0, 40)]) {
    const expected = crossShotRecall(
      [0, 1].map((h) =>
        crossShotMassOf(twoShots, { ...tensors[h], form }, { samples: 128, seed: 3 + h })
      ),
    );
    const both = methodQuality(quality, outputs, [form]).crossShotRecall!;
    ok(Math.abs(both - expected!) < 1e-6, `crossShotRecall ${both}, recomputed ${expected}`);
    const [head1] = headQualities(quality, outputs, [form]).slice(1);
    const alone = crossShotRecall([
      crossShotMassOf(twoShots, { ...tensors[1], form }, { samples: 128, seed: 4 }),
    ]);
    ok(Math.abs(head1.crossShotRecall! - alone!) < 1e-6, `head 1 ${head1.crossShotRecall}`);
  }
  equal(quality.crossShotRows?.length, 2);
});

import { deepEqual, equal, ok } from "node:assert/strict";
import { headQualities, methodQuality, type QualityInputs } from "./quality_pass.ts";
import { denseForm, FormBuilder } from "../form/form.ts";
import { crossShotMass, crossShotRecall } from "../metrics/quality.ts";
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
  // Two shots of one frame (4 tokens each); the heads' queries differ, so their rows differ.
  const twoShots = { ...scenario, shots: [1, 1] };
  const quality = { ...inputs(), scenario: twoShots };
  const outputs = { out: [rows(() => 1), rows(() => 2)], lse: quality.dense!.lse };
  // Keeps only the first key of shot 1 for every query, then only the last.
  const first = new FormBuilder(8, 8).range(0, 1).range(4, 8).endTile(8).build();
  const last = new FormBuilder(8, 8).range(3, 8).endTile(8).build();
  for (const form of [first, last, first]) {
    const expected = crossShotRecall(
      [0, 1].map((h) =>
        crossShotMass(twoShots, { ...quality.tensors[h], form }, { samples: 128, seed: 3 + h })
      ),
    );
    const both = methodQuality(quality, outputs, [form]).crossShotRecall!;
    ok(Math.abs(both - expected!) < 1e-6, `crossShotRecall ${both}, recomputed ${expected}`);
    const [head1] = headQualities(quality, outputs, [form]).slice(1);
    const alone = crossShotRecall([
      crossShotMass(twoShots, { ...quality.tensors[1], form }, { samples: 128, seed: 4 }),
    ]);
    ok(Math.abs(head1.crossShotRecall! - alone!) < 1e-6, `head 1 ${head1.crossShotRecall}`);
  }
  equal(quality.crossShotRows?.length, 2);
});

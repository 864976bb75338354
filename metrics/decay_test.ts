import { deepEqual, equal, notDeepEqual, ok, throws } from "node:assert/strict";
import type { Scenario } from "../scenarios/scenario.ts";
import { attentionDecay, type DecayPoint } from "./decay.ts";

function scenarioOf(latent: [number, number, number], shots: number[], text = 0): Scenario {
  return {
    name: "hand-made",
    latent,
    text: { tokens: text, position: text > 0 ? "suffix" : "none" },
    shots,
    textSegments: [text],
    heads: 1,
    headDim: 2,
    modelType: "hunyuan",
  };
}

function assertCurve(actual: DecayPoint[], expected: DecayPoint[]): void {
  deepEqual(actual.map((p) => p.distance), expected.map((p) => p.distance));
  actual.forEach((p, i) => {
    ok(Math.abs(p.mass - expected[i].mass) < 1e-6, `distance ${p.distance}: ${p.mass}`);
  });
}

/** Two frames: queries and keys of frame 0 point along x, of frame 1 along y (score ln 3 or 0). */
function twoFrameHead(perFrame: number) {
  const a = Math.SQRT2 * Math.log(3);
  const q = new Float32Array(4 * perFrame);
  const k = new Float32Array(4 * perFrame);
  for (let t = 0; t < 2 * perFrame; t++) {
    const axis = t < perFrame ? 0 : 1;
    q[t * 2 + axis] = a;
    k[t * 2 + axis] = 1;
  }
  return { q, k };
}

Deno.test("uniform attention gives mass 1 at every distance, text in the denominator", () => {
  const scenario = scenarioOf([3, 2, 3], [3], 4);
  const zeros = new Float32Array((18 + 4) * 2);
  const decay = attentionDecay(scenario, { q: zeros, k: zeros });
  equal(decay.queries, 18);
  assertCurve(decay.temporal, [0, 1, 2].map((distance) => ({ distance, mass: 1 })));
  assertCurve(decay.spatial, [0, 1, 2].map((distance) => ({ distance, mass: 1 })));
  equal(decay.earlierShotMass, undefined);
});

Deno.test("own frame three times as likely as the other: temporal 1.5 then 0.5", () => {
  const decay = attentionDecay(scenarioOf([2, 2, 2], [2]), twoFrameHead(4));
  assertCurve(decay.temporal, [{ distance: 0, mass: 1.5 }, { distance: 1, mass: 0.5 }]);
  assertCurve(decay.spatial, [0, 1].map((distance) => ({ distance, mass: 1.5 })));
});

Deno.test("spatial buckets: one key three times as likely, seen from each column", () => {
  const a = Math.SQRT2 * Math.log(3);
  const q = new Float32Array([a, 0, a, 0, a, 0]);
  const k = new Float32Array([1, 0, 0, 0, 0, 0]);
  const decay = attentionDecay(scenarioOf([1, 1, 3], [1]), { q, k });
  assertCurve(decay.spatial, [
    { distance: 0, mass: 1.0 },
    { distance: 1, mass: 0.8 },
    { distance: 2, mass: 1.2 },
  ]);
});

Deno.test("multi-shot: earlier-shot mass and its uniform share", () => {
  const decay = attentionDecay(scenarioOf([2, 2, 2], [1, 1]), twoFrameHead(4));
  ok(Math.abs((decay.earlierShotMass ?? NaN) - 0.25) < 1e-6);
  ok(Math.abs((decay.earlierShotKeyShare ?? NaN) - 0.5) < 1e-6);
});

Deno.test("samples bound the work and are seeded", () => {
  const scenario = scenarioOf([4, 4, 4], [4]);
  const head = {
    q: new Float32Array(128).map((_, i) => Math.sin(i)),
    k: new Float32Array(128).map((_, i) => Math.cos(3 * i)),
  };
  const decay = attentionDecay(scenario, head, { samples: 5, seed: 2 });
  equal(decay.queries, 5);
  deepEqual(decay, attentionDecay(scenario, head, { samples: 5, seed: 2 }));
  // Non-zero keys make the curve depend on which queries were sampled, so the seed must show.
  notDeepEqual(decay.temporal, attentionDecay(scenario, head, { samples: 5, seed: 3 }).temporal);
});

Deno.test("attentionDecay rejects tensors of the wrong size, naming the shape", () => {
  const q = new Float32Array(6);
  throws(() => attentionDecay(scenarioOf([2, 2, 2], [2]), { q, k: q }), /q and k must be \[8, 2\]/);
});

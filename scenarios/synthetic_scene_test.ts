import { deepEqual, ok } from "node:assert/strict";
import { preset } from "./presets.ts";
import type { Scenario } from "./scenario.ts";
import { castSubjects, planSyntheticScene, subjectWeight } from "./synthetic_scene.ts";

Deno.test("casting: three subjects in one shot; recurring subjects and a protagonist otherwise", () => {
  deepEqual(castSubjects(1), [[0, 1, 2]]);
  deepEqual(castSubjects(3), [[0, 2], [1, 2], [0, 2]]);
  const eight = castSubjects(8);
  deepEqual(eight.map((s) => s[0]), [0, 1, 2, 3, 0, 1, 2, 3]);
  ok(eight.every((s) => s[1] === 4));
});

Deno.test("every blob peaks inside the canvas in every frame and weights stay in (0, 1]", () => {
  const scenario = preset("moc-multi-shot", "ci");
  const [frames, rows, columns] = scenario.latent;
  const scene = planSyntheticScene(scenario, 9);
  for (let t = 0; t < frames; t++) {
    for (let slot = 0; slot < scene.slots; slot++) {
      let peak = 0;
      for (let h = 0; h < rows; h++) {
        for (let w = 0; w < columns; w++) {
          const weight = subjectWeight(scene, scenario, slot, [t, h, w]);
          ok(weight > 0 && weight <= 1);
          peak = Math.max(peak, weight);
        }
      }
      ok(peak > 0.5, `frame ${t} slot ${slot}: peak ${peak}`);
    }
  }
});

Deno.test("blobs move smoothly: centres shift by under a patch a frame within a shot", () => {
  const scenario = preset("hunyuan-117f-768x1280", "full");
  const [frames, rows] = scenario.latent;
  const scene = planSyntheticScene(scenario, 3);
  const centreRow = (t: number, slot: number) => {
    const weights = scene.rowWeights.subarray(
      (t * scene.slots + slot) * rows,
      (t * scene.slots + slot + 1) * rows,
    );
    return weights.indexOf(Math.max(...weights));
  };
  for (let slot = 0; slot < scene.slots; slot++) {
    for (let t = 1; t < frames; t++) ok(Math.abs(centreRow(t, slot) - centreRow(t - 1, slot)) <= 1);
  }
});

Deno.test("prompt segments name only the subjects of their shot, about half the tokens", () => {
  const scenario: Scenario = preset("moga-minute-480p", "ci");
  const scene = planSyntheticScene(scenario, 1);
  let named = 0;
  for (let i = 0; i < scene.textSubject.length; i++) {
    const shot = scene.textShot[i];
    const subject = scene.textSubject[i];
    ok(shot >= 0);
    if (subject < 0) continue;
    named++;
    ok(scene.shotSubjects[shot].includes(subject));
  }
  const share = named / scene.textSubject.length;
  ok(share > 0.3 && share < 0.7, `named share ${share}`);
  const single = planSyntheticScene({ ...scenario, textSegments: [96] }, 1);
  ok(single.textShot.every((shot) => shot === -1));
});

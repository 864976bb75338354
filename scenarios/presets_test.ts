import { deepEqual, ok, throws } from "node:assert/strict";
import { preset, PRESET_SIZES, presetNames, PRESETS, SWEEP_FACTORS } from "./presets.ts";
import { ScenarioError, textTokens, totalTokens, videoTokens } from "./scenario.ts";

/** Video tokens of every preset that docs/scenarios.md's table gives exactly. */
const TABLE_VIDEO_TOKENS: Record<string, number> = {
  "hunyuan-117f-768x1280": 115_200,
  "hunyuan-117f-720x1280": 108_000,
  "wan-81f-720x1280": 75_600,
  "wan-69f-768x1280": 69_120,
  "mochi-163f-480x848": 44_520,
};

function denseFlopsOneHead(tokens: number): number {
  return 4 * tokens * tokens * 128;
}

Deno.test("every preset resolves and validates at both sizes, with a source", () => {
  for (const name of presetNames()) {
    for (const size of PRESET_SIZES) {
      const scenario = preset(name, size);
      deepEqual(scenario.name, name);
      deepEqual(typeof scenario.source, "string");
      ok(scenario.source!.length > 40, `${name} ${size} source`);
    }
  }
  deepEqual(PRESETS.map((p) => p.name), presetNames());
});

Deno.test("full presets match the token counts of docs/scenarios.md's table", () => {
  for (const [name, tokens] of Object.entries(TABLE_VIDEO_TOKENS)) {
    deepEqual(videoTokens(preset(name, "full")), tokens, name);
  }
  deepEqual(textTokens(preset("hunyuan-117f-768x1280", "full")), 256);
  deepEqual(textTokens(preset("mochi-163f-480x848", "full")), 256);
  deepEqual(textTokens(preset("wan-81f-720x1280", "full")), 0);
  deepEqual(preset("wan-69f-768x1280", "full").heads, 40);
  deepEqual(preset("hunyuan-117f-720x1280", "full").heads, 24);
});

Deno.test("MoC presets reproduce the paper's dense FLOPs (one head, d = 128)", () => {
  const single = preset("moc-single-shot", "full");
  deepEqual(videoTokens(single), 25 * 12 * 20);
  const singleRatio = denseFlopsOneHead(totalTokens(single)) / 1.9e10;
  ok(Math.abs(singleRatio - 1) < 0.05, `single-shot ratio ${singleRatio}`);
  const multi = preset("moc-multi-shot", "full");
  deepEqual(multi.shots.length, 8);
  deepEqual(multi.textSegments.length, 8);
  ok(Math.abs(totalTokens(multi) / 180_067 - 1) < 0.03);
  const multiRatio = denseFlopsOneHead(totalTokens(multi)) / 1.66e13;
  ok(Math.abs(multiRatio - 1) < 0.1, `multi-shot ratio ${multiRatio}`);
});

Deno.test("moga-minute-480p is 361×30×52 latents in 12 shots with a prompt segment a shot", () => {
  const moga = preset("moga-minute-480p", "full");
  deepEqual(moga.latent, [361, 30, 52]);
  deepEqual(videoTokens(moga), 563_160);
  deepEqual(moga.shots.length, 12);
  deepEqual(moga.textSegments.length, 12);
});

Deno.test("ci presets keep the structure and stay small", () => {
  for (const name of presetNames()) {
    const full = preset(name, "full");
    const ci = preset(name, "ci");
    ok(totalTokens(ci) <= 2_048, `${name}: ${totalTokens(ci)} tokens`);
    deepEqual([ci.heads, ci.headDim], [2, 64], name);
    deepEqual(ci.text.position, full.text.position, name);
    deepEqual(ci.shots.length, full.shots.length, name);
    deepEqual(ci.textSegments.length, full.textSegments.length, name);
    deepEqual(ci.modelType, full.modelType, name);
  }
});

Deno.test("hunyuan and wan ci canvases and two full canvases divide into STA tiles (6, 8, 8)", () => {
  const aligned = (latent: number[]) =>
    latent[0] % 6 === 0 && latent[1] % 8 === 0 && latent[2] % 8 === 0;
  for (const name of presetNames().filter((n) => /^(hunyuan|wan)-/.test(n))) {
    ok(aligned(preset(name, "ci").latent), name);
  }
  ok(aligned(preset("hunyuan-117f-768x1280", "full").latent));
  ok(aligned(preset("wan-69f-768x1280", "full").latent));
  deepEqual(aligned(preset("mochi-163f-480x848", "full").latent), false);
});

Deno.test("length sweeps multiply frames and every shot", () => {
  for (const factor of SWEEP_FACTORS) {
    const swept = preset(`hunyuan-117f-768x1280@x${factor}`, "full");
    deepEqual(swept.latent, [30 * factor, 48, 80]);
    deepEqual(swept.name, `hunyuan-117f-768x1280@x${factor}`);
  }
  const base = preset("moc-multi-shot", "ci");
  const swept = preset("moc-multi-shot@x4", "ci");
  deepEqual(swept.shots, base.shots.map((n) => n * 4));
  deepEqual(swept.textSegments, base.textSegments);
});

Deno.test("unknown names and sweeps throw a ScenarioError naming --scenario and the presets", () => {
  throws(
    () => preset("hunyuan-2x", "full"),
    (error: Error) =>
      error instanceof ScenarioError && error.message.includes("--scenario") &&
      error.message.includes("moc-multi-shot"),
  );
  throws(() => preset("wan-69f-768x1280@x3", "full"), /@x1, @x2, @x4, @x8/);
  throws(() => preset("wan-69f-768x1280", "huge" as "full"), /--size/);
});

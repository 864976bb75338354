import { deepEqual, throws } from "node:assert/strict";
import { type Scenario, ScenarioError } from "./scenario.ts";
import { validateScenario } from "./validate.ts";

const GOOD: Scenario = {
  name: "clip",
  latent: [30, 8, 8],
  text: { tokens: 48, position: "suffix" },
  shots: [10, 10, 10],
  textSegments: [16, 16, 16],
  heads: 2,
  headDim: 64,
  modelType: "hunyuan",
};

function rejects(change: Partial<Scenario>, message: RegExp): void {
  throws(
    () => validateScenario({ ...GOOD, ...change }),
    (error: Error) => error instanceof ScenarioError && message.test(error.message),
    `expected ${message}`,
  );
}

Deno.test("a valid scenario passes unchanged", () => {
  deepEqual(validateScenario(GOOD), GOOD);
  const noText = { ...GOOD, text: { tokens: 0, position: "none" as const }, textSegments: [] };
  deepEqual(validateScenario(noText), noText);
});

Deno.test("dimensions must be positive integers", () => {
  rejects({ latent: [30, 0, 8] }, /^scenario "clip": latent must be \[T, H, W\]/);
  rejects({ latent: [30, 8.5, 8] }, /latent must be \[T, H, W\], three positive integers/);
  rejects({ latent: [30, 8] as unknown as [number, number, number] }, /latent must be/);
  rejects({ heads: 0 }, /heads must be an integer 1..256 \(got 0\)/);
  rejects({ heads: 1.5 }, /heads must be an integer 1..256/);
  rejects({ heads: 1000000 }, /heads must be an integer 1..256 \(got 1000000\)/);
  rejects({ shots: [10, 0, 20] }, /shots must be a non-empty list of positive integers/);
  rejects({ shots: [] }, /shots must be a non-empty list/);
  rejects({ text: { tokens: -1, position: "suffix" } }, /text.tokens must be an integer ≥ 0/);
  rejects({ textSegments: [48, 0, 0] }, /textSegments must be a list of positive integers/);
  rejects({ name: "" }, /name must be a non-empty string/);
});

Deno.test("shots must cover the frames exactly", () => {
  rejects({ shots: [10, 10, 9] }, /^scenario "clip": shots must sum to latent T = 30 \(got 29\)$/);
  rejects({ shots: [10, 10, 11] }, /shots must sum to latent T = 30 \(got 31\)/);
});

Deno.test("headDim must be one the kernels support", () => {
  rejects({ headDim: 96 }, /headDim must be one of 64, 128 \(got 96\)/);
});

Deno.test("text tokens with position none are an error", () => {
  rejects(
    { text: { tokens: 48, position: "none" } },
    /text.tokens must be 0 when text.position is "none"/,
  );
});

Deno.test("text segments must sum to the text tokens, one or one a shot", () => {
  rejects({ textSegments: [16, 16, 15] }, /textSegments must sum to text.tokens = 48 \(got 47\)/);
  rejects(
    { textSegments: [24, 24] },
    /textSegments must have 1 entry or one a shot \(3\) \(got 2\)/,
  );
  deepEqual(validateScenario({ ...GOOD, textSegments: [48] }).textSegments, [48]);
});

Deno.test("position and model type must be among the allowed values", () => {
  rejects(
    { text: { tokens: 48, position: "middle" as "suffix" } },
    /text.position must be one of suffix, prefix, none \(got "middle"\)/,
  );
  rejects(
    { modelType: "sora" as "wan" },
    /modelType must be one of hunyuan, wan, mochi \(got "sora"\)/,
  );
});

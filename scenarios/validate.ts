/**
 * The scenario rules of docs/scenarios.md ("Validation"): one {@link ScenarioError} a
 * broken rule, its one-line message naming the scenario, the field and the allowed values.
 *
 * @module
 */
import {
  HEAD_DIMS,
  MODEL_TYPES,
  type Scenario,
  ScenarioError,
  TEXT_POSITIONS,
} from "./scenario.ts";

/** Most heads a scenario may have (a model's layer has tens; 256 leaves room). */
export const MAX_HEADS = 256;

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Returns `scenario` unchanged when it keeps every rule, else throws a {@link ScenarioError}:
 * dimensions (latent T, H, W, heads, shots, text segments) must be positive integers, heads at
 * most {@link MAX_HEADS}; shots must
 * sum to T exactly; headDim must be one of {@link HEAD_DIMS}; text tokens must be a non-negative
 * integer, and 0 when the position is `none`; text segments (one, or one a shot) must sum to the
 * text tokens; position and model type must be among the allowed values.
 *
 * @example
 * ```ts
 * import { validateScenario } from "./validate.ts";
 * import { throws } from "node:assert/strict";
 * throws(() =>
 *   validateScenario({
 *     name: "x", latent: [30, 8, 8], text: { tokens: 0, position: "none" }, shots: [29],
 *     textSegments: [], heads: 1, headDim: 64, modelType: "wan",
 *   }), /shots must sum to latent T = 30 \(got 29\)/);
 * ```
 */
export function validateScenario(scenario: Scenario): Scenario {
  const name = typeof scenario.name === "string" && scenario.name.length > 0
    ? scenario.name
    : "(unnamed)";
  const fail = (message: string): never => {
    throw new ScenarioError(`scenario "${name}": ${message}`);
  };
  if (typeof scenario.name !== "string" || scenario.name.length === 0) {
    fail("name must be a non-empty string");
  }
  const latent = scenario.latent;
  if (!Array.isArray(latent) || latent.length !== 3 || !latent.every(isPositiveInteger)) {
    fail(`latent must be [T, H, W], three positive integers (got ${JSON.stringify(latent)})`);
  }
  const position = scenario.text?.position;
  if (!TEXT_POSITIONS.includes(position)) {
    fail(
      `text.position must be one of ${TEXT_POSITIONS.join(", ")} (got ${JSON.stringify(position)})`,
    );
  }
  const tokens = scenario.text.tokens;
  if (typeof tokens !== "number" || !Number.isInteger(tokens) || tokens < 0) {
    fail(`text.tokens must be an integer ≥ 0 (got ${JSON.stringify(tokens)})`);
  }
  if (position === "none" && tokens > 0) {
    fail(
      `text.tokens must be 0 when text.position is "none" (got ${tokens}); use "suffix" or "prefix"`,
    );
  }
  const shots = scenario.shots;
  if (!Array.isArray(shots) || shots.length === 0 || !shots.every(isPositiveInteger)) {
    fail(`shots must be a non-empty list of positive integers (got ${JSON.stringify(shots)})`);
  }
  if (sum(shots) !== latent[0]) {
    fail(`shots must sum to latent T = ${latent[0]} (got ${sum(shots)})`);
  }
  const segments = scenario.textSegments;
  if (!Array.isArray(segments) || !segments.every(isPositiveInteger)) {
    fail(`textSegments must be a list of positive integers (got ${JSON.stringify(segments)})`);
  }
  if (sum(segments) !== tokens) {
    fail(`textSegments must sum to text.tokens = ${tokens} (got ${sum(segments)})`);
  }
  if (tokens > 0 && segments.length !== 1 && segments.length !== shots.length) {
    fail(
      `textSegments must have 1 entry or one a shot (${shots.length}) (got ${segments.length})`,
    );
  }
  if (!isPositiveInteger(scenario.heads) || scenario.heads > MAX_HEADS) {
    fail(`heads must be an integer 1..${MAX_HEADS} (got ${JSON.stringify(scenario.heads)})`);
  }
  if (!HEAD_DIMS.includes(scenario.headDim)) {
    fail(
      `headDim must be one of ${HEAD_DIMS.join(", ")} (got ${JSON.stringify(scenario.headDim)})`,
    );
  }
  if (!MODEL_TYPES.includes(scenario.modelType)) {
    fail(
      `modelType must be one of ${MODEL_TYPES.join(", ")} (got ${
        JSON.stringify(scenario.modelType)
      })`,
    );
  }
  if (scenario.source !== undefined && typeof scenario.source !== "string") {
    fail(`source must be a string (got ${JSON.stringify(scenario.source)})`);
  }
  return scenario;
}

/**
 * Scenarios: the token layout every method sees and the Q/K/V it runs on
 * (docs/scenarios.md). Presets of the papers at `full` and `ci` sizes, scenario files,
 * validation, and the structured synthetic inputs (seeded, bit-reproducible) or inputs read from
 * `.safetensors` / `.npy` files.
 *
 * @example
 * ```ts
 * import { preset, syntheticInputs, totalTokens } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * const scenario = preset("moc-multi-shot", "ci");
 * const inputs = syntheticInputs(scenario, { seed: 1 });
 * const { q } = await inputs.head(0);
 * equal(q.length, totalTokens(scenario) * scenario.headDim);
 * ```
 *
 * @module
 */
export * from "./scenario.ts";
export type * from "./inputs.ts";
export * from "./validate.ts";
export * from "./presets.ts";
export {
  DEFAULT_HEAD_DIM,
  DEFAULT_MODEL_TYPE,
  INPUT_SIDECAR_KEYS,
  loadScenarioFile,
  parseScenario,
  type ParseScenarioOptions,
  resolveScenario,
  SCENARIO_FILE_KEYS,
} from "./scenario_file.ts";
export * from "./prng.ts";
export * from "./synthetic_scene.ts";
export * from "./synthetic.ts";
export * from "./file_inputs.ts";
export { InputFileError } from "./tensor_file.ts";

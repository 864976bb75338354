/**
 * The scenario file of docs/cli.md (`--scenario FILE.json`), its defaults, and the
 * resolution of a `--scenario` entry (a preset name or a path ending in `.json`).
 *
 * ```json
 * { "name": "my-clip", "latent": [30, 48, 80], "text": { "tokens": 256, "position": "suffix" },
 *   "shots": [10, 10, 10], "heads": 8, "headDim": 128, "modelType": "hunyuan" }
 * ```
 *
 * @example
 * ```ts
 * import { parseScenario } from "./scenario_file.ts";
 * import { deepEqual } from "node:assert/strict";
 * const s = parseScenario({ latent: [12, 8, 8], heads: 2 }, "clip.json");
 * deepEqual([s.name, s.shots, s.text.position, s.headDim], ["clip", [12], "none", 128]);
 * ```
 *
 * @module
 */
import { preset, type PresetSize } from "./presets.ts";
import { type ModelType, type Scenario, ScenarioError, type TextPosition } from "./scenario.ts";
import { validateScenario } from "./validate.ts";
import { parseSchedule } from "./schedule.ts";
import { dirname, isAbsolute, join } from "node:path";

export { validateScenario };

/** The fields of a scenario file (docs/cli.md). */
export const SCENARIO_FILE_KEYS: readonly string[] = [
  "name",
  "latent",
  "text",
  "shots",
  "textSegments",
  "heads",
  "headDim",
  "modelType",
  "source",
  "schedule",
];

/** Extra fields of an input file's sidecar (docs/cli.md, "Input files"): pass as `extraKeys`. */
export const INPUT_SIDECAR_KEYS: readonly string[] = ["layout"];

const TEXT_KEYS: readonly string[] = ["tokens", "position"];

/** Head dimension when the file gives none (both papers' models use 128). */
export const DEFAULT_HEAD_DIM = 128;
/** Model type when the file gives none: the generic rules (no first-frame sink). */
export const DEFAULT_MODEL_TYPE: ModelType = "hunyuan";

/** Options of {@link parseScenario}. */
export interface ParseScenarioOptions {
  /** Fields allowed besides {@link SCENARIO_FILE_KEYS}; the caller reads and checks them. */
  extraKeys?: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rejectUnknown(
  record: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw new ScenarioError(
        `${where}: unknown field "${key}" (allowed: ${allowed.join(", ")})`,
      );
    }
  }
}

/** The file's base name without its extension: the default scenario name. */
function baseName(origin: string): string {
  const file = origin.split(/[\\/]/).pop() ?? origin;
  return file.replace(/\.[^.]*$/, "") || file;
}

/**
 * A scenario from parsed JSON, defaults filled in, validated. `origin` (a file path) names the
 * source in errors and gives the default name.
 *
 * Required: `latent` [T, H, W] and `heads`. Defaults: `name` = the file's base name;
 * `text` = no text (`{ tokens: 0, position: "none" }`); `text.position` = `"suffix"` when
 * `text.tokens` > 0 else `"none"`; `text.tokens` = 0 (only allowed with `"none"`); `shots` = one
 * shot of T frames; `textSegments` = one segment of all text tokens (none without text);
 * `headDim` = {@link DEFAULT_HEAD_DIM}; `modelType` = {@link DEFAULT_MODEL_TYPE}; no `schedule`
 * (one layer at one step). A schedule's `strategy` path is relative to the file's folder.
 * Unknown fields, here or inside `text`, are an error.
 */
export function parseScenario(
  json: unknown,
  origin: string,
  options: ParseScenarioOptions = {},
): Scenario {
  const where = `scenario file "${origin}"`;
  if (!isRecord(json)) throw new ScenarioError(`${where}: must hold a JSON object`);
  rejectUnknown(json, [...SCENARIO_FILE_KEYS, ...(options.extraKeys ?? [])], where);
  for (const key of ["latent", "heads"]) {
    if (json[key] === undefined) throw new ScenarioError(`${where}: field "${key}" is required`);
  }
  const text = json.text ?? { tokens: 0, position: "none" };
  if (!isRecord(text)) {
    throw new ScenarioError(`${where}: text must be an object { tokens, position }`);
  }
  rejectUnknown(text, TEXT_KEYS, `${where}: text`);
  const position = text.position ??
    (typeof text.tokens === "number" && text.tokens > 0 ? "suffix" : "none");
  const tokens = text.tokens ?? (position === "none" ? 0 : undefined);
  if (tokens === undefined) {
    throw new ScenarioError(`${where}: text.tokens is required with position "${position}"`);
  }
  const latent = json.latent as [number, number, number];
  const scenario: Scenario = {
    name: json.name === undefined ? baseName(origin) : json.name as string,
    latent,
    text: { tokens: tokens as number, position: position as TextPosition },
    shots: (json.shots ?? (Array.isArray(latent) ? [latent[0]] : undefined)) as number[],
    textSegments: (json.textSegments ?? ((tokens as number) > 0 ? [tokens] : [])) as number[],
    heads: json.heads as number,
    headDim: (json.headDim ?? DEFAULT_HEAD_DIM) as number,
    modelType: (json.modelType ?? DEFAULT_MODEL_TYPE) as ModelType,
  };
  if (json.source !== undefined) scenario.source = json.source as string;
  if (json.schedule !== undefined) {
    scenario.schedule = parseSchedule(json.schedule, `${where}: schedule`);
    // A mask-strategy file is named relative to the scenario file that names it.
    for (const method of Object.values(scenario.schedule.methods)) {
      if (method.strategy && !isAbsolute(method.strategy)) {
        method.strategy = join(dirname(origin), method.strategy);
      }
    }
  }
  try {
    return validateScenario(scenario);
  } catch (error) {
    if (error instanceof ScenarioError) throw new ScenarioError(`${where}: ${error.message}`);
    throw error;
  }
}

/** Reads, parses and validates a scenario file (see {@link parseScenario}). */
export async function loadScenarioFile(
  path: string,
  options: ParseScenarioOptions = {},
): Promise<Scenario> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ScenarioError(
      `scenario file "${path}": cannot be read (${(error as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(
      `scenario file "${path}": not valid JSON (${(error as Error).message})`,
    );
  }
  return parseScenario(json, path, options);
}

/** One `--scenario` entry: a path ending in `.json` (size ignored), else a preset name at `size`. */
export function resolveScenario(spec: string, size: PresetSize): Promise<Scenario> {
  if (spec.toLowerCase().endsWith(".json")) return loadScenarioFile(spec);
  return Promise.resolve().then(() => preset(spec, size));
}

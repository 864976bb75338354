/**
 * A whole generation run's schedule (docs/cli.md, "Scenario file": `schedule`): the model's layers ×
 * denoising steps, and per method which configuration runs at each (step, layer, head) — dense
 * first steps and layers as the papers' scripts keep them, rules that run another spec on a
 * range, and a FastVideo mask-strategy file giving STA a window per (step, layer, head).
 *
 * The schedule is data only (method specs stay strings); bench/whole_run.ts expands it.
 *
 * ```json
 * { "layers": 60, "steps": 50, "source": "…",
 *   "methods": { "radial": { "denseSteps": 12, "denseLayers": 0 },
 *                "sta": { "denseSteps": 12, "strategy": "mask_strategy.json" },
 *                "moc": { "rules": [{ "steps": [0, 10], "heads": [0, 1], "run": "moc:k=3" }] },
 *                "svg2": { "rules": [{ "steps": [6, 50], "set": { "iters": 2 } }] } } }
 * ```
 *
 * @module
 */
/** Thrown for a schedule that breaks a rule; the message names the field and allowed values. */
export class ScheduleError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the field and the allowed values
   */
  constructor(message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

/** A half-open range [from, to) of steps, layers or heads. */
export type IndexRange = [number, number];

/** Parameter values a rule may set: as a method spec's (methods/spec.ts), in JSON. */
export type RuleParams = Record<string, number | boolean | string | number[]>;

/** The cells a rule covers: every range given (a missing one covers the whole). */
export interface RuleCells {
  /** Steps [from, to); the whole run when absent. */
  steps?: IndexRange;
  /** Layers [from, to); every layer when absent. */
  layers?: IndexRange;
  /** Heads [from, to); every head when absent. */
  heads?: IndexRange;
}

/**
 * One rule, on the cells it covers: run `run` (a method spec: `dense`, `sta:window=1x6x10`, …),
 * or the spec the run was given with the parameters in `set` replaced or added (`{ "iters": 2 }`:
 * SVG2's warm steps). Exactly one of the two.
 */
export type ScheduleRule =
  & RuleCells
  & ({ run: string; set?: never } | { set: RuleParams; run?: never });

/** How one method runs over the whole generation. */
export interface MethodSchedule {
  /** The first N denoising steps run dense attention. */
  denseSteps: number;
  /** The first N layers run dense attention at every step. */
  denseLayers: number;
  /** Rules applied in order on the cells that are not dense; a later rule wins. */
  rules: ScheduleRule[];
  /** A FastVideo mask-strategy file (`"step_layer_head": [t, h, w]`), STA only. */
  strategy?: string;
  /** Where this schedule comes from (script, file, paper section). */
  source?: string;
}

/** The schedule of a scenario: model depth, step count and per-method settings. */
export interface Schedule {
  /** Attention layers of the model (DiT blocks). */
  layers: number;
  /** Denoising steps of one generation. */
  steps: number;
  /** Where the layer and step counts come from. */
  source?: string;
  /** Per method name; a method not named runs its own spec on every cell. */
  methods: Record<string, MethodSchedule>;
}

/** Largest layer or step count accepted (a typo guard, far above any published model). */
export const MAX_SCHEDULE_SIZE = 10_000;

const SCHEDULE_KEYS = ["layers", "steps", "source", "methods"];
const METHOD_KEYS = ["denseSteps", "denseLayers", "rules", "strategy", "source"];
const RULE_KEYS = ["steps", "layers", "heads", "run", "set"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(where: string, message: string): never {
  throw new ScheduleError(`${where}${message}`);
}

function rejectUnknown(record: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      fail(where, ` has unknown field "${key}" (allowed: ${allowed.join(", ")})`);
    }
  }
}

function count(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(where, ` must be an integer ${min}..${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) {
    fail(where, ` must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  return value;
}

function range(value: unknown, where: string, size: number): IndexRange | undefined {
  if (value === undefined) return undefined;
  const ok = Array.isArray(value) && value.length === 2 &&
    value.every((v) => Number.isInteger(v)) && 0 <= value[0] && value[0] < value[1] &&
    value[1] <= size;
  if (!ok) {
    fail(where, ` must be [from, to) with 0 ≤ from < to ≤ ${size} (got ${JSON.stringify(value)})`);
  }
  return [value[0], value[1]];
}

function parseRule(json: unknown, where: string, layers: number, steps: number): ScheduleRule {
  if (!isRecord(json)) fail(where, " must be an object { steps?, layers?, heads?, run | set }");
  rejectUnknown(json, RULE_KEYS, where);
  const run = optionalString(json.run, `${where}.run`);
  const set = json.set === undefined ? undefined : paramSet(json.set, `${where}.set`);
  if ((run === undefined) === (set === undefined)) {
    fail(where, " must have exactly one of run (a method spec, e.g. dense) and set (parameters)");
  }
  const rule: ScheduleRule = set !== undefined ? { set } : { run: run! };
  const stepRange = range(json.steps, `${where}.steps`, steps);
  const layerRange = range(json.layers, `${where}.layers`, layers);
  const headRange = range(json.heads, `${where}.heads`, Number.MAX_SAFE_INTEGER);
  if (stepRange) rule.steps = stepRange;
  if (layerRange) rule.layers = layerRange;
  if (headRange) rule.heads = headRange;
  return rule;
}

/** A rule's `set`: parameter names to numbers, booleans, strings or lists of numbers. */
function paramSet(value: unknown, where: string): RuleParams {
  if (!isRecord(value) || Object.keys(value).length === 0) {
    fail(where, ` must be a non-empty object of parameters, e.g. {"iters": 2}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (!/^[A-Za-z_]\w*$/.test(key)) {
      fail(where, ` has a parameter name that is not a word (letters, digits, _): "${key}"`);
    }
    // A method spec's separators (methods/spec.ts) would smuggle in other parameters.
    const ok = typeof v === "number" || typeof v === "boolean" ||
      (typeof v === "string" && v.length > 0 && !/[;:=]/.test(v)) ||
      (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number"));
    if (!ok) {
      fail(
        `${where}.${key}`,
        " must be a number, boolean, string without ; : = or list of numbers " +
          `(got ${JSON.stringify(v)})`,
      );
    }
  }
  return value as RuleParams;
}

function parseMethodSchedule(
  json: unknown,
  where: string,
  layers: number,
  steps: number,
): MethodSchedule {
  if (!isRecord(json)) {
    fail(where, " must be an object { denseSteps?, denseLayers?, rules?, strategy?, source? }");
  }
  rejectUnknown(json, METHOD_KEYS, where);
  const rules = json.rules ?? [];
  if (!Array.isArray(rules)) fail(`${where}.rules`, " must be a list of rules");
  const schedule: MethodSchedule = {
    denseSteps: count(json.denseSteps ?? 0, `${where}.denseSteps`, 0, steps),
    denseLayers: count(json.denseLayers ?? 0, `${where}.denseLayers`, 0, layers),
    rules: rules.map((rule, i) => parseRule(rule, `${where}.rules[${i}]`, layers, steps)),
  };
  const strategy = optionalString(json.strategy, `${where}.strategy`);
  const source = optionalString(json.source, `${where}.source`);
  if (strategy !== undefined) schedule.strategy = strategy;
  if (source !== undefined) schedule.source = source;
  return schedule;
}

/**
 * The schedule in `json`, checked strictly: every error is one line naming the field (under
 * `where`, e.g. `scenario file "x.json": schedule`) and the allowed values.
 *
 * @example
 * ```ts
 * import { parseSchedule } from "./schedule.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * const s = parseSchedule({ layers: 40, steps: 50, methods: { radial: { denseSteps: 12 } } });
 * deepEqual(s.methods.radial, { denseSteps: 12, denseLayers: 0, rules: [] });
 * throws(() => parseSchedule({ layers: 40, steps: 50, methods: { radial: { denseSteps: 51 } } }),
 *   /schedule.methods.radial.denseSteps must be an integer 0..50 \(got 51\)/);
 * ```
 */
export function parseSchedule(json: unknown, where = "schedule"): Schedule {
  if (!isRecord(json)) fail(where, " must be an object { layers, steps, source?, methods }");
  rejectUnknown(json, SCHEDULE_KEYS, where);
  const layers = count(json.layers, `${where}.layers`, 1, MAX_SCHEDULE_SIZE);
  const steps = count(json.steps, `${where}.steps`, 1, MAX_SCHEDULE_SIZE);
  const methodsJson = json.methods ?? {};
  if (!isRecord(methodsJson)) {
    fail(`${where}.methods`, " must be an object keyed by method name");
  }
  const methods: Record<string, MethodSchedule> = {};
  for (const [name, value] of Object.entries(methodsJson)) {
    methods[name] = parseMethodSchedule(value, `${where}.methods.${name}`, layers, steps);
  }
  const schedule: Schedule = { layers, steps, methods };
  const source = optionalString(json.source, `${where}.source`);
  if (source !== undefined) schedule.source = source;
  return schedule;
}

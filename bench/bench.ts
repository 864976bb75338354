/**
 * `deno task bench` as a library call: resolves the suite (scenarios × methods, shard), opens
 * the GPU and runs the cases; {@link writeRunFiles} writes results.json, results.csv, decay.json
 * and the mask pictures (the CLI writes them into a staging folder, bench/output_folder.ts).
 * Everything that can be checked is checked before the GPU is touched.
 *
 * @module
 */
import { join } from "node:path";
import { GpuRuntime } from "../gpu/runtime.ts";
import { GPU_WARMUP_MS } from "../gpu/timing.ts";
import { type Method, UnsupportedScenarioError } from "../methods/method.ts";
import { resolveMethod } from "../methods/registry.ts";
import { parseMethodSpec } from "../methods/spec.ts";
import { loadFileInputs } from "../scenarios/file_inputs.ts";
import type { QkvSource } from "../scenarios/inputs.ts";
import type { PresetSize } from "../scenarios/presets.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { resolveScenario } from "../scenarios/scenario_file.ts";
import { ScheduleError } from "../scenarios/schedule.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import {
  type BenchRecord,
  type KnobSetting,
  RESULTS_SCHEMA,
  type ResultsFile,
  storagePrecision,
  type WholeRunSummary,
} from "../records/schema.ts";
import { formatShard, type Shard, shardCases } from "../records/shards.ts";
import { gitCommit } from "./run_meta.ts";
import { checkMemory, estimateMemory, type MemoryLimits } from "./memory_estimate.ts";
import {
  type CaseStepHook,
  type ProgressHook,
  qualityHeadsOf,
  type RunArtifacts,
  runCases,
  type RunSettings,
  type ScenarioCases,
} from "./runner.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";
import { writeResults } from "../records/results_io.ts";
import { safeFileName } from "../records/file_name.ts";
import { DECAY_FILE_NAME, MASK_SUFFIX, MASKS_FOLDER } from "../reports/report_extras.ts";
import type { Suite } from "./suites.ts";
import { sweepPoints } from "./frontier_points.ts";
import { methodSpecOf } from "../records/case_key.ts";
import {
  DEFAULT_ATTENTION_SHARE,
  expandSchedule,
  ruleSpec,
  type ScheduledConfig,
  wholeRunSummary,
} from "./whole_run.ts";

/** Everything a bench run needs (the CLI's options, resolved). */
export interface BenchConfig {
  /** The suite (its scenarios and methods are used unless overridden). */
  suite: Suite;
  /** Scenario specs overriding the suite's. */
  scenarios?: string[];
  /** Method specs overriding the suite's. */
  methods?: string[];
  /** Preset size; undefined = `ci` on a fallback adapter, `full` otherwise. */
  size?: PresetSize;
  /** `synthetic`, or a `.safetensors` file / npy folder (its sidecar gives the scenario). */
  inputs: string;
  /** Override the heads of every scenario (a layer with fewer heads; FLOPs scale with it). */
  heads?: number;
  /** Run only shard I of N. */
  shard?: Shard;
  /** Timing, quality and seed; warmup −1 / repeats 0 pick the adapter's defaults. */
  settings: RunSettings;
  /** The command line, for the results file. */
  command: string;
  /** Time limit of one call into a user's method module, ms. */
  userTimeLimitMs?: number;
  /** Attention's share of a dense step's time, for the end-to-end projection. */
  attentionShare?: number;
}

/** A method's whole run on a scenario with a schedule: its configurations and their methods. */
interface PlannedWholeRun {
  spec: string;
  configs: ScheduledConfig[];
  methods: Method[];
  /** Frontier runs: the knob setting of `spec`. */
  knob?: KnobSetting | null;
  /** Frontier runs: the name of the method `spec` makes (a module's own name). */
  methodName?: string;
}

/** A resolved case list before the GPU runs. */
interface PlannedScenario {
  scenario: Scenario;
  inputs: QkvSource;
  methods: Method[];
  recorded: boolean[];
  wholeRuns: PlannedWholeRun[];
  /** Frontier runs: each method's knob setting; null for matrix suites. */
  knobs: Map<Method, KnobSetting | null> | null;
  /** Frontier runs: identical static layouts are timed once (bench/runner.ts). */
  reuseIdenticalLayouts: boolean;
}

const UNSUPPORTED = `${new UnsupportedScenarioError("").name}:`;

/** Writes a one-line notice to stderr. */
export function notice(message: string): void {
  console.error(`bench: ${message}`);
}

/** What can be resolved before the GPU opens: methods, scenario files and an inputs file. */
interface ResolvedSpecs {
  methods: Method[];
  dense: Method;
  /** The `--inputs` file's scenario and tensors, or null for synthetic inputs. */
  file: { scenario: Scenario; inputs: QkvSource } | null;
  /** Scenario files already read, by spec; presets are resolved once the size is known. */
  scenarioFiles: Map<string, Scenario>;
  /** Preset names among the scenario specs (the only ones `--size` applies to). */
  presets: string[];
}

function isScenarioFile(spec: string): boolean {
  return spec.toLowerCase().endsWith(".json");
}

/** Resolves every method and scenario spec, so bad ones fail before the adapter opens. */
async function resolveSpecs(config: BenchConfig): Promise<ResolvedSpecs> {
  const methods: Method[] = [];
  const options = { userTimeLimitMs: config.userTimeLimitMs };
  for (const spec of config.methods ?? config.suite.methods) {
    methods.push(await resolveMethod(spec, options));
  }
  const dense = methods.find((m) => m.name === "dense") ?? await resolveMethod("dense");
  if (config.inputs !== "synthetic") {
    const file = await loadFileInputs(config.inputs);
    await file.inputs.validateAll();
    return { methods, dense, file, scenarioFiles: new Map(), presets: [] };
  }
  const specs = config.scenarios ?? config.suite.scenarios;
  const scenarioFiles = new Map<string, Scenario>();
  const presets: string[] = [];
  for (const spec of specs) {
    // A preset's name is checked at ci size here; its size is chosen once the adapter is known.
    const scenario = await resolveScenario(spec, "ci");
    await checkScheduleRules(spec, scenario, config.methods ?? config.suite.methods, options);
    if (isScenarioFile(spec)) scenarioFiles.set(spec, scenario);
    else presets.push(spec);
  }
  return { methods, dense, file: null, scenarioFiles, presets };
}

/**
 * Every rule of `scenario`'s schedule resolved as it would run: on each spec given for its method
 * (or the method's name where none is), so that a bad rule fails before the adapter opens, in one
 * line naming the scenario and the rule.
 */
async function checkScheduleRules(
  name: string,
  scenario: Scenario,
  specs: string[],
  options: { userTimeLimitMs?: number },
): Promise<void> {
  for (const [method, plan] of Object.entries(scenario.schedule?.methods ?? {})) {
    const given = specs.filter((spec) => parseMethodSpec(spec).name === method);
    for (const [i, rule] of plan.rules.entries()) {
      for (const spec of given.length ? given : [method]) {
        const runs = ruleSpec(rule, spec);
        try {
          await resolveMethod(runs, options);
        } catch (error) {
          throw new ScheduleError(
            `${name}: schedule.methods.${method}.rules[${i}] runs "${runs}": ` +
              (error as Error).message,
          );
        }
      }
    }
  }
}

/** The methods one scenario runs: specs as given (matrix suites) or swept over knobs (frontier). */
interface ScenarioMethods {
  /** Method specs, one a method (same order as `methods`). */
  specs: string[];
  /** The methods. */
  methods: Method[];
  /** Frontier runs: each method's knob setting (null: dense, a method without a knob). */
  knobs: Map<Method, KnobSetting | null> | null;
}

/** The methods of `scenario`: the resolved specs, or (frontier suites) their sweep points. */
async function scenarioMethods(
  config: BenchConfig,
  specs: ResolvedSpecs,
  scenario: Scenario,
): Promise<ScenarioMethods> {
  const given = config.methods ?? config.suite.methods;
  if (config.suite.kind !== "frontier") {
    return { specs: given, methods: specs.methods, knobs: null };
  }
  const options = { userTimeLimitMs: config.userTimeLimitMs };
  const points = await sweepPoints(given, scenario, options);
  const knobs = new Map<Method, KnobSetting | null>([[specs.dense, null]]);
  const methods: Method[] = [specs.dense];
  for (const point of points) {
    const method = await resolveMethod(point.spec, options);
    knobs.set(method, point.knob);
    methods.push(method);
  }
  return { specs: ["dense", ...points.map((p) => p.spec)], methods, knobs };
}

async function planCases(
  config: BenchConfig,
  specs: ResolvedSpecs,
  size: PresetSize,
  limits: MemoryLimits,
): Promise<PlannedScenario[]> {
  const { dense } = specs;
  const scenarioInputs: Array<{ scenario: Scenario; inputs: QkvSource }> = [];
  if (specs.file) {
    scenarioInputs.push(specs.file);
  } else {
    for (const spec of config.scenarios ?? config.suite.scenarios) {
      let scenario = specs.scenarioFiles.get(spec) ?? await resolveScenario(spec, size);
      if (config.heads !== undefined) scenario = { ...scenario, heads: config.heads };
      const { precision, quality } = config.settings;
      checkMemory(
        scenario,
        estimateMemory(scenario, storagePrecision(precision), qualityHeadsOf(scenario, quality)),
        limits,
      );
      scenarioInputs.push({
        scenario,
        inputs: syntheticInputs(scenario, { seed: config.settings.seed }),
      });
    }
  }
  const perScenario: ScenarioMethods[] = [];
  for (const { scenario } of scenarioInputs) {
    perScenario.push(await scenarioMethods(config, specs, scenario));
  }
  const all = perScenario.flatMap(({ methods }, si) => methods.map((_, mi) => `${si}:${mi}`));
  const picked = new Set(config.shard ? shardCases(all, config.shard) : all);
  const planned: PlannedScenario[] = [];
  for (const [si, { scenario, inputs }] of scenarioInputs.entries()) {
    const { methods, specs: methodSpecs, knobs } = perScenario[si];
    const mine = methods.filter((_, mi) => picked.has(`${si}:${mi}`));
    if (mine.length === 0) continue;
    const ordered = [dense, ...methods.filter((m) => m !== dense)];
    const recorded = ordered.map((m) => mine.includes(m));
    const keep = recorded.map((isRecorded, i) => i === 0 || isRecorded);
    const group: PlannedScenario = {
      scenario,
      inputs,
      methods: ordered.filter((_, i) => keep[i]),
      recorded: recorded.filter((_, i) => keep[i]),
      wholeRuns: [],
      knobs,
      reuseIdenticalLayouts: knobs !== null,
    };
    if (scenario.schedule) {
      // Dense is every whole run's reference, not a whole run of its own.
      const mineSpecs = methodSpecs.filter((_, mi) =>
        mine.includes(methods[mi]) && methods[mi] !== dense
      );
      const options = { userTimeLimitMs: config.userTimeLimitMs };
      await planWholeRuns(group, mineSpecs, options, config.shard !== undefined);
    }
    planned.push(group);
  }
  return planned;
}

/**
 * Adds the whole runs of `specs` to `group` (whose scenario has a schedule): each distinct
 * configuration becomes one recorded case, reusing a case of the same method and parameters.
 */
async function planWholeRuns(
  group: PlannedScenario,
  specs: string[],
  options: { userTimeLimitMs?: number },
  sharded: boolean,
): Promise<void> {
  const schedule = group.scenario.schedule!;
  const keyOf = (m: Method) => methodSpecOf(m.name, m.params);
  // The dense case is every whole run's reference; a shard keeps only the cases it was dealt.
  if (!sharded) group.recorded[0] = true;
  for (const spec of specs) {
    const configs = expandSchedule(schedule, spec, group.scenario.heads);
    const configMethods: Method[] = [];
    for (const config of configs) {
      const wanted = await resolveMethod(config.spec, options);
      let method = group.methods.find((m) => keyOf(m) === keyOf(wanted));
      if (!method) {
        method = wanted;
        group.methods.push(method);
        group.recorded.push(true);
      }
      configMethods.push(method);
    }
    const run: PlannedWholeRun = { spec, configs, methods: configMethods };
    if (group.knobs) {
      const own = keyOf(await resolveMethod(spec, options));
      const method = group.methods.find((m) => keyOf(m) === own);
      run.knob = method ? group.knobs.get(method) ?? null : null;
      run.methodName = method?.name;
    }
    group.wholeRuns.push(run);
  }
}

/** Result of {@link runBench}. */
export interface BenchOutcome {
  /** The results. */
  results: ResultsFile;
  /** The decay curves and mask pictures for the report. */
  artifacts: RunArtifacts;
  /** Records that failed (a method that does not apply to a scenario is not a failure). */
  failed: BenchRecord[];
  /** Records of methods that do not apply to their scenario (UnsupportedScenarioError). */
  notApplicable: BenchRecord[];
}

/** Each group's recorded cases with their records (`records` in case order, recorded only). */
function recordsByMethod(
  planned: PlannedScenario[],
  records: BenchRecord[],
): Array<Map<Method, BenchRecord>> {
  let next = 0;
  return planned.map((group) => {
    const recordOf = new Map<Method, BenchRecord>();
    group.methods.forEach((method, i) => {
      if (group.recorded[i]) recordOf.set(method, records[next++]);
    });
    return recordOf;
  });
}

/** Frontier runs: writes each record's knob setting (null for dense and knobless methods). */
function stampKnobs(planned: PlannedScenario[], byMethod: Array<Map<Method, BenchRecord>>) {
  planned.forEach((group, g) => {
    if (!group.knobs) return;
    for (const [method, record] of byMethod[g]) record.knob = group.knobs.get(method) ?? null;
  });
}

/** The whole-run summaries of `planned`, from each group's records. */
function wholeRunsOf(
  planned: PlannedScenario[],
  byMethod: Array<Map<Method, BenchRecord>>,
  attentionShare: number,
): WholeRunSummary[] {
  const summaries: WholeRunSummary[] = [];
  planned.forEach((group, g) => {
    const recordOf = byMethod[g];
    for (const run of group.wholeRuns) {
      const summary = wholeRunSummary({
        scenario: group.scenario.name,
        method: run.spec,
        schedule: group.scenario.schedule!,
        heads: group.scenario.heads,
        configs: run.configs,
        records: run.methods.map((m) => recordOf.get(m) ?? null),
        dense: recordOf.get(group.methods[0]) ?? null,
        attentionShare,
      });
      summaries.push(
        run.knob === undefined
          ? summary
          : { ...summary, knob: run.knob, methodName: run.methodName },
      );
    }
  });
  return summaries;
}

/** Runs the bench described by `config` (writes nothing: see {@link writeRunFiles}). */
export async function runBench(
  config: BenchConfig,
  hooks: { onProgress?: ProgressHook; onStep?: CaseStepHook } = {},
): Promise<BenchOutcome> {
  const specs = await resolveSpecs(config);
  const runtime = await GpuRuntime.open();
  try {
    const size = config.size ?? (runtime.facts.fallback ? "ci" : "full");
    if (!config.size && specs.presets.length > 0) {
      notice(
        `adapter "${runtime.facts.description}" is ${
          runtime.facts.fallback ? "a software fallback: using ci sizes" : "a GPU: using full sizes"
        } (--size to choose)`,
      );
    }
    const f16Missing = config.settings.precision !== "f32" && !runtime.facts.shaderF16;
    if (f16Missing) {
      notice(
        `--precision ${config.settings.precision} needs shader-f16, which ` +
          `"${runtime.facts.description}" lacks: running f32`,
      );
    }
    const planned = await planCases(config, specs, size, {
      ...runtime.facts,
      hostMemoryBytes: Deno.systemMemoryInfo().total,
    });
    const groups: ScenarioCases[] = planned;
    const fallback = runtime.facts.fallback;
    const settings: RunSettings = {
      ...config.settings,
      precision: f16Missing ? "f32" : config.settings.precision,
      warmup: config.settings.warmup >= 0 ? config.settings.warmup : fallback ? 1 : 2,
      // A GPU's clocks rise only under steady work; a software adapter has none to raise.
      warmupMs: fallback || config.settings.warmup === 0 ? 0 : GPU_WARMUP_MS,
      repeats: config.settings.repeats >= 1 ? config.settings.repeats : fallback ? 5 : 20,
    };
    const artifacts: RunArtifacts = { decay: [], masks: [] };
    const records = await runCases(runtime, groups, settings, {
      ...hooks,
      artifacts,
    });
    const byMethod = recordsByMethod(planned, records);
    stampKnobs(planned, byMethod);
    const wholeRun = wholeRunsOf(
      planned,
      byMethod,
      config.attentionShare ?? DEFAULT_ATTENTION_SHARE,
    );
    if (f16Missing) {
      for (const r of records) {
        r.notes.push(
          `${config.settings.precision} was asked for; this adapter lacks shader-f16, so f32 ran`,
        );
      }
    }
    const results: ResultsFile = {
      schema: RESULTS_SCHEMA,
      suite: `${config.suite.name}@${config.suite.version}`,
      commit: await gitCommit(),
      date: new Date().toISOString(),
      deno: Deno.version.deno,
      command: config.command,
      seed: config.settings.seed,
      adapter: runtime.facts,
      shard: config.shard ? formatShard(config.shard) : null,
      records,
      ...(wholeRun.length > 0 ? { wholeRun } : {}),
    };
    const notApplicable = records.filter((r) => r.error?.startsWith(UNSUPPORTED));
    const failed = records.filter((r) => r.error && !notApplicable.includes(r));
    return { results, artifacts, failed, notApplicable };
  } finally {
    runtime.destroy();
  }
}

/**
 * Writes a run's files into `outDir`: results.json, results.csv, decay.json and
 * `masks/<scenario>/<method>.mask.png`.
 */
export async function writeRunFiles(
  outDir: string,
  { results, artifacts }: Pick<BenchOutcome, "results" | "artifacts">,
): Promise<void> {
  await writeResults(outDir, results);
  if (artifacts.decay.length > 0) {
    await writeFileAtomic(join(outDir, DECAY_FILE_NAME), JSON.stringify(artifacts.decay) + "\n");
  }
  for (const mask of artifacts.masks) {
    const file = join(
      outDir,
      MASKS_FOLDER,
      safeFileName(mask.scenario),
      `${mask.method}${MASK_SUFFIX}`,
    );
    await writeFileAtomic(file, mask.png);
  }
}

/** Path of a run's results file. */
export function resultsPath(outDir: string): string {
  return join(outDir, "results.json");
}

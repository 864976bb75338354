/**
 * `deno task calibrate` as a library call (docs/cli.md, "calibrate"): for every method with a
 * knob, the sparsest setting of its grid (per head where the method takes per-head settings)
 * whose worst case over the calibration seeds meets target + margin (bench/calibration_guard.ts),
 * checked against the target on held-out inputs. Quality is bench's own: the cases run through
 * the bench runner, dense first, every method against dense on the same inputs. Passes on one GPU
 * runtime: the grid on each calibration seed, then the chosen specs on each calibration seed and
 * on the held-out inputs. Everything that can be checked is checked before the GPU opens.
 *
 * @module
 */
import { GpuRuntime } from "../gpu/runtime.ts";
import type { AttentionTiling } from "../kernels/attention_tiling.ts";
import {
  type Method,
  type MethodDefinition,
  MethodSpecError,
  type Params,
} from "../methods/method.ts";
import { isModuleSpec, METHODS, resolveMethod } from "../methods/registry.ts";
import { parseMethodSpec } from "../methods/spec.ts";
import type { MethodsFile } from "../methods/methods_file.ts";
import { loadFileInputs } from "../scenarios/file_inputs.ts";
import type { QkvSource } from "../scenarios/inputs.ts";
import type { PresetSize } from "../scenarios/presets.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { resolveScenario } from "../scenarios/scenario_file.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import {
  type BenchRecord,
  type Precision,
  type Quality,
  storagePrecision,
} from "../records/schema.ts";
import { checkMemory, estimateMemory } from "./memory_estimate.ts";
import { gitCommit } from "./run_meta.ts";
import { type ProgressHook, qualityHeadsOf, runCases, type RunSettings } from "./runner.ts";
import { formatTarget, meetsTarget, type QualityTarget } from "./calibration_search.ts";
import { chooseSetting, targetValue } from "./calibration_choice.ts";
import {
  calibrationSeeds,
  marginFor,
  withMargin,
  worstCase,
  worstCasePerHead,
} from "./calibration_guard.ts";
import {
  CALIBRATION_SCHEMA,
  type CalibrationRecord,
  type CheckedSetting,
  type MethodCalibration,
  methodsFileOf,
  type SeedQuality,
  type SweepPoint,
  type TargetFigures,
} from "./calibration_record.ts";

/** Everything a calibration needs (the CLI's options, resolved). */
export interface CalibrationConfig {
  /** Preset name or scenario file; undefined when `inputs` is a file (its sidecar is the scenario). */
  scenario?: string;
  /** Calibration inputs: undefined for synthetic inputs of `seed`, else a safetensors file or npy folder. */
  inputs?: string;
  /** Held-out inputs: undefined for synthetic inputs of `holdoutSeed`, else a file like `inputs`. */
  holdoutInputs?: string;
  /** Method specs (`moc`, `moc:chunk=256`) without their knob; undefined = every method with a knob. */
  methods?: string[];
  /** The quality each chosen setting must meet on the held-out inputs. */
  target: QualityTarget;
  /** Added to the target on the calibration inputs; undefined = a tenth of the target's slack. */
  margin?: number;
  /** Number of calibration seeds (`seed`, `seed` + 1, …); 1 with file inputs. */
  seeds: number;
  /** Preset size; undefined = `ci` on a fallback adapter, `full` otherwise. */
  size?: PresetSize;
  /** First seed of the synthetic calibration inputs, the sampled queries and method randomness. */
  seed: number;
  /** The same for the held-out inputs. */
  holdoutSeed: number;
  /** Precision of the runs. */
  precision: Precision;
  /** Kernel tiling; undefined = the tuner's choice. */
  tiling?: AttentionTiling;
  /** The command line, for the record. */
  command: string;
}

/** A method to calibrate: its definition and the parameters held fixed. */
interface MethodToCalibrate {
  definition: MethodDefinition & { knob: NonNullable<MethodDefinition["knob"]> };
  fixed: Params;
}

/** The methods of `specs` (default: every method with a knob), checked; bad ones throw. */
function methodsToCalibrate(specs: string[] | undefined): MethodToCalibrate[] {
  const withKnob = [...METHODS.values()].filter((d) => d.knob).map((d) => d.name);
  return (specs ?? withKnob).map((spec) => {
    const { name, params } = parseMethodSpec(spec);
    const definition = METHODS.get(name);
    if (isModuleSpec(name) || !definition?.knob) {
      throw new MethodSpecError(
        `--methods: "${name}" has no knob to calibrate (allowed: ${withKnob.join(", ")})`,
      );
    }
    const { param, perHeadParam } = definition.knob;
    for (const turned of [param, perHeadParam]) {
      if (turned !== undefined && turned in params) {
        throw new MethodSpecError(
          `--methods: ${name}: "${turned}" is the knob calibrate turns; leave it out of "${spec}"`,
        );
      }
    }
    definition.create(params);
    return { definition: definition as MethodToCalibrate["definition"], fixed: params };
  });
}

function figuresOf(quality: Quality | null | undefined): TargetFigures | null {
  return quality ? { recall: quality.recall, relL2: quality.relL2 } : null;
}

/** What one run of the runner returns per method: record and per-head quality. */
interface CaseOutcome {
  record: BenchRecord;
  heads: TargetFigures[] | null;
}

/** Inputs of one pass: the scenario's tensors and the sampling seed. */
interface PassInputs {
  inputs: QkvSource;
  seed: number;
}

/** What runs the passes: the GPU, the scenario, settings and progress. */
interface PassRunner {
  runtime: GpuRuntime;
  scenario: Scenario;
  settings: Omit<RunSettings, "seed">;
  onProgress?: ProgressHook;
}

/** Runs dense and `methods` on `pass` through the bench runner; one outcome a method. */
async function runPass(
  runner: PassRunner,
  pass: PassInputs,
  methods: Method[],
): Promise<CaseOutcome[]> {
  const dense = await resolveMethod("dense");
  const heads = new Map<Method, TargetFigures[]>();
  const records = await runCases(
    runner.runtime,
    [{
      scenario: runner.scenario,
      inputs: pass.inputs,
      methods: [dense, ...methods],
      recorded: [dense, ...methods].map(() => true),
    }],
    { ...runner.settings, seed: pass.seed },
    {
      onProgress: runner.onProgress,
      onHeadQuality: ({ method, heads: qualities }) =>
        heads.set(method, qualities.map((q) => figuresOf(q)!)),
    },
  );
  const denseError = records[0].error;
  return methods.map((method, i) => {
    const record = records[i + 1];
    if (denseError && !record.error) record.error = `dense reference failed: ${denseError}`;
    return { record, heads: heads.get(method) ?? null };
  });
}

/** One setting's outcome on one seed, as the record keeps it. */
function seedQuality(seed: number, { record, heads }: CaseOutcome): SeedQuality {
  return {
    seed,
    quality: figuresOf(record.quality),
    heads,
    tokenSparsity: record.tokenSparsity,
    ...(record.error ? { error: record.error } : {}),
  };
}

/** The worst case of one setting over seeds: quality, per-head quality, mean sparsity, error. */
function combined(bySeed: SeedQuality[]): Omit<SeedQuality, "seed"> {
  const sparsities = bySeed.flatMap((s) => s.tokenSparsity === null ? [] : [s.tokenSparsity]);
  const error = bySeed.find((s) => s.error);
  return {
    quality: worstCase(bySeed.map((s) => s.quality)),
    heads: worstCasePerHead(bySeed.map((s) => s.heads)),
    tokenSparsity: sparsities.length === bySeed.length
      ? sparsities.reduce((sum, s) => sum + s, 0) / sparsities.length
      : null,
    ...(error
      ? { error: bySeed.length > 1 ? `seed ${error.seed}: ${error.error}` : error.error }
      : {}),
  };
}

function checked(
  bySeed: SeedQuality[],
  target: QualityTarget,
  inputs: string,
): CheckedSetting {
  const { quality, heads, tokenSparsity, ...error } = combined(bySeed);
  return {
    target: formatTarget(target),
    inputs,
    quality,
    heads,
    tokenSparsity,
    bySeed,
    met: meetsTarget(target, quality),
    headsMissed: (heads ?? []).flatMap((q, h) => meetsTarget(target, q) ? [] : [h]),
    ...error,
  };
}

/** The one-line note of a calibrated method; `bar` is target + margin. */
function noteOf(
  entry: MethodCalibration,
  targets: { target: QualityTarget; bar: QualityTarget },
  why: string,
): string {
  const { target, bar } = targets;
  if (!entry.chosen) return `${why}: left out of the methods file`;
  const { calibration, holdout } = entry;
  if (!calibration?.met) {
    return `${entry.chosen.spec} misses ${formatTarget(bar)} on the calibration inputs ` +
      `(${target.metric} ${targetValue(target, calibration?.quality ?? null)}` +
      `${calibration?.error ? `; ${calibration.error}` : ""}): left out of the methods file`;
  }
  const missed = holdout?.headsMissed ?? [];
  const heads = missed.length > 0
    ? `; head(s) ${missed.join(", ")} alone miss on the held-out inputs`
    : "";
  if (!holdout?.met) {
    return `did not carry over: ${formatTarget(target)} missed on the held-out inputs ` +
      `(${target.metric} ${targetValue(target, holdout?.quality ?? null)}` +
      `${holdout?.error ? `; ${holdout.error}` : ""})${heads}: left out of the methods file`;
  }
  return `met ${formatTarget(bar)} on the calibration inputs and ${formatTarget(target)} on the ` +
    `held-out inputs${heads}`;
}

/** The calibration inputs, the held-out inputs and the scenario, read and checked. */
interface ResolvedInputs {
  scenario: Scenario;
  size: PresetSize | null;
  /** One source a calibration seed (one for file inputs). */
  calibration: QkvSource[];
  holdout: QkvSource;
}

async function fileInputs(path: string): Promise<{ scenario: Scenario; inputs: QkvSource }> {
  const file = await loadFileInputs(path);
  await file.inputs.validateAll();
  return file;
}

/** The parts of a scenario held-out inputs must share with the calibration ones. */
function shapeOf(s: Scenario): string {
  const { latent, text, shots, textSegments, heads, headDim, modelType } = s;
  return JSON.stringify({ latent, text, shots, textSegments, heads, headDim, modelType });
}

async function resolveInputs(
  config: CalibrationConfig,
  files: {
    calibration?: Awaited<ReturnType<typeof fileInputs>>;
    holdout?: Awaited<ReturnType<typeof fileInputs>>;
  },
  size: PresetSize,
): Promise<ResolvedInputs> {
  const isPreset = !files.calibration && !config.scenario!.toLowerCase().endsWith(".json");
  const scenario = files.calibration?.scenario ?? await resolveScenario(config.scenario!, size);
  if (files.holdout && shapeOf(files.holdout.scenario) !== shapeOf(scenario)) {
    throw new RangeError(
      `--holdout-inputs ${config.holdoutInputs}: its scenario ${shapeOf(files.holdout.scenario)} ` +
        `must have the shape of the calibration scenario ${shapeOf(scenario)}`,
    );
  }
  return {
    scenario,
    size: isPreset ? size : null,
    calibration: files.calibration
      ? [files.calibration.inputs]
      : calibrationSeeds(config.seed, config.seeds).map((seed) =>
        syntheticInputs(scenario, { seed })
      ),
    holdout: files.holdout?.inputs ?? syntheticInputs(scenario, { seed: config.holdoutSeed }),
  };
}

/** Result of {@link runCalibration}: the record and the methods file it chose. */
export interface CalibrationOutcome {
  /** The calibration record. */
  record: CalibrationRecord;
  /** The methods file: the chosen specs that carried over to the held-out inputs. */
  methodsFile: MethodsFile;
}

/** Runs the calibration described by `config` (writes nothing). */
export async function runCalibration(
  config: CalibrationConfig,
  hooks: { onProgress?: ProgressHook; onNotice?: (message: string) => void } = {},
): Promise<CalibrationOutcome> {
  const methods = methodsToCalibrate(config.methods);
  if (config.scenario === undefined && config.inputs === undefined) {
    throw new RangeError("--scenario or --inputs FILE is required");
  }
  const margin = marginFor(config.target, config.margin);
  const bar = withMargin(config.target, margin);
  const seedCount = config.inputs === undefined ? config.seeds : 1;
  if (!Number.isInteger(config.seeds) || config.seeds < 1 || seedCount !== config.seeds) {
    throw new RangeError(
      `--seeds must be an integer ≥ 1, and 1 with --inputs FILE (got ${config.seeds})`,
    );
  }
  if (config.scenario !== undefined) await resolveScenario(config.scenario, "ci");
  const files = {
    calibration: config.inputs === undefined ? undefined : await fileInputs(config.inputs),
    holdout: config.holdoutInputs === undefined
      ? undefined
      : await fileInputs(config.holdoutInputs),
  };
  const runtime = await GpuRuntime.open();
  try {
    const { facts } = runtime;
    const size = config.size ?? (facts.fallback ? "ci" : "full");
    if (!config.size && !files.calibration) {
      hooks.onNotice?.(
        `adapter "${facts.description}" is ${
          facts.fallback ? "a software fallback: using ci sizes" : "a GPU: using full sizes"
        } (--size to choose)`,
      );
    }
    const resolved = await resolveInputs(config, files, size);
    const { scenario } = resolved;
    const qualityHeads = qualityHeadsOf(scenario, true);
    checkMemory(
      scenario,
      estimateMemory(scenario, storagePrecision(config.precision), qualityHeads),
      { ...facts, hostMemoryBytes: Deno.systemMemoryInfo().total },
    );
    const precision = config.precision !== "f32" && !facts.shaderF16 ? "f32" : config.precision;
    if (precision !== config.precision) {
      hooks.onNotice?.(`--precision ${config.precision} needs shader-f16: running f32`);
    }
    const runner: PassRunner = {
      runtime,
      scenario,
      // Calibration reads quality only: no warm-up and one timed run a case.
      settings: {
        precision,
        tiling: config.tiling,
        warmup: 0,
        repeats: 1,
        budgetMs: 10000,
        quality: true,
      },
      onProgress: hooks.onProgress,
    };
    const seeds = calibrationSeeds(config.seed, seedCount);
    const calibrationPasses = seeds.map((seed, i) => ({ inputs: resolved.calibration[i], seed }));
    const holdoutPass = { inputs: resolved.holdout, seed: config.holdoutSeed };
    /** Runs `methods` on every calibration seed: per method, one outcome a seed. */
    const onEverySeed = async (methods: Method[]): Promise<SeedQuality[][]> => {
      const perSeed: CaseOutcome[][] = [];
      for (const pass of calibrationPasses) perSeed.push(await runPass(runner, pass, methods));
      return methods.map((_, m) =>
        perSeed.map((outcomes, s) => seedQuality(seeds[s], outcomes[m]))
      );
    };
    const grids = methods.map((m) => m.definition.knob.grid(scenario));
    const gridMethods = methods.flatMap((m, i) =>
      grids[i].map((setting) =>
        m.definition.create({ ...m.fixed, [m.definition.knob.param]: setting })
      )
    );
    const sweepOutcomes = await onEverySeed(gridMethods);
    let next = 0;
    const entries: MethodCalibration[] = [];
    const whys: string[] = [];
    for (const [i, method] of methods.entries()) {
      const sweep = grids[i].map((setting): SweepPoint => {
        const bySeed = sweepOutcomes[next++];
        const { quality, heads, tokenSparsity, ...error } = combined(bySeed);
        return { setting, quality, heads, tokenSparsity, bySeed, ...error };
      });
      const perHead = method.definition.knob.perHeadParam !== undefined && scenario.heads > 1 &&
        qualityHeads === scenario.heads;
      const { knob, name } = method.definition;
      const { chosen, why } = chooseSetting(
        { method: name, param: knob.param, perHeadParam: knob.perHeadParam, fixed: method.fixed },
        sweep,
        {
          target: bar,
          perHead,
          inputs: seeds.length > 1
            ? `the calibration inputs (worst of seeds ${seeds.join(", ")})`
            : undefined,
        },
      );
      whys.push(why);
      entries.push({
        method: method.definition.name,
        knob: method.definition.knob.param,
        perHead: perHead && chosen !== null && chosen.settings.length > 1,
        sweep,
        chosen,
        calibration: null,
        holdout: null,
        carriedOver: false,
        note: "",
      });
    }
    const picked = entries.filter((e) => e.chosen);
    const chosenMethods = await Promise.all(picked.map((e) => resolveMethod(e.chosen!.spec)));
    const describe = (source: QkvSource) => source.description;
    const calibrationText = resolved.calibration.map(describe).join("; ");
    const onCalibration = picked.length ? await onEverySeed(chosenMethods) : [];
    const onHoldout = picked.length ? await runPass(runner, holdoutPass, chosenMethods) : [];
    picked.forEach((entry, i) => {
      entry.calibration = checked(onCalibration[i], bar, calibrationText);
      entry.holdout = checked(
        [seedQuality(config.holdoutSeed, onHoldout[i])],
        config.target,
        describe(resolved.holdout),
      );
      entry.carriedOver = entry.calibration.met && entry.holdout.met;
    });
    // Per-head choice needs every head's quality; past the CPU budget one setting serves all.
    const uncovered = qualityHeads < scenario.heads && scenario.heads > 1
      ? `; one setting for every head: quality covers heads 0..${qualityHeads - 1} of ` +
        `${scenario.heads} (CPU budget)`
      : "";
    entries.forEach((entry, i) => {
      const perHeadMethod = methods[i].definition.knob.perHeadParam !== undefined;
      entry.note = noteOf(entry, { target: config.target, bar }, whys[i]) +
        (perHeadMethod ? uncovered : "");
    });
    const record: CalibrationRecord = {
      schema: CALIBRATION_SCHEMA,
      commit: await gitCommit(),
      date: new Date().toISOString(),
      command: config.command,
      adapter: facts,
      scenario: scenario.name,
      size: resolved.size,
      precision,
      target: formatTarget(config.target),
      margin,
      calibrationTarget: formatTarget(bar),
      calibrationInputs: resolved.calibration.map((source, i) => ({
        inputs: describe(source),
        seed: seeds[i],
      })),
      holdoutInputs: { inputs: describe(resolved.holdout), seed: config.holdoutSeed },
      methods: entries,
    };
    return { record, methodsFile: methodsFileOf(record) };
  } finally {
    runtime.destroy();
  }
}

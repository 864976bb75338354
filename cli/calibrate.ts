/**
 * `deno task calibrate --scenario S --target recall>=0.95 [options]` (docs/cli.md): for every
 * method with a knob, the sparsest setting (per head where the method allows) whose worst case over
 * the calibration seeds meets target + margin, checked against the target on held-out inputs;
 * writes `methods.json` (for `bench --methods`: the choices that carried over) and
 * `calibration.json`, prints the table. Exit 0 when done, 1 when a case failed or no method's choice met the target on the
 * held-out inputs (an empty methods file), 2 on bad options (one line, nothing written).
 *
 * @module
 */
import { join } from "node:path";
import { runCalibration } from "../bench/calibrate.ts";
import { calibrationSeeds, marginFor } from "../bench/calibration_guard.ts";
import { parseTarget } from "../bench/calibration_search.ts";
import { calibrationTable } from "../bench/calibration_table.ts";
import { ProgressLine } from "../bench/progress.ts";
import { defaultOutDir } from "../bench/run_meta.ts";
import { parseTiling } from "../kernels/attention_tiling.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";
import { PRECISIONS } from "../records/schema.ts";
import { PRESET_SIZES } from "../scenarios/presets.ts";
import {
  checkWritableDir,
  choiceOption,
  integerOption,
  listOption,
  parseCommandLine,
  runCommand,
  UsageError,
} from "./_usage.ts";

/** Calibration seeds when `--seeds` is not given (synthetic inputs). */
export const DEFAULT_SEEDS = 3;

/** File names `calibrate` writes into `--out`. */
export const CALIBRATE_FILES = { methods: "methods.json", record: "calibration.json" } as const;

const USAGE = `usage: deno task calibrate --scenario SPEC --target recall>=X|relL2<=X [options]

--scenario SPEC         preset name or scenario .json file (one)
--target T              recall>=X (0 < X ≤ 1) or relL2<=X (X ≥ 0), quality against dense
--margin M              0..slack (1−X for recall, X for relL2): the calibration inputs must meet
                        recall>=X+M or relL2<=X−M (default: a tenth of the slack)
--seeds N               1..64 calibration seeds (--seed, --seed + 1, …); the choice must meet
                        the target + margin on every one (default 3; 1 with --inputs)
--methods SPEC[,…]      methods with a knob, optionally with fixed parameters
                        (e.g. moc:chunk=256) (default: every method with a knob)
--size full|ci          preset size (default: ci on a software adapter, full on a GPU)
--precision f32|f16|f16-math
                        as bench (default f32)
--tiling NAME           kernel tiling, as bench (default: measured once per adapter)
--seed N                first seed of the synthetic calibration inputs and sampled queries
                        (default 1)
--inputs SRC            calibration inputs: FILE.safetensors or DIR of .npy (its sidecar is the
                        scenario; not with --scenario) (default: synthetic, --seed)
--holdout-seed N        seed of the synthetic held-out inputs, not a calibration seed
                        (default: --seed + --seeds)
--holdout-inputs SRC    held-out inputs: a file of the calibration scenario's shape
--out DIR               output folder (default results/calibrate-<date-time>/)
--quiet                 no progress lines`;

async function main(args: string[]): Promise<number> {
  const options = {
    scenario: { type: "string" },
    target: { type: "string" },
    margin: { type: "string" },
    seeds: { type: "string" },
    methods: { type: "string" },
    size: { type: "string" },
    precision: { type: "string" },
    tiling: { type: "string" },
    seed: { type: "string" },
    inputs: { type: "string" },
    "holdout-seed": { type: "string" },
    "holdout-inputs": { type: "string" },
    out: { type: "string" },
    quiet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const { values } = parseCommandLine({ args, allowPositionals: false, options });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.target === undefined) {
    throw new UsageError(
      "--target is required: recall>=X or relL2<=X (e.g. --target recall>=0.95)",
    );
  }
  if (values.scenario === undefined && values.inputs === undefined) {
    throw new UsageError("--scenario SPEC (or --inputs FILE) is required");
  }
  if (values.scenario !== undefined && values.inputs !== undefined) {
    throw new UsageError(
      "--scenario and --inputs FILE cannot be combined (the file's sidecar is the scenario)",
    );
  }
  const scenarios = values.scenario === undefined
    ? []
    : listOption("scenario", values.scenario, "preset or scenario file");
  if (scenarios.length > 1) {
    throw new UsageError(`--scenario must name one scenario (got ${scenarios.length})`);
  }
  const target = parseTarget(values.target);
  const margin = values.margin === undefined ? undefined : marginFor(target, values.margin);
  const seed = integerOption("seed", values.seed, 1, 0, 2 ** 32 - 1);
  const seedCount = integerOption("seeds", values.seeds, values.inputs ? 1 : DEFAULT_SEEDS, 1, 64);
  if (values.inputs !== undefined && seedCount !== 1) {
    throw new UsageError(
      `--seeds must be 1 with --inputs FILE (one calibration file; got ${seedCount})`,
    );
  }
  const seeds = calibrationSeeds(seed, seedCount);
  const holdoutSeed = integerOption(
    "holdout-seed",
    values["holdout-seed"],
    (seed + seedCount) % 2 ** 32,
    0,
    2 ** 32 - 1,
  );
  if (
    values["holdout-inputs"] === undefined && values.inputs === undefined &&
    seeds.includes(holdoutSeed)
  ) {
    throw new UsageError(
      `--holdout-seed must not be a calibration seed (${seeds.join(", ")}; --seed ${seed}, ` +
        `--seeds ${seedCount}) (got ${holdoutSeed})`,
    );
  }
  let tiling;
  try {
    tiling = values.tiling === undefined ? undefined : parseTiling(values.tiling);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = {
    scenario: scenarios[0],
    inputs: values.inputs,
    holdoutInputs: values["holdout-inputs"],
    methods: values.methods === undefined
      ? undefined
      : listOption("methods", values.methods, "method"),
    target,
    margin,
    seeds: seedCount,
    size: values.size === undefined
      ? undefined
      : choiceOption("size", values.size, PRESET_SIZES, "ci"),
    seed,
    holdoutSeed,
    precision: choiceOption("precision", values.precision, PRECISIONS, "f32"),
    tiling,
    command: ["deno task calibrate", ...args].join(" "),
  };
  const out = values.out ?? defaultOutDir("calibrate-");
  await checkWritableDir(out);
  const progress = new ProgressLine({ quiet: values.quiet });
  const { record, methodsFile } = await runCalibration(config, {
    onProgress: ({ done, total, label }) => progress.startCase(done, total, label),
    onNotice: (message) => console.error(`calibrate: ${message}`),
  }).finally(() => progress.finish());
  const recordPath = join(out, CALIBRATE_FILES.record);
  const methodsPath = join(out, CALIBRATE_FILES.methods);
  await writeFileAtomic(recordPath, JSON.stringify(record, null, 2) + "\n");
  // A methods file holds at least one spec (bench refuses an empty one): none is written then.
  if (methodsFile.methods.length > 0) {
    await writeFileAtomic(methodsPath, JSON.stringify(methodsFile, null, 2) + "\n");
  }
  const seedList = record.calibrationInputs.map((i) => i.seed).join(", ");
  console.log(
    `calibrated to ${record.calibrationTarget} (${record.target}, margin ${record.margin}), ` +
      `worst case over seed(s) ${seedList}; held out: ${record.holdoutInputs.inputs} against ` +
      `${record.target}\n`,
  );
  console.log(calibrationTable(record));
  const carried = record.methods.filter((m) => m.carriedOver).length;
  const written = carried > 0
    ? `written to ${methodsPath} (deno task bench ${
      config.scenario === undefined ? `--inputs ${config.inputs}` : `--scenario ${config.scenario}`
    } --methods ${methodsPath})`
    : "no methods file written";
  console.log(
    `\n${carried} of ${record.methods.length} methods met ${record.target} on the held-out ` +
      `inputs: ${written}; record ${recordPath}`,
  );
  const failed = record.methods.flatMap((m) => [
    ...m.sweep.filter((p) => p.error).map((p) => `${m.method} ${m.knob}=${p.setting}: ${p.error}`),
    ...[m.calibration, m.holdout].filter((c) => c?.error).map((c) =>
      `${m.chosen!.spec}: ${c!.error}`
    ),
  ]);
  for (const line of failed) console.log(`failed: ${line}`);
  return failed.length > 0 || methodsFile.methods.length === 0 ? 1 : 0;
}

if (import.meta.main) await runCommand("calibrate", () => main(Deno.args));

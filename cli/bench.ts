/**
 * `deno task bench [options]` (docs/cli.md): runs a suite of (scenario × method) cases and writes
 * results.json, results.csv and report.html. Exit 0 when every case ran or was not applicable
 * (a method refusing a scenario it cannot run by definition), 1 when one failed,
 * 2 on bad options (one line, nothing written).
 *
 * @module
 */
import { type BenchConfig, notice, runBench, writeRunFiles } from "../bench/bench.ts";
import { publishFolder, publishNewFolder, stagingFolder } from "../bench/output_folder.ts";
import { ProgressLine } from "../bench/progress.ts";
import { defaultOutDir } from "../bench/run_meta.ts";
import { NOTHING_ATTENDED_NOTE } from "../bench/runner.ts";
import { summaryTable, wholeRunTable } from "../bench/summary_table.ts";
import { DEFAULT_ATTENTION_SHARE } from "../bench/whole_run.ts";
import { SUITES } from "../bench/suites.ts";
import { PRESET_SIZES } from "../scenarios/presets.ts";
import { MAX_HEADS } from "../scenarios/validate.ts";
import { parseShard } from "../records/shards.ts";
import { expandMethodsFiles } from "../methods/methods_file.ts";
import {
  appendHistory,
  historyEntryOf,
  historyTrendData,
  readHistory,
  type TrendRow,
} from "../records/history.ts";
import { BASELINE_DIR, checkBaselineName, saveBaseline } from "../records/baseline.ts";
import { writeReportFor } from "../reports/write_report.ts";
import { PRECISIONS } from "../records/schema.ts";
import { parseTiling } from "../kernels/attention_tiling.ts";
import {
  checkWritableDir,
  checkWritableFile,
  choiceOption,
  integerOption,
  listOption,
  parseCommandLine,
  runCommand,
  SHARED_OPTIONS,
  TIME_LIMIT_USAGE,
  UsageError,
  userTimeLimitMs,
} from "./_usage.ts";

const USAGE = `usage: deno task bench [options]

--suite NAME            ${[...SUITES.keys()].join(" | ")} (default: default)
--scenario SPEC[,…]     preset name or scenario .json file (overrides the suite's)
--size full|ci          preset size (default: ci on a software adapter, full on a GPU)
--methods SPEC[,…]      name[:key=value;…], ./my_method.ts or a methods FILE.json (e.g.
                        written by calibrate) (default: every method)
--precision f32|f16|f16-math
                        f16: f16 storage, f32 arithmetic; f16-math: f16 storage and f16
                        products (f32 softmax and outputs); both need shader-f16 (default f32)
--tiling NAME           kernel tiling, e.g. rows128x16 or 64x32.s4x4.o8x8 (default: measured
                        once per adapter and head dim, kernels/attention_tuner.ts)
--inputs SRC            synthetic | FILE.safetensors | DIR of .npy (default synthetic)
--heads N               run N heads of every scenario instead of the preset's
--seed N                input and sampling seed (default 1)
--warmup N              untimed runs per case (default 2 on a GPU, 1 on software)
--repeats N             timed runs per case (default 20 on a GPU, 5 on software)
--budget-ms N           time budget of one case's repeats; slow cases run fewer (≥ 3) (default 10000)
--attention-share X     attention's share (0 < X ≤ 1) of a dense step's time, for the
                        projected end-to-end speedup of scenarios with a schedule
                        (default 0.847: 800 of 945 s, HunyuanVideo on an H100, STA paper)
--no-quality            skip the quality proxies
--shard I/N             run every N-th case starting at I
--out DIR               output folder (default results/<date-time>/)
--history FILE          append the run's summary to FILE (JSON Lines; default results/history.jsonl)
--no-history            do not append to a history file
--save-baseline NAME    also save the results as baselines/NAME.json
--quiet                 no progress (on a terminal one line rewritten in place; otherwise a
                        line per case and, inside a case, one at least every --progress-every)
--progress-every S      seconds between progress lines inside a case, 2..600 (default 10)
${TIME_LIMIT_USAGE}`;

function parseTilingOption(name: string) {
  try {
    return parseTiling(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function attentionShareOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_ATTENTION_SHARE;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new UsageError(`--attention-share must be a number in (0, 1] (got "${text}")`);
  }
  return value;
}

async function main(args: string[]): Promise<number> {
  const options = {
    ...SHARED_OPTIONS,
    suite: { type: "string" },
    inputs: { type: "string" },
    heads: { type: "string" },
    warmup: { type: "string" },
    repeats: { type: "string" },
    "budget-ms": { type: "string" },
    "no-quality": { type: "boolean" },
    shard: { type: "string" },
    history: { type: "string" },
    "no-history": { type: "boolean" },
    "save-baseline": { type: "string" },
    quiet: { type: "boolean" },
    "progress-every": { type: "string" },
    tiling: { type: "string" },
    "attention-share": { type: "string" },
  } as const;
  const { values } = parseCommandLine({ args, allowPositionals: false, options });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const suite = SUITES.get(values.suite ?? "default");
  if (!suite) {
    throw new UsageError(
      `--suite must be one of ${[...SUITES.keys()].join(", ")} (got "${values.suite}")`,
    );
  }
  const config: BenchConfig = {
    suite,
    scenarios: values.scenario === undefined
      ? undefined
      : listOption("scenario", values.scenario, "preset or scenario file"),
    methods: values.methods === undefined
      ? undefined
      : await expandMethodsFiles(listOption("methods", values.methods, "method")),
    size: values.size === undefined
      ? undefined
      : choiceOption("size", values.size, PRESET_SIZES, "ci"),
    inputs: values.inputs ?? "synthetic",
    heads: values.heads === undefined
      ? undefined
      : integerOption("heads", values.heads, 1, 1, MAX_HEADS),
    shard: values.shard === undefined ? undefined : parseShard(values.shard),
    settings: {
      precision: choiceOption("precision", values.precision, PRECISIONS, "f32"),
      tiling: values.tiling === undefined ? undefined : parseTilingOption(values.tiling),
      seed: integerOption("seed", values.seed, 1, 0, 2 ** 32 - 1),
      warmup: integerOption("warmup", values.warmup, -1, 0, 1000),
      repeats: integerOption("repeats", values.repeats, -1, 1, 100000),
      budgetMs: integerOption("budget-ms", values["budget-ms"], 10000, 1),
      quality: !values["no-quality"],
    },
    userTimeLimitMs: userTimeLimitMs(values["time-limit-s"]),
    attentionShare: attentionShareOption(values["attention-share"]),
    command: ["deno task bench", ...args].join(" "),
  };
  if (values.scenario && values.inputs && values.inputs !== "synthetic") {
    throw new UsageError(
      "--scenario and --inputs FILE cannot be combined (the file's sidecar is the scenario)",
    );
  }
  if (values.history !== undefined && values["no-history"]) {
    throw new UsageError("--history FILE and --no-history cannot be combined");
  }
  const historyPath = values["no-history"] ? null : values.history ?? "results/history.jsonl";
  const baselineName = values["save-baseline"];
  if (baselineName !== undefined) {
    checkBaselineName(baselineName);
    if (config.shard) {
      throw new UsageError("--save-baseline needs the whole run, not --shard (merge shards first)");
    }
    await checkWritableDir(BASELINE_DIR, "save-baseline");
  }
  const out = values.out ?? defaultOutDir();
  await checkWritableDir(out);
  if (historyPath) await checkWritableFile(historyPath, "history");
  const progressEvery = integerOption("progress-every", values["progress-every"], 10, 2, 600);
  const progress = new ProgressLine({ quiet: values.quiet, everyMs: progressEvery * 1000 });
  const outcome = await runBench(config, {
    onProgress: ({ done, total, label }) => progress.startCase(done, total, label),
    onStep: (step) => progress.step(step),
  }).finally(() => progress.finish());
  const { results, failed, notApplicable } = outcome;
  let trend: TrendRow[] = [];
  if (historyPath) {
    const history = await readHistory(historyPath);
    for (const w of history.warnings) notice(`${historyPath}:${w.line}: ${w.message} (skipped)`);
    trend = historyTrendData([...history.entries, historyEntryOf(results)]);
  }
  // The whole set goes into a staging folder and is renamed into place; history comes last.
  const staged = await stagingFolder(out);
  await writeRunFiles(staged, outcome);
  await writeReportFor([results], staged, trend);
  let outDir = out;
  if (values.out === undefined) outDir = await publishNewFolder(staged, out);
  else await publishFolder(staged, out);
  if (baselineName !== undefined) {
    notice(`baseline saved to ${await saveBaseline(results, baselineName)}`);
  }
  if (historyPath) await appendHistory(historyPath, results);
  console.log(summaryTable(results.records));
  if (results.wholeRun) console.log(`\n${wholeRunTable(results.wholeRun)}`);
  for (const r of results.records.filter((r) => r.notes.includes(NOTHING_ATTENDED_NOTE))) {
    console.log(`warning: ${r.scenario} × ${r.method}: ${NOTHING_ATTENDED_NOTE}`);
  }
  console.log(
    `\n${results.records.length} records (${failed.length} failed, ${notApplicable.length} ` +
      `not applicable) on ${results.adapter?.description}` +
      `${results.adapter?.fallback ? " [software fallback adapter]" : ""} → ${outDir}/` +
      `{results.json,results.csv,report.html}`,
  );
  return failed.length > 0 ? 1 : 0;
}

if (import.meta.main) await runCommand("bench", () => main(Deno.args));

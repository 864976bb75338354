/**
 * `deno task merge OUT SHARD…` (docs/cli.md): merges the results of `bench --shard I/N` runs into one
 * results folder (results.json, results.csv) in the unsharded case order, so shards can be
 * reported, compared and saved as a baseline like one run. Exit 0 merged, 2 on bad input (a
 * missing or repeated shard, a case in two shards; one line, nothing written).
 *
 * @module
 */
import { basename } from "node:path";
import { BASELINE_DIR, checkBaselineName, saveBaseline } from "../records/baseline.ts";
import { loadResults } from "../records/results_input.ts";
import { mergeShards } from "../records/shards.ts";
import { writeResults } from "../records/results_io.ts";
import { checkWritableDir, parseCommandLine, runCommand, UsageError } from "./_usage.ts";

const USAGE = `usage: deno task merge OUT SHARD... [--save-baseline NAME]

OUT                   folder to write results.json and results.csv into
SHARD                 the results of one shard of a bench run (a results.json or its
                      folder); or one folder whose sub-folders hold every shard
--save-baseline NAME  also save the merged results as baselines/NAME.json
exit: 0 merged, 2 bad input (a shard missing or given twice, a case in two shards)`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      "save-baseline": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [out, ...sources] = positionals;
  if (sources.length === 0) {
    throw new UsageError(`needs OUT and at least one SHARD (got ${positionals.length} paths)`);
  }
  const baselineName = values["save-baseline"];
  if (baselineName !== undefined) {
    checkBaselineName(baselineName);
    await checkWritableDir(BASELINE_DIR, "save-baseline");
  }
  await checkWritableDir(out, "OUT");
  const files = await Promise.all(sources.map(loadResults));
  // One folder of shard folders is merged by loadResults already.
  const merged = files.length === 1 && files[0].shard === null
    ? files[0]
    : mergeShards(files, { sources });
  await writeResults(out, merged);
  console.log(
    `${merged.records.length} records from ${sources.map((s) => basename(s)).join(", ")} → ` +
      `${out}/{results.json,results.csv}`,
  );
  if (baselineName !== undefined) {
    console.log(`baseline saved to ${await saveBaseline(merged, baselineName)}`);
  }
  return 0;
}

if (import.meta.main) await runCommand("merge", () => main(Deno.args));

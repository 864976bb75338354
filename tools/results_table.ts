/**
 * Prints the Markdown tables of a results folder, or writes them into a Markdown file between
 * its results-table markers: `deno run -A tools/results_table.ts docs/results/nvidia-h200 --write docs/results/nvidia-h200/README.md`.
 *
 * @module
 */
import { parseCommandLine, runCommand, UsageError } from "../cli/_usage.ts";
import { loadResultsFolder, replaceTableBlock, resultsTables } from "../reports/results_table.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";

const USAGE = `usage: deno run -A tools/results_table.ts FOLDER [--write FILE]

FOLDER        a folder of results (e.g. docs/results/nvidia-h200)
--write FILE  replace the results-table block of FILE (e.g. docs/results/nvidia-h200/README.md) instead of printing`;

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args: Deno.args,
    allowPositionals: true,
    options: { write: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError("needs one results folder (e.g. docs/results/nvidia-h200)");
  }
  const tables = resultsTables(await loadResultsFolder(positionals[0]));
  if (values.write === undefined) {
    console.log(tables);
    return 0;
  }
  const text = await Deno.readTextFile(values.write);
  await writeFileAtomic(values.write, replaceTableBlock(text, tables));
  console.log(`results tables written into ${values.write}`);
  return 0;
}

if (import.meta.main) await runCommand("results_table", main);

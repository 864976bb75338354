/**
 * Prints the Markdown tables of a results folder, or writes them into a Markdown file between
 * its results-table markers: `deno run -A tools/results_table.ts docs/results/nvidia-h200 --write README.md`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runCommand, UsageError } from "../cli/_usage.ts";
import { loadResultsFolder, replaceTableBlock, resultsTables } from "../reports/results_table.ts";
import { writeFileAtomic } from "../reports/results_io.ts";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { write: { type: "string" } },
  });
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

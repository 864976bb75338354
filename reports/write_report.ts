/**
 * Writes `report.html` for one or more results files, atomically, with the mask pictures and
 * decay curves the results folder holds.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import type { TrendRow } from "../records/history.ts";
import { renderReport } from "./html.ts";
import { readReportExtras } from "./report_extras.ts";
import type { ResultsFile } from "../records/schema.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";

/**
 * Renders the report of `runs` (with `outDir`'s decay curves and masks, and the trend of
 * `history` rows when given) into `OUT/report.html`.
 */
export async function writeReportFor(
  runs: ResultsFile[],
  outDir: string,
  history: TrendRow[] = [],
): Promise<string> {
  const path = join(outDir, "report.html");
  const scenarios = runs.flatMap((r) => r.records.map((record) => record.scenario));
  const { decay, masks } = await readReportExtras(outDir, scenarios);
  // A single run is named by its results folder; several keep their own facts as labels.
  const runNames = runs.length === 1 ? [basename(resolve(outDir))] : [];
  await writeFileAtomic(path, await renderReport(runs, { decay, masks, history, runNames }));
  return path;
}

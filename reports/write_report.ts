/**
 * Writes `report.html` for one or more results files, atomically, with the mask pictures and
 * decay curves the results folder holds.
 *
 * @module
 */
import { join } from "node:path";
import type { ResultsFile } from "./schema.ts";
import { writeFileAtomic } from "./results_io.ts";

/** Renders the report of `runs` into `OUT/report.html` (or `path` when given). */
export async function writeReportFor(
  runs: ResultsFile[],
  outDir: string,
  path = join(outDir, "report.html"),
): Promise<string> {
  const { renderReport } = await import("./html.ts");
  await writeFileAtomic(path, await renderReport(runs));
  return path;
}

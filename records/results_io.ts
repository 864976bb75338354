/**
 * Reading and writing results files: `results.json` (docs/metrics.md schema) and `results.csv` (one
 * flattened row a record, written with csv-stringify). Every write goes to a temporary name
 * first and is renamed into place, so a killed run never leaves half a file.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic_write.ts";
import type { ResultsFile } from "./schema.ts";

/** Flattens nested objects to `a.b.c` columns; arrays become `;`-joined cells. */
export function flattenRecord(value: unknown, prefix = "", into: Record<string, unknown> = {}) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) {
      flattenRecord(inner, prefix ? `${prefix}.${key}` : key, into);
    }
  } else {
    into[prefix] = Array.isArray(value) ? value.join(";") : value;
  }
  return into;
}

/** The CSV text of a results file: one row a record, columns the union of flattened fields. */
export function resultsCsv(results: ResultsFile): string {
  const rows = results.records.map((r) => flattenRecord(r));
  const columns: string[] = [];
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  }
  return stringify(rows, { header: true, columns, cast: { boolean: (b) => String(b) } });
}

/** Writes `OUT/results.json` and `OUT/results.csv`, each atomically. */
export async function writeResults(outDir: string, results: ResultsFile): Promise<void> {
  await writeFileAtomic(join(outDir, "results.json"), JSON.stringify(results, null, 1) + "\n");
  await writeFileAtomic(join(outDir, "results.csv"), resultsCsv(results));
}

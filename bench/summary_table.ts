/**
 * The one-screen summary table printed at the end of a run.
 *
 * @module
 */
import type { BenchRecord } from "../records/schema.ts";

const COLUMNS = [
  "scenario",
  "method",
  "tokens",
  "sparsity",
  "median ms",
  "p10–p90 ms",
  "TFLOP/s",
  "speedup",
  "effic.",
  "relL2",
  "recall",
] as const;

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? "—" : value.toFixed(digits);
}

function significant(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** One row of cells for a record. */
export function summaryRow(r: BenchRecord): string[] {
  if (r.error) {
    const status = r.error.startsWith("UnsupportedScenarioError") ? "n/a" : "FAILED";
    return [r.scenario, r.method, String(r.tokens), status, ...COLUMNS.slice(4).map(() => "")];
  }
  return [
    r.scenario,
    r.method,
    String(r.tokens),
    fixed(r.tokenSparsity, 3),
    significant(r.latency?.median),
    r.latency ? `${significant(r.latency.p10)}–${significant(r.latency.p90)}` : "—",
    significant(r.tflops),
    fixed(r.speedup, 2),
    fixed(r.efficiency, 2),
    r.quality?.relL2 === null || r.quality?.relL2 === undefined
      ? "—"
      : r.quality.relL2.toExponential(1),
    fixed(r.quality?.recall, 3),
  ];
}

/** The table as aligned plain text, then one line per case that failed or did not apply. */
export function summaryTable(records: BenchRecord[]): string {
  const rows = [Array.from(COLUMNS), ...records.map(summaryRow)];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  const errors = records.filter((r) => r.error).map((r) =>
    `${r.scenario} × ${r.method}: ${r.error}`
  );
  return [
    line(rows[0]),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...rows.slice(1).map(line),
    ...(errors.length ? ["", ...errors] : []),
  ].join("\n");
}

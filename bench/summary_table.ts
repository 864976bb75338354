/**
 * The one-screen summary table printed at the end of a run.
 *
 * @module
 */
import type { BenchRecord, WholeRunSummary } from "../records/schema.ts";
import { settingLabel } from "../records/frontier.ts";

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

/** The method cell: the method, and a frontier point's knob setting (`moc k=2`). */
function methodCell(r: BenchRecord): string {
  return r.knob ? `${r.method} ${settingLabel(r.knob)}` : r.method;
}

/** One row of cells for a record. */
export function summaryRow(r: BenchRecord): string[] {
  if (r.error) {
    const status = r.error.startsWith("UnsupportedScenarioError") ? "n/a" : "FAILED";
    return [r.scenario, methodCell(r), String(r.tokens), status, ...COLUMNS.slice(4).map(() => "")];
  }
  return [
    r.scenario,
    methodCell(r),
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

/** Rows as aligned text: the head row, a rule, the body (one string a line). */
export function aligned(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [line(rows[0]), widths.map((w) => "─".repeat(w)).join("  "), ...rows.slice(1).map(line)];
}

const WHOLE_RUN_COLUMNS = [
  "scenario",
  "method",
  "layers×steps",
  "configs (cells)",
  "GFLOP",
  "dense GFLOP",
  "ms",
  "dense ms",
  "speedup",
  "end-to-end",
] as const;

/**
 * The whole-run table: per (scenario, method) Σ over layers × steps × heads, the speedup over
 * the same run all dense, and the projected end-to-end speedup at the stated attention share.
 */
export function wholeRunTable(summaries: WholeRunSummary[]): string {
  const giga = (v: number | null) => v === null ? "—" : significant(v / 1e9);
  const rows = summaries.map((w) => [
    w.scenario,
    w.method,
    `${w.layers}×${w.steps}`,
    w.configs.map((c) => `${c.spec} (${c.cells})`).join(", "),
    giga(w.flops),
    giga(w.denseFlops),
    significant(w.ms),
    significant(w.denseMs),
    fixed(w.speedup, 2),
    fixed(w.endToEndSpeedup, 2),
  ]);
  const share = summaries[0]?.attentionShare;
  return [
    "whole run (Σ over layers × steps × heads of each configuration's per-head figures)",
    ...aligned([Array.from(WHOLE_RUN_COLUMNS), ...rows]),
    `end-to-end: projected with attention = ${fixed(share, 3)} of a dense step's time`,
  ].join("\n");
}

/** The table as aligned plain text, then one line per case that failed or did not apply. */
export function summaryTable(records: BenchRecord[]): string {
  const rows = [Array.from(COLUMNS), ...records.map(summaryRow)];
  const errors = records.filter((r) => r.error).map((r) =>
    `${r.scenario} × ${r.method}: ${r.error}`
  );
  return [...aligned(rows), ...(errors.length ? ["", ...errors] : [])].join("\n");
}

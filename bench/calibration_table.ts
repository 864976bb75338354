/**
 * The table `deno task calibrate` prints: per method the target, the chosen setting(s), the
 * quality on the calibration and held-out inputs, whether the target was met on the held-out
 * inputs, and the note saying where it did not carry over.
 *
 * @module
 */
import type { CalibrationRecord, CheckedSetting } from "./calibration_record.ts";
import { aligned } from "./summary_table.ts";

const COLUMNS = [
  "method",
  "target",
  "chosen",
  "sparsity",
  "calibration",
  "held-out",
  "met held-out",
] as const;

function figure(record: CalibrationRecord, checked: CheckedSetting | null): string {
  const metric = record.target.startsWith("recall") ? "recall" : "relL2";
  const value = checked?.quality?.[metric];
  return value === null || value === undefined ? "—" : value.toPrecision(3);
}

/**
 * The calibration table, then one line a method with its note.
 *
 * @example
 * ```ts
 * import { match, ok } from "node:assert/strict";
 * import { calibrationTable } from "./calibration_table.ts";
 * const checked = (recall: number) => ({ inputs: "synthetic", quality: { recall, relL2: 0.1 },
 *   heads: null, tokenSparsity: 0.5, met: recall >= 0.9, headsMissed: [] });
 * const table = calibrationTable({ target: "recall>=0.9", methods: [{
 *   method: "moc", knob: "k", perHead: false, sweep: [], carriedOver: false,
 *   chosen: { spec: "moc:k=2", settings: [2] }, calibration: checked(0.93), holdout: checked(0.88),
 *   note: "did not carry over" }] } as never);
 * ok(table.includes("moc:k=2"));
 * match(table, /moc:k=2 +0\.500 +0\.930 +0\.880 +no/);
 * ```
 */
export function calibrationTable(record: CalibrationRecord): string {
  const rows = record.methods.map((m) => [
    m.method,
    record.target,
    m.chosen?.spec ?? "none met",
    m.calibration?.tokenSparsity?.toFixed(3) ?? "—",
    figure(record, m.calibration),
    figure(record, m.holdout),
    m.chosen ? (m.holdout?.met ? "yes" : "no") : "—",
  ]);
  const notes = record.methods.map((m) => `${m.method}: ${m.note}`);
  return [...aligned([[...COLUMNS], ...rows]), "", ...notes].join("\n");
}

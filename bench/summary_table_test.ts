import { deepEqual } from "node:assert/strict";
import { summaryRow } from "./summary_table.ts";
import { makeRecord } from "../tests/results_fixtures.ts";

Deno.test("summaryRow names a frontier point's knob setting beside its method", () => {
  const point = makeRecord({ method: "sta", knob: { param: "window", value: [3, 1, 1] } });
  const failed = makeRecord({ method: "moc", knob: { param: "k", value: 2 }, error: "Error: x" });
  deepEqual([point, failed, makeRecord()].map((r) => summaryRow(r)[1]), [
    "sta window=3x1x1",
    "moc k=2",
    "radial",
  ]);
});

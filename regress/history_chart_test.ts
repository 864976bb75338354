import { equal, ok } from "node:assert/strict";
import { compile } from "vega-lite";
import { historyTrendSpec } from "./history_chart.ts";

Deno.test("the trend spec compiles with Vega-Lite to one panel per case", () => {
  const rows = ["a", "b"].flatMap((key) =>
    [1, 2, 3].map((day) => ({
      case: key,
      commit: `c${day}`,
      date: `2025-01-0${day}T00:00:00.000Z`,
      median: day,
      p10: day - 0.5,
      p90: day + 0.5,
    }))
  );
  // deno-lint-ignore no-explicit-any
  const { spec } = compile(historyTrendSpec(rows) as any);
  const facet = spec.data?.find((d) => "values" in d);
  ok(facet, "data travels inside the spec");
  equal((facet as { values: unknown[] }).values.length, 6);
  ok(JSON.stringify(spec).includes('"groupby":["case"]'), "one facet per case");
});

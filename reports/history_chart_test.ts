import { deepEqual, equal, ok } from "node:assert/strict";
import { compile } from "vega-lite";
import { historyTrendSpec } from "./history_chart.ts";

/** Three runs of four cases: two scenarios × two methods, on one adapter or two. */
function trendRows(adapters: string[]) {
  return adapters.flatMap((adapter) =>
    ["hunyuan-ci", "moc-multi-shot"].flatMap((scenario) =>
      ["dense", "moc:k=4"].flatMap((method) =>
        [1, 2, 3].map((day) => ({
          case: `${scenario} · ${method} · f32 · ${adapter}`,
          commit: `c${day}`,
          date: `2025-01-0${day}T00:00:00.000Z`,
          median: day,
          p10: day - 0.5,
          p90: day + 0.5,
        }))
      )
    )
  );
}

Deno.test("the trend is one plot that fits its card: a line a case over run dates, no facets", () => {
  const spec = historyTrendSpec(trendRows(["llvmpipe (LLVM 15.0.6, 256 bits)"]));
  equal(spec.width, "container");
  equal(spec.facet, undefined);
  const [, line] = spec.layer as { mark: { type: string }; encoding: Record<string, unknown> }[];
  equal(line.mark.type, "line");
  deepEqual(line.encoding.detail, { field: "case", type: "nominal" });
  deepEqual(line.encoding.shape, { field: "scenario", type: "nominal", title: "scenario" });
  const values = (spec.data as { values: { method: string; scenario: string }[] }).values;
  deepEqual([...new Set(values.map((v) => v.method))], ["dense", "moc"]);
  // deno-lint-ignore no-explicit-any
  const compiled = compile(spec as any).spec;
  ok(compiled.autosize, "sized to its container");
});

Deno.test("several adapters are not mixed: a drop-down picks the one shown", () => {
  const spec = historyTrendSpec(trendRows(["NVIDIA H200", "llvmpipe (LLVM 15.0.6, 256 bits)"]));
  const [param] = spec.params as { name: string; value: string; bind: { options: string[] } }[];
  equal(param.value, "NVIDIA H200");
  deepEqual(param.bind.options, ["NVIDIA H200", "llvmpipe (LLVM 15.0.6, 256 bits)"]);
  deepEqual(spec.transform, [{ filter: "datum.adapter === adapter" }]);
  equal(historyTrendSpec(trendRows(["NVIDIA H200"])).params, undefined);
});

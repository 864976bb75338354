/**
 * A Vega-Lite spec of latency over runs, in the spirit of asv's trend charts: ONE plot, one line
 * per case (scenario, method, dtype) through its medians by run date, a p10–p90 bar at each run;
 * colour is the method, shape the scenario. Several adapters are not mixed: a drop-down under the
 * chart picks the adapter shown. The report inlines it; data travels in the spec.
 *
 * @module
 */
import type { TrendRow } from "../records/history.ts";

/** A Vega-Lite specification, as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

/** Options of {@link historyTrendSpec}. */
export interface TrendSpecOptions {
  /** Chart title (none by default: the report's card has the heading). */
  title?: string;
  /** Width in pixels, or `"container"` (default) to fill the element the chart is drawn in. */
  width?: number | "container";
  /** Fixed method colours (the report's), `domain` method names, `range` CSS colours. */
  methodColors?: { domain: string[]; range: string[] };
}

/** A trend row with the parts of its case key (records/case_key.ts) as fields. */
export interface TrendPoint extends TrendRow {
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** Method spec with parameters, `moc:block=128;k=4`. */
  config: string;
  /** Storage precision. */
  dtype: string;
  /** Adapter description. */
  adapter: string;
}

/**
 * Splits a case key, `scenario · method:params · dtype · adapter`, into its parts.
 *
 * @example
 * ```ts
 * import { trendPoint } from "./history_chart.ts";
 * import { equal } from "node:assert/strict";
 * const point = trendPoint({ case: "hunyuan-ci · moc:k=4 · f32 · llvmpipe (LLVM 15.0.6)",
 *   commit: null, date: "2025-01-01", median: 2, p10: 1, p90: 3 });
 * equal(point.method, "moc");
 * equal(point.adapter, "llvmpipe (LLVM 15.0.6)");
 * ```
 */
export function trendPoint(row: TrendRow): TrendPoint {
  const [scenario = row.case, config = "", dtype = "", ...adapter] = row.case.split(" · ");
  return {
    ...row,
    scenario,
    method: config.split(":")[0],
    config,
    dtype,
    adapter: adapter.join(" · "),
  };
}

/**
 * The trend chart of `rows` (from `historyTrendData`).
 *
 * @example
 * ```ts
 * import { historyTrendSpec } from "./history_chart.ts";
 * import { equal } from "node:assert/strict";
 * const spec = historyTrendSpec([
 *   { case: "k · dense · f32 · gpu", commit: "abc", date: "2025-01-01", median: 2, p10: 1, p90: 3 },
 * ]);
 * equal((spec.data as { values: unknown[] }).values.length, 1);
 * ```
 */
export function historyTrendSpec(
  rows: readonly TrendRow[],
  options: TrendSpecOptions = {},
): VegaLiteSpec {
  const points = rows.map(trendPoint);
  const adapters = [...new Set(points.map((p) => p.adapter))].sort();
  const pickAdapter = adapters.length > 1;
  const x = { field: "date", type: "temporal", title: "run date", axis: { format: "%b %d %H:%M" } };
  const y = { type: "quantitative", scale: { type: "log" } };
  const color = {
    field: "method",
    type: "nominal",
    title: "method",
    ...(options.methodColors ? { scale: options.methodColors } : {}),
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    data: { values: points },
    width: options.width ?? "container",
    height: 260,
    ...(pickAdapter
      ? {
        params: [{
          name: "adapter",
          value: adapters[0],
          bind: { input: "select", options: adapters, name: "adapter " },
        }],
        transform: [{ filter: "datum.adapter === adapter" }],
      }
      : {}),
    encoding: { x, color },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 1.5, opacity: 0.6 },
        encoding: { y: { field: "p10", ...y }, y2: { field: "p90" } },
      },
      {
        mark: { type: "line", point: { filled: true, size: 50 } },
        encoding: {
          y: { field: "median", ...y, title: "median time (ms), p10–p90" },
          detail: { field: "case", type: "nominal" },
          shape: { field: "scenario", type: "nominal", title: "scenario" },
          tooltip: [
            { field: "scenario", type: "nominal" },
            { field: "config", type: "nominal", title: "method" },
            { field: "dtype", type: "nominal" },
            { field: "adapter", type: "nominal" },
            { field: "commit", type: "nominal" },
            { field: "date", type: "temporal", format: "%Y-%m-%d %H:%M" },
            { field: "median", type: "quantitative", format: ".3g" },
            { field: "p10", type: "quantitative", format: ".3g" },
            { field: "p90", type: "quantitative", format: ".3g" },
          ],
        },
      },
    ],
  };
}

/**
 * A Vega-Lite spec of latency over runs, one panel a case (median line, p10–p90 band), in the
 * spirit of asv's per-benchmark trend charts. The report inlines it; data travels in the spec.
 *
 * @module
 */
import type { TrendRow } from "./history.ts";

/** A Vega-Lite specification, as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

/** Options of {@link historyTrendSpec}. */
export interface TrendSpecOptions {
  /** Chart title. */
  title?: string;
  /** Width of each panel in pixels. */
  width?: number;
}

/**
 * The trend chart of `rows` (from `historyTrendData`).
 *
 * @example
 * ```ts
 * import { historyTrendSpec } from "./history_chart.ts";
 * import { equal } from "node:assert/strict";
 * const spec = historyTrendSpec([
 *   { case: "k", commit: "abc", date: "2025-01-01", median: 2, p10: 1, p90: 3 },
 * ]);
 * equal((spec.data as { values: unknown[] }).values.length, 1);
 * ```
 */
export function historyTrendSpec(
  rows: readonly TrendRow[],
  options: TrendSpecOptions = {},
): VegaLiteSpec {
  const x = { field: "date", type: "temporal", title: "run date" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title ?? "Latency over runs (median, p10–p90)",
    data: { values: [...rows] },
    facet: {
      row: {
        field: "case",
        type: "nominal",
        title: null,
        header: { labelAngle: 0, labelAlign: "left" },
      },
    },
    spec: {
      width: options.width ?? 480,
      height: 100,
      layer: [
        {
          mark: { type: "area", opacity: 0.25 },
          encoding: {
            x,
            y: { field: "p10", type: "quantitative", title: "ms" },
            y2: { field: "p90" },
          },
        },
        {
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "median", type: "quantitative", title: "ms" },
            tooltip: [
              { field: "case", type: "nominal" },
              { field: "commit", type: "nominal" },
              { field: "date", type: "temporal" },
              { field: "median", type: "quantitative", format: ".3g" },
              { field: "p10", type: "quantitative", format: ".3g" },
              { field: "p90", type: "quantitative", format: ".3g" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

/**
 * The frontier charts of a frontier run (docs/frontier.md): per scenario, quality (recall or
 * relL2, picked in a drop-down) against the layer speedup and, where the scenario has a schedule,
 * against the whole-run attention time. Every point is a (method, knob setting); each method's
 * Pareto front is a line in its colour and the overall front a thick dark line. The fronts are
 * computed here (records/frontier.ts), not in the browser: the spec carries one row per point,
 * metric and panel with its front flags.
 *
 * @module
 */
import {
  candidatesOf,
  FRONTIER_METRICS,
  type FrontierMetric,
  type FrontierPoint,
  frontierPoints,
  type FrontierSpeed,
  paretoFront,
  scenariosOf,
} from "../records/frontier.ts";
import type { ResultsFile } from "../records/schema.ts";
import { CHART_CONFIG, methodColorScale, type ReportChart, type VegaLiteSpec } from "./charts.ts";

/** One row of a frontier chart's data: a point under one metric in one panel. */
export interface FrontierChartRow {
  /** `speedup` (layer) or `wholeRun`. */
  panel: FrontierSpeed;
  /** The quality metric of this row. */
  metric: FrontierMetric;
  /** Method name. */
  method: string;
  /** Knob setting as text. */
  setting: string;
  /** Horizontal position: the layer speedup, or the whole-run time in ms. */
  x: number;
  /** The metric's value. */
  quality: number;
  /** On its method's Pareto front in this panel under this metric. */
  methodFront: boolean;
  /** On the scenario's overall front in this panel under this metric. */
  overallFront: boolean;
}

/** The rows of one scenario's points (see {@link FrontierChartRow}). */
export function frontierChartRows(points: readonly FrontierPoint[]): FrontierChartRow[] {
  const rows: FrontierChartRow[] = [];
  for (const panel of ["speedup", "wholeRun"] as const) {
    for (const metric of FRONTIER_METRICS) {
      const candidates = candidatesOf(points, metric, panel);
      const overall = new Set(paretoFront(candidates, metric).map((c) => c.point));
      const onMethodFront = new Set<FrontierPoint>();
      for (const method of new Set(candidates.map((c) => c.method))) {
        const own = candidates.filter((c) => c.method === method);
        for (const c of paretoFront(own, metric)) onMethodFront.add(c.point);
      }
      for (const c of candidates) {
        rows.push({
          panel,
          metric,
          method: c.method,
          setting: c.setting,
          x: panel === "speedup" ? c.point.speedup : c.point.wholeRunMs!,
          quality: c.quality,
          methodFront: onMethodFront.has(c.point),
          overallFront: overall.has(c.point),
        });
      }
    }
  }
  return rows;
}

const PANEL_WIDTH = 330;
const HEIGHT = 260;

/** The drop-down that picks the quality metric (a Vega-Lite variable parameter). */
const METRIC_PARAM = {
  name: "metric",
  value: "recall",
  bind: { input: "select", options: [...FRONTIER_METRICS], name: "quality " },
};

/** One panel: points, each method's front as a line, the overall front on top. */
function panelSpec(
  panel: FrontierSpeed,
  color: VegaLiteSpec,
): VegaLiteSpec {
  const xTitle = panel === "speedup"
    ? "attention speedup vs dense (one layer)"
    : "whole-run attention time (ms, schedule)";
  const x = {
    field: "x",
    type: "quantitative",
    title: xTitle,
    scale: { type: "log" },
  };
  const y = {
    field: "quality",
    type: "quantitative",
    title: "quality: recall (higher is better) or relL2 (lower)",
    scale: { zero: false },
  };
  const tooltip = [
    { field: "method" },
    { field: "setting", title: "setting" },
    { field: "x", title: panel === "speedup" ? "speedup" : "whole-run ms", format: ".3~g" },
    { field: "metric" },
    { field: "quality", format: ".4~g" },
    { field: "overallFront", title: "on the overall front" },
  ];
  return {
    width: PANEL_WIDTH,
    height: HEIGHT,
    transform: [{ filter: `datum.panel === '${panel}' && datum.metric === metric` }],
    layer: [
      {
        transform: [{ filter: "datum.methodFront" }],
        mark: { type: "line", strokeWidth: 1.5, opacity: 0.8 },
        encoding: { x, y, color, detail: { field: "method" } },
      },
      {
        transform: [{ filter: "datum.overallFront" }],
        mark: { type: "line", color: "#222", strokeWidth: 3, opacity: 0.35 },
        encoding: { x, y },
      },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y,
          color,
          shape: {
            field: "overallFront",
            type: "nominal",
            title: "overall front",
            scale: { domain: [true, false], range: ["diamond", "circle"] },
          },
          tooltip,
        },
      },
    ],
  };
}

/**
 * The frontier charts of `runs`: one a (run, scenario) with frontier points (a frontier run),
 * ids `frontier-<n>`; none for matrix runs. `runNames` label the runs when several have points.
 */
export function frontierCharts(
  runs: readonly ResultsFile[],
  runNames: readonly string[] = [],
): ReportChart[] {
  const charts: ReportChart[] = [];
  const withPoints = runs.map((run) => frontierPoints(run.records, run.wholeRun ?? []));
  const several = withPoints.filter((p) => p.length > 0).length > 1;
  const colors = methodColorScale(runs.flatMap((r) => r.records.map((x) => x.method)));
  withPoints.forEach((points, r) => {
    for (const scenario of scenariosOf(points)) {
      const rows = frontierChartRows(points.filter((p) => p.scenario === scenario));
      const methods = new Set(rows.map((row) => row.method));
      const keep = colors.domain.map((m, i) => ({ m, c: colors.range[i] }))
        .filter((x) => methods.has(x.m));
      const color = {
        field: "method",
        type: "nominal",
        title: "method",
        scale: { domain: keep.map((x) => x.m), range: keep.map((x) => x.c) },
      };
      const panels: FrontierSpeed[] = rows.some((row) => row.panel === "wholeRun")
        ? ["speedup", "wholeRun"]
        : ["speedup"];
      const label = several ? ` (${runNames[r] ?? `run ${r + 1}`})` : "";
      charts.push({
        id: `frontier-${charts.length}`,
        title: `Frontier: ${scenario}${label}`,
        caption:
          "Each point is a (method, knob setting); hover for the setting. Thin lines: each " +
          "method's Pareto front; thick grey line and diamonds: the overall front (no other " +
          "point is both faster and better). The drop-down picks recall or relL2." +
          (panels.length > 1 ? " Right: whole-run attention time over the schedule." : ""),
        spec: {
          $schema: "https://vega.github.io/schema/vega-lite/v6.json",
          params: [METRIC_PARAM],
          data: { values: rows },
          hconcat: panels.map((panel) => panelSpec(panel, color)),
          config: CHART_CONFIG,
        },
        emptyNote: "",
      });
    }
  });
  return charts;
}

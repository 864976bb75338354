/**
 * The report's charts as Vega-Lite specs built from the records (never drawn by hand), one
 * function a chart: latency against tokens, speedup and quality against sparsity, counted against
 * analytic FLOPs, routing share of time, MoGA group sizes and the scenario's decay curve. A chart
 * with no data is returned with `spec: null` and a one-line note, and the report leaves it out.
 *
 * Every method keeps one colour in every chart ({@link methodColorScale}); every scenario one
 * point shape; several runs are told apart by opacity and line dash. Lines join only points of
 * one scenario family (a preset and its `@xN` sizes), never different scenarios.
 *
 * @module
 */
import type { AttentionDecay } from "../metrics/decay.ts";
import { type ChartRow, chartRows, methodColorScale } from "./_chart_rows.ts";
import type { ResultsFile } from "../records/schema.ts";

export {
  type ChartRow,
  chartRows,
  configLabel,
  METHOD_ORDER,
  methodColorScale,
  runLabels,
  shortConfigLabels,
} from "./_chart_rows.ts";

/** A Vega-Lite specification (plain JSON; validated by Vega-Lite in the browser and the tests). */
export type VegaLiteSpec = Record<string, unknown>;

/** One chart of the report. */
export interface ReportChart {
  /** Stable id (HTML element ids, tests). */
  id: string;
  /** Heading. */
  title: string;
  /** One or two sentences: what is plotted and how to read it. */
  caption: string;
  /** The spec, or null when the results hold no data for it. */
  spec: VegaLiteSpec | null;
  /** Why the chart is omitted, when `spec` is null. */
  emptyNote: string;
}

/** Options of {@link reportCharts}. */
export interface ReportChartOptions {
  /** The scenarios' decay curves. */
  decay?: AttentionDecay[];
  /** Names of the runs (their results folders), for {@link runLabels}. */
  runNames?: readonly string[];
}

const HEIGHT = 250;
/** Width of one panel of the charts drawn side by side in a full-width card. */
const PANEL_WIDTH = 230;
/** Width of the bars of the bar charts (their labels sit to the left). */
const BAR_WIDTH = 240;

/** Shared look of every chart: system font, quiet grid, filled points, compact legends. */
export const CHART_CONFIG: VegaLiteSpec = {
  font: "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
  view: { stroke: "#d9d9d9" },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    gridColor: "#ececec",
    labelOverlap: true,
    labelSeparation: 4,
  },
  // Log axes otherwise label every 1–9 multiple of a decade.
  axisQuantitative: { tickCount: 6 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 170, symbolOpacity: 1 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  point: { filled: true, size: 60 },
};

/** The encodings every chart shares: method colour, scenario shape, run opacity and dash. */
export interface ChartEncodings {
  /** Colour by method, the report-wide colour, listing only the methods of `shown`. */
  color(shown: ChartRow[], legend?: boolean): VegaLiteSpec;
  /** Shape by scenario (or `field`). */
  shape(field?: "scenario" | "family"): VegaLiteSpec;
  /** Opacity by run when several runs are shown. */
  runOpacity: VegaLiteSpec;
  /** Line dash by run when several runs are shown. */
  runDash: VegaLiteSpec;
  /** Tooltip fields naming the case. */
  caseTooltip: VegaLiteSpec[];
  /** Whether several runs are shown. */
  multiRun: boolean;
}

/** The shared encodings of the charts of `rows` ({@link ChartEncodings}). */
export function chartEncodings(rows: ChartRow[], multiRun: boolean): ChartEncodings {
  const allColors = methodColorScale(rows.map((r) => r.method));
  const run = { field: "run", type: "nominal", title: "run" };
  const runs = [...new Set(rows.map((r) => r.run))];
  return {
    color(shown, legend = true) {
      const present = new Set(shown.map((r) => r.method));
      const keep = allColors.domain.map((m, i) => ({ m, c: allColors.range[i] }))
        .filter((x) => present.has(x.m));
      return {
        field: "method",
        type: "nominal",
        title: "method",
        scale: { domain: keep.map((x) => x.m), range: keep.map((x) => x.c) },
        ...(legend ? {} : { legend: null }),
      };
    },
    shape: (field = "scenario") => ({ field, type: "nominal", title: "scenario" }),
    runOpacity: multiRun
      ? { opacity: { ...run, type: "ordinal", sort: runs, scale: { range: [1, 0.4] } } }
      : {},
    runDash: multiRun ? { strokeDash: run } : {},
    caseTooltip: [
      { field: "scenario" },
      { field: "config", title: "method" },
      ...(multiRun ? [{ field: "run" }] : []),
    ],
    multiRun,
  };
}

/** Against sparsity, dense alone is one point at 0: a chart is drawn only with a sparse method. */
function hasSparse(shown: ChartRow[]): boolean {
  return shown.some((r) => (r.tokenSparsity ?? 0) > 0);
}

/**
 * Median latency against tokens. Each (run, scenario family, method) measured at two or more
 * sizes of the family is joined by a line with its p10–p90 band; every other point stands alone.
 */
export function latencyChart(rows: ChartRow[], enc: ChartEncodings): ReportChart {
  const timed = rows.filter((r) => r.median !== null && r.p10 !== null && r.p90 !== null);
  const seriesOf = (r: ChartRow) => `${r.run} | ${r.family} | ${r.config}`;
  const sizes = new Map<string, Set<string>>();
  for (const r of timed) {
    sizes.set(seriesOf(r), (sizes.get(seriesOf(r)) ?? new Set()).add(r.scenario));
  }
  const values = timed.map((r) => ({
    ...r,
    series: seriesOf(r),
    joined: sizes.get(seriesOf(r))!.size > 1,
  }));
  const joined = values.some((v) => v.joined);
  const y = { type: "quantitative", scale: { type: "log" } };
  const spec: VegaLiteSpec = {
    data: { values },
    config: CHART_CONFIG,
    width: "container",
    height: HEIGHT,
    encoding: {
      x: {
        field: "tokens",
        type: "quantitative",
        scale: { type: "log", nice: false, padding: 14 },
        title: "tokens (L)",
      },
      color: enc.color(timed),
    },
    layer: [
      ...(joined
        ? [{
          transform: [{ filter: "datum.joined" }],
          mark: { type: "area", opacity: 0.14 },
          encoding: {
            y: { field: "p10", ...y },
            y2: { field: "p90" },
            detail: { field: "series" },
          },
        }, {
          transform: [{ filter: "datum.joined" }],
          mark: { type: "line" },
          encoding: { y: { field: "median", ...y }, detail: { field: "series" }, ...enc.runDash },
        }]
        : []),
      {
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: { y: { field: "p10", ...y }, y2: { field: "p90" }, ...enc.runOpacity },
      },
      {
        mark: { type: "point" },
        encoding: {
          y: { field: "median", ...y, title: "median time (ms), p10–p90" },
          shape: enc.shape("family"),
          ...enc.runOpacity,
          tooltip: [
            ...enc.caseTooltip,
            { field: "tokens", format: "," },
            { field: "median", title: "median (ms)", format: ".4~g" },
            { field: "p10", title: "p10 (ms)", format: ".4~g" },
            { field: "p90", title: "p90 (ms)", format: ".4~g" },
          ],
        },
      },
    ],
  };
  return {
    id: "latency",
    title: "Latency against sequence length",
    caption: "Median time of the attention kernels (all heads, one layer), bar from p10 to p90; " +
      "both axes logarithmic; shape: scenario. Lines join only sizes of one scenario family " +
      "(a preset and its @xN sweeps), never different scenarios.",
    spec: timed.length > 0 ? spec : null,
    emptyNote: "No timed records in these results.",
  };
}

/** Speedup over dense against token sparsity, with the FLOPs ratio as the ideal. */
export function speedupChart(rows: ChartRow[], enc: ChartEncodings): ReportChart {
  const sped = rows.filter((r) => r.speedup !== null && r.tokenSparsity !== null);
  const maxSparsity = Math.min(0.99, Math.max(0, ...sped.map((r) => r.tokenSparsity ?? 0)) + 0.02);
  const spec: VegaLiteSpec = {
    config: CHART_CONFIG,
    width: "container",
    height: HEIGHT,
    layer: [
      {
        data: { sequence: { start: 0, stop: maxSparsity, step: 0.005, as: "sparsity" } },
        transform: [{ calculate: "1 / (1 - datum.sparsity)", as: "ideal" }],
        mark: { type: "line", color: "#9e9e9e", strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: {
          x: { field: "sparsity", type: "quantitative" },
          y: { field: "ideal", type: "quantitative" },
        },
      },
      {
        data: { values: sped },
        mark: { type: "point" },
        encoding: {
          x: {
            field: "tokenSparsity",
            type: "quantitative",
            title: "token sparsity",
            axis: { format: "%" },
          },
          y: {
            field: "speedup",
            type: "quantitative",
            scale: { type: "log" },
            title: "speedup over dense",
          },
          color: enc.color(sped),
          shape: enc.shape(),
          ...enc.runOpacity,
          tooltip: [
            ...enc.caseTooltip,
            { field: "tokens", format: "," },
            { field: "tokenSparsity", title: "token sparsity", format: ".2%" },
            { field: "speedup", format: ".3~g" },
          ],
        },
      },
    ],
  };
  return {
    id: "speedup",
    title: "Speedup against token sparsity",
    caption: "Dense median ÷ method median, same run; shape: scenario. Dashed: the FLOPs ratio " +
      "1 / (1 − sparsity), what a kernel as efficient per FLOP as dense would reach.",
    spec: hasSparse(sped) ? spec : null,
    emptyNote: "No sparse method with a speedup in these results (dense alone has sparsity 0).",
  };
}

/** Recall, relL2 and cross-shot recall against token sparsity, one panel a measure. */
export function qualityChart(rows: ChartRow[], enc: ChartEncodings): ReportChart {
  const measures = (["recall", "relL2", "crossShotRecall"] as const).filter((m) =>
    rows.some((r) => r[m] !== null && r.tokenSparsity !== null)
  );
  const rated = rows.filter((r) => r.tokenSparsity !== null && measures.some((m) => r[m] !== null));
  const spec: VegaLiteSpec = {
    data: { values: rated },
    config: CHART_CONFIG,
    transform: [
      { fold: [...measures], as: ["measure", "value"] },
      { filter: "isValid(datum.value)" },
    ],
    facet: {
      column: {
        field: "measure",
        type: "nominal",
        title: null,
        sort: [...measures],
        header: { labelFontWeight: 600 },
      },
    },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: PANEL_WIDTH,
      height: HEIGHT - 30,
      mark: { type: "point" },
      encoding: {
        x: {
          field: "tokenSparsity",
          type: "quantitative",
          title: "token sparsity",
          axis: { format: "%" },
        },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: enc.color(rated),
        shape: enc.shape(),
        ...enc.runOpacity,
        tooltip: [
          ...enc.caseTooltip,
          { field: "tokenSparsity", title: "token sparsity", format: ".2%" },
          { field: "measure" },
          { field: "value", format: ".4~g" },
        ],
      },
    },
  };
  return {
    id: "quality",
    title: "Quality against token sparsity",
    caption: "recall: dense softmax mass the method keeps (1 = nothing dropped); relL2: " +
      "relative error of the output against dense; crossShotRecall: the part of the mass on " +
      "earlier shots that is kept; shape: scenario. Dense is measured against a float64 reference.",
    spec: hasSparse(rated) ? spec : null,
    emptyNote: "No sparse method with quality figures in these results.",
  };
}

/** Counted FLOPs of the layout that ran against the paper's formula, with the diagonal. */
export function flopsChart(rows: ChartRow[], enc: ChartEncodings): ReportChart {
  const analytic = rows.filter((r) => r.flops !== null && r.analyticFlops !== null)
    .map((r) => ({ ...r, ratio: (r.flops ?? 0) / (r.analyticFlops ?? 1) }));
  const flopValues = analytic.flatMap((r) => [r.flops ?? 0, r.analyticFlops ?? 0])
    .filter((v) => v > 0);
  const logAxis = { type: "quantitative", scale: { type: "log", nice: false } };
  const spec: VegaLiteSpec = {
    config: CHART_CONFIG,
    width: "container",
    height: HEIGHT,
    layer: [
      {
        data: {
          values: [
            { equal: Math.min(...flopValues) / 1.5 },
            { equal: Math.max(...flopValues) * 1.5 },
          ],
        },
        mark: { type: "line", color: "#9e9e9e", strokeDash: [5, 4] },
        encoding: { x: { field: "equal", ...logAxis }, y: { field: "equal", ...logAxis } },
      },
      {
        data: { values: analytic },
        mark: { type: "point" },
        encoding: {
          x: {
            field: "analyticFlops",
            ...logAxis,
            title: "analytic FLOPs (paper's formula)",
            axis: { format: "~s" },
          },
          y: {
            field: "flops",
            ...logAxis,
            title: "counted FLOPs (layout that ran)",
            axis: { format: "~s" },
          },
          color: enc.color(analytic),
          shape: enc.shape(),
          ...enc.runOpacity,
          tooltip: [
            ...enc.caseTooltip,
            { field: "flops", title: "counted", format: ".3~s" },
            { field: "analyticFlops", title: "analytic", format: ".3~s" },
            { field: "ratio", title: "counted ÷ analytic", format: ".3~g" },
          ],
        },
      },
    ],
  };
  return {
    id: "flops",
    title: "Counted against analytic FLOPs",
    caption: "Counted: 4·d·(attended pairs) of the layout that ran. Analytic: the paper's own " +
      "formula; shape: scenario. Points off the dashed diagonal show where formula and work differ.",
    spec: flopValues.length > 0 ? spec : null,
    emptyNote: "No method in these results has an analytic FLOPs formula.",
  };
}

/** A bar chart of one bar a case, one panel a scenario (its name above), labels in full. */
function barsByScenario(shown: ChartRow[], enc: ChartEncodings, bars: VegaLiteSpec): VegaLiteSpec {
  const scenarios = [...new Set(shown.map((r) => r.scenario))];
  return {
    data: {
      values: shown.map((r) => ({ ...r, bar: enc.multiRun ? `${r.config} · ${r.run}` : r.config })),
    },
    config: CHART_CONFIG,
    spacing: 10,
    // Panels of their own (not a facet), so each lists only its own cases.
    vconcat: scenarios.map((scenario) => ({
      title: { text: scenario, anchor: "start", fontSize: 12 },
      transform: [{ filter: `datum.scenario === ${JSON.stringify(scenario)}` }],
      ...bars,
    })),
    resolve: { scale: { x: "shared", color: "shared" } },
  };
}

/** Routing ÷ (routing + attention) per case of the dynamic methods, each bar labelled. */
export function routingChart(rows: ChartRow[], enc: ChartEncodings): ReportChart {
  const routed = rows.filter((r) => r.routingShare !== null);
  const y = { field: "bar", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } };
  const x = {
    field: "routingShare",
    type: "quantitative",
    title: "routing share of time (medians)",
    axis: { format: "%" },
    scale: { domain: [0, 1] },
  };
  const spec = barsByScenario(routed, enc, {
    width: BAR_WIDTH,
    height: { step: 20 },
    encoding: { y, x },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          color: enc.color(routed, false),
          tooltip: [
            ...enc.caseTooltip,
            { field: "routingMedian", title: "routing (ms)", format: ".4~g" },
            { field: "median", title: "attention (ms)", format: ".4~g" },
            { field: "routingShare", title: "routing share", format: ".1%" },
          ],
        },
      },
      {
        // The value beside every bar, so a share under 1% still reads.
        mark: { type: "text", align: "left", dx: 4, fontSize: 11, color: "#333" },
        encoding: { text: { field: "routingShare", format: ".1%" } },
      },
    ],
  });
  return {
    id: "routing",
    title: "Routing share of time",
    caption: "Dynamic methods: routing kernels (pooling, scores, top-k, grouping) as a share " +
      "of routing plus attention time, one panel a scenario.",
    spec: routed.length > 0 ? spec : null,
    emptyNote: "No dynamic method with timed routing in these results.",
  };
}

/** MoGA's smallest, median and largest group per case. */
export function groupsChart(rows: ChartRow[], enc: ChartEncodings): ReportChart {
  const grouped = rows.filter((r) =>
    r.groupMin !== null && r.groupMedian !== null && r.groupMax !== null
  );
  const spec = barsByScenario(grouped, enc, {
    width: BAR_WIDTH,
    height: { step: 24 },
    encoding: {
      y: { field: "bar", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } },
      color: enc.color(grouped, false),
      tooltip: [
        ...enc.caseTooltip,
        { field: "groupMin", title: "smallest group", format: "," },
        { field: "groupMedian", title: "median group", format: "," },
        { field: "groupMax", title: "largest group", format: "," },
      ],
    },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2 },
        encoding: {
          x: {
            field: "groupMin",
            type: "quantitative",
            scale: { type: "log" },
            title: "tokens per group: min – median – max",
          },
          x2: { field: "groupMax" },
        },
      },
      {
        mark: { type: "tick", thickness: 2, size: 14 },
        encoding: { x: { field: "groupMin", type: "quantitative" } },
      },
      {
        mark: { type: "tick", thickness: 2, size: 14 },
        encoding: { x: { field: "groupMax", type: "quantitative" } },
      },
      {
        mark: { type: "point", size: 80 },
        encoding: { x: { field: "groupMedian", type: "quantitative" } },
      },
    ],
  });
  return {
    id: "groups",
    title: "Group sizes (MoGA)",
    caption: "Smallest, median and largest group per case, one panel a scenario: imbalance is " +
      "what drives MoGA's cost.",
    spec: grouped.length > 0 ? spec : null,
    emptyNote: "No records with group sizes (stats.groupMin / groupMedian / groupMax).",
  };
}

/** The inputs' dense attention mass against temporal and spatial distance, per scenario. */
export function decayChart(decay: AttentionDecay[]): ReportChart {
  const values = decay.flatMap((d) => [
    ...d.temporal.map((p) => ({ ...p, curve: "temporal", scenario: d.scenario, head: d.head })),
    ...d.spatial.map((p) => ({ ...p, curve: "spatial", scenario: d.scenario, head: d.head })),
  ]).filter((p) => p.mass > 0);
  const panel = (curve: string, title: string) => ({
    width: 330,
    height: HEIGHT - 30,
    layer: [
      {
        transform: [{ filter: `datum.curve === '${curve}'` }],
        mark: { type: "line", point: { size: 25 } },
        encoding: {
          x: { field: "distance", type: "quantitative", title },
          y: {
            field: "mass",
            type: "quantitative",
            scale: { type: "log" },
            title: "mass per key ÷ uniform",
          },
          color: { field: "scenario", type: "nominal", title: "scenario" },
          tooltip: [
            { field: "scenario" },
            { field: "head" },
            { field: "distance" },
            { field: "mass", title: "mass ÷ uniform", format: ".3~g" },
          ],
        },
      },
      {
        mark: { type: "rule", color: "#9e9e9e", strokeDash: [4, 3] },
        encoding: { y: { datum: 1 } },
      },
    ],
  });
  return {
    id: "decay",
    title: "The inputs: dense attention against distance",
    caption: "Mean softmax probability per key at each distance, divided by the uniform 1/L " +
      "(dashed: uniform attention), from sampled video queries of one head. Left: latent frames " +
      "apart; right: latent patches apart inside the query's own frame.",
    spec: values.length > 0
      ? {
        data: { values },
        config: CHART_CONFIG,
        hconcat: [
          panel("temporal", "|Δt| (latent frames)"),
          panel("spatial", "distance in the frame (latent patches)"),
        ],
      }
      : null,
    emptyNote: "No decay curve was computed for these results.",
  };
}

/** Builds every chart of the report, in reading order (see module doc). */
export function reportCharts(
  runs: ResultsFile[],
  options: ReportChartOptions = {},
): ReportChart[] {
  const rows = chartRows(runs, options.runNames);
  const enc = chartEncodings(rows, runs.length > 1);
  return [
    latencyChart(rows, enc),
    speedupChart(rows, enc),
    qualityChart(rows, enc),
    flopsChart(rows, enc),
    routingChart(rows, enc),
    groupsChart(rows, enc),
    decayChart(options.decay ?? []),
  ];
}

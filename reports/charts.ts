/**
 * The report's charts as Vega-Lite specs built from the records (never drawn by hand): latency
 * against tokens, speedup and quality against sparsity, counted against analytic FLOPs, routing
 * share of time, MoGA group sizes and the scenario's decay curve. A chart with no data is
 * returned with `spec: null` and a one-line note instead of being drawn empty.
 *
 * Every method keeps one colour in every chart ({@link methodColorScale}); several runs are told
 * apart by point shape and line dash.
 *
 * @module
 */
import { formatParams } from "../methods/spec.ts";
import type { AttentionDecay } from "./decay.ts";
import type { BenchRecord, ResultsFile } from "./schema.ts";

/** A Vega-Lite specification (plain JSON; validated by Vega-Lite in the browser and the tests). */
export type VegaLiteSpec = Record<string, unknown>;

/** Methods in their fixed colour order; methods not listed follow, sorted by name. */
export const METHOD_ORDER: readonly string[] = ["dense", "radial", "sta", "moc", "moga"];

/** Colours of {@link METHOD_ORDER}, then the colours other methods take in turn. */
const KNOWN_COLORS = ["#525252", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];
const OTHER_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

/** One successful record, flattened for the charts (null where the record has no figure). */
export interface ChartRow {
  /** Run label ({@link runLabels}). */
  run: string;
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** Method and parameters in spec syntax, `radial:block=128;decay=0.95`. */
  config: string;
  /** `scenario · config`: the case, as the bar charts label it. */
  label: string;
  /** Sequence length. */
  tokens: number;
  /** Token sparsity. */
  tokenSparsity: number | null;
  /** Median attention time, ms. */
  median: number | null;
  /** 10th percentile, ms. */
  p10: number | null;
  /** 90th percentile, ms. */
  p90: number | null;
  /** Median routing time, ms (dynamic methods). */
  routingMedian: number | null;
  /** Routing ÷ (routing + attention) of the medians. */
  routingShare: number | null;
  /** Dense median ÷ method median. */
  speedup: number | null;
  /** Counted FLOPs, all heads. */
  flops: number | null;
  /** The paper's formula, all heads. */
  analyticFlops: number | null;
  /** Recall of dense softmax mass. */
  recall: number | null;
  /** Relative L2 error of the output. */
  relL2: number | null;
  /** Cross-shot recall (multi-shot). */
  crossShotRecall: number | null;
  /** Smallest group (MoGA `stats.groupMin`). */
  groupMin: number | null;
  /** Median group (`stats.groupMedian`). */
  groupMedian: number | null;
  /** Largest group (`stats.groupMax`). */
  groupMax: number | null;
}

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
  /** Why the chart is omitted (shown instead of it when `spec` is null). */
  emptyNote: string;
}

/** A colour scale with a fixed colour per method name, for every chart. */
export function methodColorScale(methods: Iterable<string>): { domain: string[]; range: string[] } {
  const present = new Set(methods);
  const domain = METHOD_ORDER.filter((m) => present.has(m));
  const range = domain.map((m) => KNOWN_COLORS[METHOD_ORDER.indexOf(m)]);
  const others = [...present].filter((m) => !METHOD_ORDER.includes(m)).sort();
  others.forEach((m, i) => {
    domain.push(m);
    range.push(OTHER_COLORS[i % OTHER_COLORS.length]);
  });
  return { domain, range };
}

/**
 * One short label a results file, naming only what tells the runs apart: the adapter (its name
 * before any parenthesis) when adapters differ, the short commit when commits differ, both for a
 * single run; numbered when two runs would still read the same.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { runLabels } from "./charts.ts";
 * import type { ResultsFile } from "./schema.ts";
 * const run = (commit: string) => ({ commit, records: [],
 *   adapter: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" } }) as unknown as ResultsFile;
 * deepEqual(runLabels([run("0123456789"), run("abcdef0123")]), ["0123456", "abcdef0"]);
 * deepEqual(runLabels([run("0123456789")]), ["llvmpipe @ 0123456"]);
 * ```
 */
export function runLabels(runs: ResultsFile[]): string[] {
  const adapters = runs.map((run) => {
    const description = run.adapter?.description || run.records[0]?.adapter.description || "";
    return description.replace(/\s*\(.*$/, "").trim() || "unknown adapter";
  });
  const commits = runs.map((run) => run.commit ? run.commit.slice(0, 7) : "no commit");
  const single = runs.length === 1;
  const showAdapter = single || new Set(adapters).size > 1;
  const showCommit = single ? runs[0].commit !== null : new Set(commits).size > 1;
  const base = runs.map((_, i) =>
    [showAdapter ? adapters[i] : "", showCommit ? commits[i] : ""].filter((x) => x).join(" @ ") ||
    `run ${i + 1}`
  );
  return base.map((label, i) =>
    base.filter((other) => other === label).length > 1 ? `${label} #${i + 1}` : label
  );
}

/** Method and parameters in spec syntax. */
export function configLabel(record: BenchRecord): string {
  const params = formatParams(record.params ?? {});
  return params ? `${record.method}:${params}` : record.method;
}

function statNumber(record: BenchRecord, key: string): number | null {
  const value = record.stats?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The successful records of every run as chart rows. */
export function chartRows(runs: ResultsFile[]): ChartRow[] {
  const labels = runLabels(runs);
  const rows: ChartRow[] = [];
  runs.forEach((run, r) => {
    for (const record of run.records) {
      if (record.error) continue;
      const latency = record.latency;
      const config = configLabel(record);
      const routingMedian = latency?.routingMedian ?? null;
      rows.push({
        run: labels[r],
        scenario: record.scenario,
        method: record.method,
        config,
        label: `${record.scenario} · ${config}`,
        tokens: record.tokens,
        tokenSparsity: record.tokenSparsity,
        median: latency?.median ?? null,
        p10: latency?.p10 ?? null,
        p90: latency?.p90 ?? null,
        routingMedian,
        routingShare: latency && routingMedian !== null
          ? routingMedian / (routingMedian + latency.median)
          : null,
        speedup: record.speedup,
        flops: record.flops,
        analyticFlops: record.analyticFlops,
        recall: record.quality?.recall ?? null,
        relL2: record.quality?.relL2 ?? null,
        crossShotRecall: record.quality?.crossShotRecall ?? null,
        groupMin: statNumber(record, "groupMin"),
        groupMedian: statNumber(record, "groupMedian"),
        groupMax: statNumber(record, "groupMax"),
      });
    }
  });
  return rows;
}

const WIDTH = 390;
/** Bar charts give part of their width to the case labels. */
const BAR_WIDTH = 220;
const HEIGHT = 250;

/** Shared look: system font, quiet grid, filled points. */
const CONFIG = {
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
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, symbolOpacity: 1 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  point: { filled: true, size: 55 },
};

/** Builds every chart of the report (see module doc). */
export function reportCharts(runs: ResultsFile[], decay: AttentionDecay[] = []): ReportChart[] {
  const rows = chartRows(runs);
  const allColors = methodColorScale(rows.map((r) => r.method));
  // Each legend lists only the methods its chart shows, each in its report-wide colour.
  const colorOf = (shown: ChartRow[], legend: boolean = true) => {
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
  };
  const multiRun = runs.length > 1;
  const shape = multiRun ? { shape: { field: "run", type: "nominal", title: "run" } } : {};
  const dash = multiRun ? { strokeDash: { field: "run", type: "nominal", title: "run" } } : {};
  const base = (values: unknown[]) => ({ data: { values }, config: CONFIG });
  // Against sparsity, dense alone is one point at 0: draw only when a sparse method is there.
  const sparse = (shown: ChartRow[]) => shown.some((r) => (r.tokenSparsity ?? 0) > 0);
  // Charts with one row a case: with several runs, one panel a run, so labels stay short.
  const perRun = (values: ChartRow[], view: VegaLiteSpec): VegaLiteSpec =>
    multiRun
      ? {
        ...base(values),
        facet: {
          row: {
            field: "run",
            type: "nominal",
            title: null,
            header: { labelAngle: 0, labelAlign: "left", labelFontWeight: 600 },
          },
        },
        spec: view,
      }
      : { ...base(values), ...view };
  const labelTooltip = [
    { field: "scenario" },
    { field: "config", title: "method" },
    ...(multiRun ? [{ field: "run" }] : []),
  ];

  const timed = rows.filter((r) => r.median !== null && r.p10 !== null && r.p90 !== null);
  const latency: VegaLiteSpec = {
    ...base(timed.map((r) => ({ ...r, series: `${r.run} ${r.config}` }))),
    width: WIDTH,
    height: HEIGHT,
    encoding: {
      x: {
        field: "tokens",
        type: "quantitative",
        scale: { type: "log", nice: false, padding: 14 },
        title: "tokens (L)",
      },
      color: colorOf(timed),
    },
    layer: [
      {
        mark: { type: "area", opacity: 0.14 },
        encoding: {
          y: { field: "p10", type: "quantitative", scale: { type: "log" } },
          y2: { field: "p90" },
          detail: { field: "series" },
        },
      },
      {
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: { y: { field: "p10", type: "quantitative" }, y2: { field: "p90" } },
      },
      {
        mark: { type: "line", point: true },
        encoding: {
          y: {
            field: "median",
            type: "quantitative",
            scale: { type: "log" },
            title: "median time (ms), p10–p90",
          },
          detail: { field: "series" },
          ...dash,
          ...shape,
          tooltip: [
            ...labelTooltip,
            { field: "tokens", format: "," },
            { field: "median", title: "median (ms)", format: ".4~g" },
            { field: "p10", title: "p10 (ms)", format: ".4~g" },
            { field: "p90", title: "p90 (ms)", format: ".4~g" },
          ],
        },
      },
    ],
  };

  const sped = rows.filter((r) => r.speedup !== null && r.tokenSparsity !== null);
  const maxSparsity = Math.min(0.99, Math.max(0, ...sped.map((r) => r.tokenSparsity ?? 0)) + 0.02);
  const speedup: VegaLiteSpec = {
    config: CONFIG,
    width: WIDTH,
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
          color: colorOf(sped),
          ...shape,
          tooltip: [
            ...labelTooltip,
            { field: "tokens", format: "," },
            { field: "tokenSparsity", title: "token sparsity", format: ".2%" },
            { field: "speedup", format: ".3~g" },
          ],
        },
      },
    ],
  };

  const qualityMeasures = (["recall", "relL2", "crossShotRecall"] as const).filter((m) =>
    rows.some((r) => r[m] !== null && r.tokenSparsity !== null)
  );
  const rated = rows.filter((r) =>
    r.tokenSparsity !== null && qualityMeasures.some((m) => r[m] !== null)
  );
  const quality: VegaLiteSpec = {
    ...base(rated),
    transform: [
      { fold: [...qualityMeasures], as: ["measure", "value"] },
      { filter: "isValid(datum.value)" },
    ],
    facet: {
      column: {
        field: "measure",
        type: "nominal",
        title: null,
        sort: [...qualityMeasures],
        header: { labelFontWeight: 600 },
      },
    },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: qualityMeasures.length > 2 ? 190 : 240,
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
        color: colorOf(rated),
        ...shape,
        tooltip: [
          ...labelTooltip,
          { field: "tokenSparsity", title: "token sparsity", format: ".2%" },
          { field: "measure" },
          { field: "value", format: ".4~g" },
        ],
      },
    },
  };

  const analytic = rows.filter((r) => r.flops !== null && r.analyticFlops !== null)
    .map((r) => ({ ...r, ratio: (r.flops ?? 0) / (r.analyticFlops ?? 1) }));
  const flopValues = analytic.flatMap((r) => [r.flops ?? 0, r.analyticFlops ?? 0]).filter((v) =>
    v > 0
  );
  const flops: VegaLiteSpec = {
    config: CONFIG,
    width: WIDTH,
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
        encoding: {
          x: { field: "equal", type: "quantitative", scale: { type: "log", nice: false } },
          y: { field: "equal", type: "quantitative", scale: { type: "log", nice: false } },
        },
      },
      {
        data: { values: analytic },
        mark: { type: "point" },
        encoding: {
          x: {
            field: "analyticFlops",
            type: "quantitative",
            scale: { type: "log", nice: false },
            title: "analytic FLOPs (paper's formula)",
            axis: { format: "~s" },
          },
          y: {
            field: "flops",
            type: "quantitative",
            scale: { type: "log", nice: false },
            title: "counted FLOPs (layout that ran)",
            axis: { format: "~s" },
          },
          color: colorOf(analytic),
          ...shape,
          tooltip: [
            ...labelTooltip,
            { field: "flops", title: "counted", format: ".3~s" },
            { field: "analyticFlops", title: "analytic", format: ".3~s" },
            { field: "ratio", title: "counted ÷ analytic", format: ".3~g" },
          ],
        },
      },
    ],
  };

  const routed = rows.filter((r) => r.routingShare !== null);
  const routing: VegaLiteSpec = perRun(routed, {
    width: BAR_WIDTH,
    height: { step: 20 },
    mark: { type: "bar" },
    encoding: {
      y: { field: "label", type: "nominal", title: null, sort: null, axis: { labelLimit: 230 } },
      x: {
        field: "routingShare",
        type: "quantitative",
        title: "routing share of time (medians)",
        axis: { format: "%" },
        scale: { domain: [0, 1] },
      },
      color: colorOf(routed, false),
      tooltip: [
        ...labelTooltip,
        { field: "routingMedian", title: "routing (ms)", format: ".4~g" },
        { field: "median", title: "attention (ms)", format: ".4~g" },
        { field: "routingShare", title: "routing share", format: ".1%" },
      ],
    },
  });

  const grouped = rows.filter((r) =>
    r.groupMin !== null && r.groupMedian !== null && r.groupMax !== null
  );
  const groupTooltip = [
    ...labelTooltip,
    { field: "groupMin", title: "smallest group", format: "," },
    { field: "groupMedian", title: "median group", format: "," },
    { field: "groupMax", title: "largest group", format: "," },
  ];
  const groups: VegaLiteSpec = perRun(grouped, {
    width: BAR_WIDTH,
    height: { step: 24 },
    encoding: {
      y: { field: "label", type: "nominal", title: null, sort: null, axis: { labelLimit: 230 } },
      color: colorOf(grouped, false),
      tooltip: groupTooltip,
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

  return [
    {
      id: "latency",
      title: "Latency against sequence length",
      caption: "Median time of the attention kernels (all heads, one layer), band and bar from " +
        "p10 to p90; both axes logarithmic.",
      spec: timed.length > 0 ? latency : null,
      emptyNote: "No timed records in these results.",
    },
    {
      id: "speedup",
      title: "Speedup against token sparsity",
      caption: "Dense median ÷ method median, same run. Dashed: the FLOPs ratio 1 / (1 − " +
        "sparsity), what a kernel as efficient per FLOP as dense would reach.",
      spec: sparse(sped) ? speedup : null,
      emptyNote: "No sparse method with a speedup in these results (dense alone has sparsity 0).",
    },
    {
      id: "quality",
      title: "Quality against token sparsity",
      caption: "recall: dense softmax mass the method keeps (1 = nothing dropped); relL2: " +
        "relative error of the output against dense; crossShotRecall: the part of the mass on " +
        "earlier shots that is kept. Dense is measured against a float64 reference.",
      spec: sparse(rated) ? quality : null,
      emptyNote: "No sparse method with quality figures in these results (dense's own kernel " +
        "error is in the table; --no-quality leaves them out).",
    },
    {
      id: "flops",
      title: "Counted against analytic FLOPs",
      caption: "Counted: 4·d·(attended pairs) of the layout that ran. Analytic: the paper's own " +
        "formula. Points off the dashed diagonal show where the formula and the work differ.",
      spec: analytic.length > 0 ? flops : null,
      emptyNote: "No method in these results has an analytic FLOPs formula.",
    },
    {
      id: "routing",
      title: "Routing share of time",
      caption: "Dynamic methods: routing kernels (pooling, scores, top-k, grouping) as a share " +
        "of routing plus attention time.",
      spec: routed.length > 0 ? routing : null,
      emptyNote: "No dynamic method with timed routing in these results.",
    },
    {
      id: "groups",
      title: "Group sizes (MoGA)",
      caption: "Smallest, median and largest group per case: imbalance is what drives MoGA's " +
        "cost.",
      spec: grouped.length > 0 ? groups : null,
      emptyNote: "No records with group sizes (stats.groupMin / groupMedian / groupMax).",
    },
    decayChart(decay),
  ];
}

function decayChart(decay: AttentionDecay[]): ReportChart {
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
        config: CONFIG,
        hconcat: [
          panel("temporal", "|Δt| (latent frames)"),
          panel("spatial", "distance in the frame (latent patches)"),
        ],
      }
      : null,
    emptyNote: "No decay curve was computed for these results.",
  };
}

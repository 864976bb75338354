/**
 * The HTML report (spec: docs/cli.md, "Files"): ONE self-contained file that opens
 * offline from disk and makes no network request. vega, vega-lite and vega-embed are inlined from
 * their npm packages; the charts are Vega-Lite specs built from the records (reports/charts.ts);
 * mask pictures are PNG data URLs. Several results files (adapters, commits) render side by side.
 *
 * @module
 */
import type { TrendRow } from "../records/history.ts";
import { historyTrendSpec } from "./history_chart.ts";
import { vegaBundles } from "./_bundles.ts";
import { escapeHtml } from "./_format.ts";
import {
  failedCases,
  fallbackBanner,
  maskGallery,
  type MaskPicture,
  methodNotes,
  recordTable,
  runFacts,
} from "./_sections.ts";
import { REPORT_STYLE } from "./_style.ts";
import { CHART_CONFIG, type ReportChart, reportCharts } from "./charts.ts";
import { methodColorScale } from "./_chart_rows.ts";
import { summarySection } from "./_summary.ts";
import { frontierCharts } from "./frontier_chart.ts";
import { frontierSection } from "./frontier_section.ts";
import { growthExponents } from "./scaling.ts";
import type { PeerRow } from "../records/peers.ts";
import { peersSection } from "./peers_section.ts";
import type { AttentionDecay } from "../metrics/decay.ts";
import type { ResultsFile } from "../records/schema.ts";

export type { MaskPicture } from "./_sections.ts";

/** What a report can show besides the records. */
export interface ReportExtras {
  /** The scenarios' decay curves (metrics/decay.ts). */
  decay?: AttentionDecay[];
  /** Block-mask pictures per scenario and method. */
  masks?: MaskPicture[];
  /** Latency trend rows from a history file (records/history.ts), for the trend chart. */
  history?: TrendRow[];
  /** One name per run, its results folder's name, to label runs shown side by side. */
  runNames?: string[];
  /** Longshot vs a peer library per case (records/peers.ts), for the side-by-side table. */
  peers?: PeerRow[];
}

/** The fitted growth exponents of sweeps (reports/scaling.ts), when a run has any. */
function scalingSection(runs: ResultsFile[]): string {
  const fits = growthExponents(runs.flatMap((r) => r.records));
  if (fits.length === 0) return "";
  const rows = fits.map((f) =>
    `<tr><td>${escapeHtml(f.family)}</td><td>${escapeHtml(f.method)}</td>` +
    `<td>${f.exponent.toFixed(2)}</td><td>${f.points}</td>` +
    `<td>${f.tokens[0]}–${f.tokens[1]}</td>` +
    `<td>${f.medians[0].toPrecision(3)}–${f.medians[1].toPrecision(3)}</td></tr>`
  ).join("\n");
  return `<section id="scaling"><h2>Scaling</h2>
<p class="note">Exponent p of median latency ∝ L<sup>p</sup>, least squares in log-log over the ` +
    `lengths of each scenario family (a preset and its @x2, @x4, @x8 sweeps). Dense attention ` +
    `is ≈ 2.</p>
<table class="records"><thead><tr><th>family</th><th>method</th><th>exponent</th><th>lengths</th>` +
    `<th>tokens</th><th>median ms</th></tr></thead><tbody>
${rows}
</tbody></table></section>`;
}

/** The asv-like trend chart of a history, when one was given. */
function historyChart(rows: TrendRow[], runs: ResultsFile[]): ReportChart[] {
  if (rows.length === 0) return [];
  const methods = rows.map((row) => row.case.split(" · ")[1]?.split(":")[0] ?? "");
  return [{
    id: "history",
    title: "Latency over runs",
    caption: "Median (line) and p10–p90 (bar) of every case of the history file by run date, " +
      "one line a case; colour: method, shape: scenario; a drop-down picks the adapter when " +
      "the history holds several.",
    spec: {
      ...historyTrendSpec(rows, {
        methodColors: methodColorScale([
          ...methods,
          ...runs.flatMap((r) => r.records.map((x) => x.method)),
        ]),
      }),
      config: CHART_CONFIG,
    },
    emptyNote: "",
  }];
}

/** JSON safe inside a `<script type="application/json">` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * Renders each `[data-chart]` element with vega-embed; keeps each Vega view in
 * `window.longshotViews` by chart id (the browser test reads their data); marks the body when
 * done.
 */
const EMBED_SCRIPT = `(async () => {
  let rendered = 0;
  let failed = 0;
  window.longshotViews = {};
  for (const element of document.querySelectorAll("[data-chart]")) {
    const spec = JSON.parse(document.getElementById("spec-" + element.dataset.chart).textContent);
    try {
      const result = await vegaEmbed(element, spec, {
        actions: false, renderer: "svg", mode: "vega-lite",
      });
      window.longshotViews[element.dataset.chart] = result.view;
      rendered++;
    } catch (error) {
      failed++;
      element.classList.add("chart-error");
      element.textContent = "This chart could not be drawn: " + error.message;
      console.error(error);
    }
  }
  document.body.dataset.chartsRendered = String(rendered);
  document.body.dataset.chartsFailed = String(failed);
})();`;

function summaryLine(runs: ResultsFile[]): string {
  const records = runs.flatMap((r) => r.records);
  const scenarios = [...new Set(records.map((r) => r.scenario))];
  const methods = [...new Set(records.map((r) => r.method))];
  const failed = records.filter((r) => r.error).length;
  return `${records.length} case${records.length === 1 ? "" : "s"} (${failed} failed) · ` +
    `${scenarios.length} scenario${scenarios.length === 1 ? "" : "s"}: ` +
    `${escapeHtml(scenarios.join(", "))} · methods: ${escapeHtml(methods.join(", "))}` +
    (runs.length > 1 ? ` · ${runs.length} runs side by side` : "");
}

/** CSS giving each method's name chip the colour its charts use. */
function methodChipStyle(runs: ResultsFile[]): string {
  const scale = methodColorScale(runs.flatMap((r) => r.records.map((x) => x.method)));
  return scale.domain.map((m, i) =>
    `.method[data-method="${m.replace(/["\\<]/g, "")}"]::before{background:${scale.range[i]}}`
  ).join("\n");
}

/**
 * The report as one HTML document (see module doc).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { renderReport } from "./html.ts";
 * const html = await renderReport([{ schema: "longshot.results/1", suite: "demo", commit: null,
 *   date: "2025-01-01", deno: Deno.version.deno, command: "deno task bench", seed: 0,
 *   adapter: null, shard: null, records: [] }]);
 * ok(html.startsWith("<!doctype html>") && !/src="http|href="http/.test(html));
 * ```
 */
export async function renderReport(
  runs: ResultsFile[],
  extras: ReportExtras = {},
): Promise<string> {
  if (runs.length === 0) throw new RangeError("runs must hold at least one results file (got 0)");
  const bundles = await vegaBundles();
  const names = extras.runNames ?? [];
  const charts = [
    ...reportCharts(runs, { decay: extras.decay ?? [], runNames: names }),
    ...historyChart(extras.history ?? [], runs),
  ];
  // A chart without data gets no card: its note is listed once under the charts.
  const drawn = charts.filter((c) => c.spec !== null);
  const omitted = charts.filter((c) => c.spec === null);
  const chartFigures = drawn.map((chart) =>
    `<figure class="chart" id="chart-${chart.id}">
<h3>${escapeHtml(chart.title)}</h3>
<div class="vega-chart" data-chart="${chart.id}"></div>
<figcaption>${escapeHtml(chart.caption)}</figcaption>
</figure>`
  ).join("\n");
  const omittedNotes = omitted.length > 0
    ? `<p class="note omitted">Not drawn: ${
      omitted.map((c) => `${escapeHtml(c.title)} (${escapeHtml(c.emptyNote)})`).join("; ")
    }</p>`
    : "";
  const earlierShot = (extras.decay ?? []).filter((d) => d.earlierShotMass !== undefined).map((d) =>
    `<li>${escapeHtml(d.scenario)} (head ${d.head}): a query of shot ≥ 2 puts ` +
    `${(100 * (d.earlierShotMass ?? 0)).toFixed(1)}% of its dense mass on earlier shots, whose ` +
    `keys are ${(100 * (d.earlierShotKeyShare ?? 0)).toFixed(1)}% of all keys.</li>`
  ).join("");
  const frontier = frontierCharts(runs, names);
  const specs = [...frontier, ...drawn].map((c) =>
    `<script type="application/json" id="spec-${c.id}">${scriptJson(c.spec)}</script>`
  ).join("\n");
  const scripts = bundles.map((b) =>
    `<script data-package="${b.name}@${b.version}">${b.code}</script>`
  ).join("\n");
  const versions = bundles.map((b) => `${b.name} ${b.version}`).join(", ");
  const masks = extras.masks ?? [];
  const title = `Longshot report — ${
    [...new Set(runs.flatMap((r) => r.records.map((x) => x.scenario)))].join(", ") || "no cases"
  }`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${REPORT_STYLE}
${methodChipStyle(runs)}
</style>
</head>
<body>
<header>
<h1>Longshot <span class="muted">sparse attention for long video</span></h1>
<p class="summary">${summaryLine(runs)}</p>
${fallbackBanner(runs, names)}
</header>
<nav><a href="#summary">Summary</a><a href="#runs">Runs</a>${
    frontier.length ? '<a href="#frontier">Frontier</a>' : ""
  }<a href="#charts">Charts</a>${
    masks.length ? '<a href="#masks">Masks</a>' : ""
  }<a href="#records">Every case</a><a href="#failed">Failed</a><a href="#notes">Notes</a></nav>
<main>
${summarySection(runs, names)}
<section id="runs"><h2>Runs</h2><div class="runs">
${runFacts(runs, names)}
</div></section>
${frontierSection(runs, frontier, names)}
<section id="charts"><h2>Charts</h2>
<p class="note">One attention layer, batch 1, all heads, forward pass. Colours are fixed per ` +
    `method in every chart${
      runs.length > 1 ? "; opacity and line dash tell runs apart" : ""
    }; point shapes tell scenarios apart.` +
    ` Hover a point for its figures.</p>
<div class="charts">
${chartFigures}
</div>
${omittedNotes}
${earlierShot ? `<ul class="earlier-shot">${earlierShot}</ul>` : ""}
</section>
${
      masks.length
        ? `<section id="masks"><h2>Mask pictures</h2><p class="note">Blocks of each method's ` +
          `layout, query blocks down, key blocks across, in the method's own token order: blue ` +
          `computed, white skipped, orange rows and columns hold text tokens.</p>\n` +
          `${maskGallery(masks)}</section>`
        : ""
    }
${scalingSection(runs)}
${peersSection(extras.peers ?? [])}
<section id="records"><h2>Every case</h2>
${recordTable(runs, names)}
</section>
<section id="failed"><h2>Failed cases</h2>
${failedCases(runs, names)}
</section>
<section id="notes"><h2>Notes</h2>
<h3>Assumptions the methods state</h3>
${methodNotes(runs)}
<h3>How the figures are made</h3>
<ul class="definitions">
<li><b>FLOPs counted</b> = 4·d·(attended query–key pairs) of the layout that ran, all heads; ` +
    `softmax and scaling not counted. <b>Analytic</b>: the paper's own formula.</li>
<li><b>Token sparsity</b> = 1 − attended pairs / L²; <b>block sparsity</b> = 1 − computed ` +
    `blocks / all blocks at the method's block size.</li>
<li><b>Median, p10, p90</b>: GPU timestamp queries, or wall time when the adapter has none; ` +
    `warm-up excluded. <b>TFLOP/s</b> = counted FLOPs / median. <b>Speedup</b> = dense median / ` +
    `method median. <b>Efficiency</b> = speedup ÷ (dense FLOPs / counted FLOPs).</li>
<li><b>Quality</b> against dense on the same inputs; dense against a float64 reference. ` +
    `PSNR ∞: identical outputs.</li>
</ul>
</section>
</main>
<footer>Generated by Longshot on ${escapeHtml(new Date().toISOString())} · charts: ` +
    `${escapeHtml(versions)}, inlined; this file needs no network.</footer>
${specs}
${scripts}
<script>
${EMBED_SCRIPT}
</script>
</body>
</html>
`;
}

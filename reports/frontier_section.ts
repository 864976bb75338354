/**
 * The report's frontier section (docs/frontier.md): the frontier charts
 * (reports/frontier_chart.ts) and the target table, which names for each quality target the
 * fastest (method, setting) on each scenario, or "none meets it".
 *
 * @module
 */
import { frontierPoints, scenariosOf, targetLabel, targetTable } from "../records/frontier.ts";
import type { ResultsFile } from "../records/schema.ts";
import { escapeHtml, formatNumber } from "./_format.ts";
import type { ReportChart } from "./charts.ts";

/** What a target cell says when no point meets the target. */
export const NONE_MEETS = "none meets it";

/**
 * The target table of one run's frontier points, as HTML (`table#frontier-targets`): a row per
 * target, a column per scenario; empty when the run has no frontier points.
 */
export function targetTableHtml(run: ResultsFile, caption = ""): string {
  const points = frontierPoints(run.records, run.wholeRun ?? []);
  if (points.length === 0) return "";
  const scenarios = scenariosOf(points);
  const rows = targetTable(points).map((row) =>
    `<tr><th scope="row">${escapeHtml(targetLabel(row.target))}</th>${
      row.fastest.map(({ point }) =>
        point
          ? `<td><span class="method" data-method="${escapeHtml(point.method)}">${
            escapeHtml(point.method)
          }</span> <code>${escapeHtml(point.setting)}</code> · ×${formatNumber(point.speedup)}${
            point.speedup < 1 ? " (slower than dense)" : ""
          }</td>`
          : `<td class="none">${NONE_MEETS}</td>`
      ).join("")
    }</tr>`
  ).join("\n");
  return `<div class="table-wrap"><table class="records frontier-targets">${
    caption ? `<caption>${escapeHtml(caption)}</caption>` : ""
  }<thead><tr><th>target</th>${
    scenarios.map((s) => `<th>${escapeHtml(s)}</th>`).join("")
  }</tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

/**
 * The section (`section#frontier`) with the frontier charts' cards and each frontier run's target
 * table; empty when no run is a frontier run.
 */
export function frontierSection(
  runs: readonly ResultsFile[],
  charts: readonly ReportChart[],
  runNames: readonly string[] = [],
): string {
  const tables = runs.map((run, i) =>
    targetTableHtml(run, runs.length > 1 ? runNames[i] ?? `run ${i + 1}` : "")
  ).filter((t) => t !== "");
  if (charts.length === 0 && tables.length === 0) return "";
  const figures = charts.map((chart) =>
    `<figure class="chart frontier-chart" id="chart-${chart.id}">
<h3>${escapeHtml(chart.title)}</h3>
<div class="vega-chart" data-chart="${chart.id}"></div>
<figcaption>${escapeHtml(chart.caption)}</figcaption>
</figure>`
  ).join("\n");
  return `<section id="frontier"><h2>Speed–quality frontier</h2>
<p class="note">Each method's knob swept over its grid (docs/methods.md, "Knobs"), one dense ` +
    `reference a scenario. A point is on a Pareto front when no other point is both at least as ` +
    `fast and at least as good, and strictly better in one.</p>
<div class="charts">
${figures}
</div>
<h3>Fastest setting per quality target</h3>
<p class="note">For each target, the fastest (method, setting) by layer speedup that meets it on ` +
    `each scenario; quality against dense on the same inputs.</p>
${tables.join("\n")}
</section>`;
}

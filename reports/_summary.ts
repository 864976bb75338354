/**
 * The answer before the charts: per run, scenario and method, the speedup over dense (attention
 * alone, and with routing where the method routes), the recall and the relL2 error, in one small
 * table at the top of the report.
 *
 * @module
 */
import { METHOD_ORDER, runLabels, shortConfigLabels } from "./_chart_rows.ts";
import { escapeHtml, formatNumber, NO_FIGURE } from "./_format.ts";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

/**
 * Dense median ÷ (routing + attention) median: the speedup a whole layer call sees, or null
 * when the record does not route or no dense record of its scenario and dtype was timed.
 */
export function speedupWithRouting(record: BenchRecord, run: ResultsFile): number | null {
  const total = record.latency?.totalMedian ?? null;
  if (total === null || !(total > 0)) return null;
  const dense = run.records.find((r) =>
    r.method === "dense" && r.scenario === record.scenario && r.dtype === record.dtype &&
    !r.error && r.latency
  );
  return dense?.latency ? dense.latency.median / total : null;
}

function speedupText(value: number | null): string {
  return value === null ? NO_FIGURE : `${formatNumber(value)}×`;
}

function methodRank(method: string): number {
  const i = METHOD_ORDER.indexOf(method);
  return i < 0 ? METHOD_ORDER.length : i;
}

/** The summary table of one run. */
function runSummary(run: ResultsFile): string {
  const configs = shortConfigLabels(run.records);
  const scenarios = [...new Set(run.records.map((r) => r.scenario))];
  const routes = run.records.some((r) => r.latency?.totalMedian != null);
  const crossShot = run.records.some((r) => r.quality?.crossShotRecall != null);
  const head = [
    "scenario",
    "method",
    "tokens",
    "speedup",
    ...(routes ? ["speedup with routing"] : []),
    "recall",
    "relL2",
    ...(crossShot ? ["cross-shot recall"] : []),
  ];
  const body = scenarios.flatMap((scenario) => {
    const cases = run.records.map((record, i) => ({ record, config: configs[i] }))
      .filter(({ record }) => record.scenario === scenario)
      .sort((a, b) =>
        methodRank(a.record.method) - methodRank(b.record.method) ||
        a.config.localeCompare(b.config)
      );
    return cases.map(({ record, config }, i) => {
      const first = i === 0
        ? `<th scope="rowgroup" rowspan="${cases.length}" class="text">${escapeHtml(scenario)}</th>`
        : "";
      const method = `<td class="text"><span class="method" data-method="${
        escapeHtml(record.method)
      }">${escapeHtml(config)}</span></td>`;
      if (record.error) {
        const why = record.error.split(":")[0];
        return `<tr>${first}${method}<td>${formatNumber(record.tokens)}</td>` +
          `<td colspan="${head.length - 3}" class="text failed-case">failed: ${
            escapeHtml(why)
          } (see Failed cases)</td></tr>`;
      }
      const q = record.quality;
      const cells = [
        formatNumber(record.tokens),
        speedupText(record.speedup),
        ...(routes ? [speedupText(speedupWithRouting(record, run))] : []),
        formatNumber(q?.recall ?? null, 4),
        formatNumber(q?.relL2 ?? null),
        ...(crossShot ? [formatNumber(q?.crossShotRecall ?? null, 4)] : []),
      ];
      return `<tr>${first}${method}${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
    });
  });
  return `<div class="table-wrap"><table class="records summary-table">
<thead><tr>${
    head.map((h, i) => `<th scope="col"${i < 2 ? ' class="text"' : ""}>${h}</th>`).join("")
  }</tr></thead>
<tbody>
${body.join("\n")}
</tbody></table></div>`;
}

function flopsText(value: number | null): string {
  return value === null ? NO_FIGURE : value.toExponential(3);
}

/** The whole-run table of one run (scenarios with a schedule), or "" without one. */
function wholeRunSummary(run: ResultsFile): string {
  const summaries = run.wholeRun ?? [];
  if (summaries.length === 0) return "";
  const head = [
    "scenario",
    "method",
    "layers × steps",
    "configurations (cells)",
    "FLOPs",
    "dense FLOPs",
    "time ms",
    "dense time ms",
    "speedup",
    "end-to-end",
  ];
  const body = summaries.map((w) => {
    const cells = [
      escapeHtml(w.scenario),
      escapeHtml(w.method),
      `${w.layers} × ${w.steps}`,
      escapeHtml(w.configs.map((c) => `${c.spec} (${formatNumber(c.cells)})`).join(", ")),
      flopsText(w.flops),
      flopsText(w.denseFlops),
      formatNumber(w.ms),
      formatNumber(w.denseMs),
      speedupText(w.speedup),
      speedupText(w.endToEndSpeedup),
    ];
    return `<tr>${
      cells.map((c, i) => `<td${i < 4 ? ' class="text"' : ""}>${c}</td>`).join("")
    }</tr>`;
  });
  const sources = [...new Set(summaries.map((w) => `${w.scenario} × ${w.method}: ${w.source}`))];
  return `<h3>Whole run</h3>
<p class="note">Σ over layers × steps × heads of each configuration's one-layer figures per head;
speedup: the same run all dense ÷ this run; end-to-end: projected with attention at ${
    formatNumber(summaries[0].attentionShare, 3)
  } of a dense step's time (--attention-share).</p>
<div class="table-wrap"><table class="records summary-table whole-run-table">
<thead><tr>${
    head.map((h, i) => `<th scope="col"${i < 4 ? ' class="text"' : ""}>${h}</th>`).join("")
  }</tr></thead>
<tbody>
${body.join("\n")}
</tbody></table></div>
<ul class="note">${sources.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>`;
}

/**
 * The summary section: one table per run (headed by its label when several runs are shown).
 * `names` are the runs' folder names ({@link runLabels}).
 */
export function summarySection(runs: ResultsFile[], names: readonly string[] = []): string {
  const labels = runLabels(runs, names);
  const tables = runs.map((run, i) =>
    `${runs.length > 1 ? `<h3>${escapeHtml(labels[i])}</h3>\n` : ""}${runSummary(run)}${
      wholeRunSummary(run)
    }`
  ).join("\n");
  return `<section id="summary"><h2>Summary</h2>
<p class="note">Speedup: dense median ÷ method median, same run${
    runs.some((r) => r.records.some((x) => x.latency?.totalMedian != null))
      ? "; with routing: dense median ÷ (routing + attention) median"
      : ""
  }. Recall: dense softmax mass kept (1 = all). relL2: output error against dense.</p>
${tables}
</section>`;
}

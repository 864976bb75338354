/**
 * The frontier section of the report in chromium: a frontier run of two scenarios (records built
 * here with hand-chosen speedups and qualities) draws one chart a scenario with every point, each
 * method's front and the overall front; the drop-down switches the metric; the target table holds
 * the fastest setting per target, hand-computed below. Ignored, saying why, without chromium.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { makeRecord, makeResults } from "./results_fixtures.ts";
import { renderReport } from "../reports/html.ts";
import type { BenchRecord, ResultsFile, WholeRunSummary } from "../records/schema.ts";
import { testNeeding } from "./needs.ts";
import { chromiumMissing, withReportPage } from "./report_page.ts";

/** A sweep point: `method` at `param=value` with its speedup, recall and relL2. */
function point(
  scenario: string,
  method: string,
  knob: [string, number],
  [speedup, recall, relL2]: [number, number, number],
): BenchRecord {
  const record = makeRecord({ scenario, method, params: { [knob[0]]: knob[1] } });
  record.knob = { param: knob[0], value: knob[1] };
  record.speedup = speedup;
  record.quality = { ...record.quality!, recall, relL2 };
  return record;
}

function frontierRun(): ResultsFile {
  const dense = (scenario: string) => {
    const record = makeRecord({ scenario, method: "dense", params: {} });
    record.knob = null;
    record.speedup = 1;
    return record;
  };
  const records = [
    dense("single"),
    point("single", "radial", ["decay", 1], [1.5, 0.99, 0.02]),
    point("single", "radial", ["decay", 0.5], [2.5, 0.96, 0.06]),
    point("single", "moc", ["k", 4], [2, 0.93, 0.08]), // dominated by radial decay=0.5
    point("single", "moc", ["k", 2], [4, 0.91, 0.12]),
    dense("multi"),
    point("multi", "moc", ["k", 4], [3, 0.85, 0.2]),
    point("multi", "moc", ["k", 2], [5, 0.8, 0.3]),
  ];
  const wholeRun = [
    { scenario: "single", method: "radial:decay=1", knob: { param: "decay", value: 1 } },
    { scenario: "single", method: "radial:decay=0.5", knob: { param: "decay", value: 0.5 } },
    { scenario: "single", method: "moc:k=4", knob: { param: "k", value: 4 } },
    { scenario: "single", method: "moc:k=2", knob: { param: "k", value: 2 } },
  ].map((run, i): WholeRunSummary => ({
    ...run,
    layers: 2,
    steps: 2,
    heads: 2,
    source: "test schedule",
    configs: [{ spec: run.method, cells: 8, flopsPerHead: 1, msPerHead: (100 - 10 * i) / 8 }],
    flops: 8,
    denseFlops: 16,
    ms: 100 - 10 * i,
    denseMs: 100,
    flopsRatio: 2,
    speedup: 100 / (100 - 10 * i),
    attentionShare: 0.8,
    endToEndSpeedup: null,
  }));
  return makeResults(records, { suite: "frontier@1", wholeRun });
}

/** Browser side: each frontier view's rows under the current metric, and the target table. */
const FRONTIER_FACTS = `(() => {
  const views = Object.entries(window.longshotViews || {})
    .filter(([id]) => id.startsWith("frontier-"));
  return {
    charts: views.map(([id, view]) => {
      const marks = [];
      const walk = (mark) => {
        if (mark.marktype === "symbol") {
          for (const item of mark.items) {
            if (typeof item.datum?.setting === "string") marks.push(item.datum.setting);
          }
        }
        if (mark.marktype === "line") marks.push("line:" + mark.items.length);
        for (const item of mark.items || []) for (const child of item.items || []) walk(child);
      };
      walk(view.scenegraph().root);
      return { id, metric: view.signal("metric"), marks };
    }),
    title: [...document.querySelectorAll("#frontier figure h3")].map((h) => h.textContent),
    rows: [...document.querySelectorAll("table.frontier-targets tbody tr")].map((tr) =>
      [...tr.children].map((cell) => cell.textContent.trim())
    ),
    failed: document.body.dataset.chartsFailed,
  };
})()`;

interface FrontierFacts {
  charts: { id: string; metric: string; marks: string[] }[];
  title: string[];
  rows: string[][];
  failed: string;
}

testNeeding("chromium", chromiumMissing, {
  name: "frontier: a chart a scenario with its points and fronts, and the target table",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const html = await renderReport([frontierRun()]);
    await withReportPage(html, async (page, _url, _requests, problems) => {
      const facts = await page.evaluate(FRONTIER_FACTS) as FrontierFacts;
      equal(facts.failed, "0");
      deepEqual(facts.title, ["Frontier: single", "Frontier: multi"]);
      const [single, multi] = facts.charts;
      equal(single.metric, "recall");
      const settings = (marks: string[]) => marks.filter((m) => !m.startsWith("line:")).sort();
      // Two panels (layer speedup, whole run) of four points each on "single".
      deepEqual(settings(single.marks), [
        "decay=0.5",
        "decay=0.5",
        "decay=1",
        "decay=1",
        "k=2",
        "k=2",
        "k=4",
        "k=4",
      ]);
      deepEqual(settings(multi.marks), ["k=2", "k=4"]);
      // Overall front on "single" by recall: decay=1, decay=0.5, k=2 (k=4 is dominated).
      ok(single.marks.includes("line:3"), `no 3-point overall front in ${single.marks}`);
      deepEqual(facts.rows, [
        ["recall ≥ 0.9", "moc k=2 · ×4", "none meets it"],
        ["recall ≥ 0.95", "radial decay=0.5 · ×2.5", "none meets it"],
        ["recall ≥ 0.99", "radial decay=1 · ×1.5", "none meets it"],
        ["relL2 ≤ 0.05", "radial decay=1 · ×1.5", "none meets it"],
        ["relL2 ≤ 0.1", "radial decay=0.5 · ×2.5", "none meets it"],
      ]);
      await page.select("#chart-frontier-0 select", "relL2");
      const switched = await page.evaluate(FRONTIER_FACTS) as FrontierFacts;
      equal(switched.charts[0].metric, "relL2");
      deepEqual(problems, []);
    });
  },
});

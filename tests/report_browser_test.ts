/**
 * The HTML report in a real browser (Debian's chromium through puppeteer-core), at 1280 px wide:
 * - the hand-made fixture, two runs side by side with their latency history: every chart draws
 *   marks and fits its card, the page makes no request but for its own file, the console stays
 *   clean;
 * - the default suite (the committed software-adapter baseline, a real run) and the committed
 *   GPU run of the default suite: no chart or table wider than its card, no empty chart, no line
 *   joining points of different scenarios (read from the Vega views' scenegraphs). Their
 *   screenshots are written to docs/screenshots/ (committed, linked from the README).
 * Ignored, saying why, when chromium is not installed (CI installs it and requires it).
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { basename, join } from "node:path";
import { blockGrid } from "../form/form.ts";
import { resolveMethod } from "../methods/registry.ts";
import { historyEntryOf, historyTrendData } from "../records/history.ts";
import { loadResults } from "../records/results_input.ts";
import { attentionDecay } from "../metrics/decay.ts";
import { renderReport, type ReportExtras } from "../reports/html.ts";
import { maskPng } from "../reports/mask_png.ts";
import { readReportExtras } from "../reports/report_extras.ts";
import type { ResultsFile } from "../records/schema.ts";
import { preset } from "../scenarios/presets.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { testNeeding } from "./needs.ts";
import { chromiumMissing, withReportPage } from "./report_page.ts";

const ROOT = new URL("../", import.meta.url);
const ARTIFACTS = new URL("tests/artifacts/", ROOT);
/**
 * Screenshots go to tests/artifacts/ (ignored); with LONGSHOT_UPDATE_SCREENSHOTS=1 to the committed
 * docs/screenshots/ instead, so a test run never changes tracked files by itself.
 */
const SCREENSHOTS = Deno.env.get("LONGSHOT_UPDATE_SCREENSHOTS") === "1"
  ? new URL("docs/screenshots/", ROOT)
  : ARTIFACTS;
/** The default suite on the software adapter: the baseline CI compares against (a real run). */
const DEFAULT_SUITE = new URL("baselines/software-llvmpipe.json", ROOT).pathname;
/** The committed GPU run of the default suite (the folder's name changed once). */
const GPU_DEFAULT = ["docs/results/nvidia-h200/default-f32", "docs/results/h100/default-f32"]
  .map((path) => new URL(path, ROOT).pathname);

/** The hand-made fixture, and a second run of it (another commit) to show runs side by side. */
async function fixtureRuns(): Promise<ResultsFile[]> {
  const first: ResultsFile = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/report_results.json", import.meta.url)),
  );
  const second: ResultsFile = structuredClone(first);
  second.commit = "89abcdef0123456789abcdef0123456789abcdef";
  second.date = "2025-01-08T12:00:00.000Z";
  for (const record of second.records) {
    if (record.latency) record.latency.median *= 0.9;
  }
  return [first, second];
}

/** Real decay curves and mask pictures from the ci presets. */
async function fixtureExtras() {
  const multiShot = preset("moc-multi-shot", "ci");
  const head = await syntheticInputs(multiShot, { seed: 1 }).head(0);
  const decay = [attentionDecay(multiShot, head, { samples: 48, seed: 1 })];
  const single = preset("hunyuan-117f-768x1280", "ci");
  const masks = [];
  for (const spec of ["dense", "radial"]) {
    const method = await resolveMethod(spec);
    const layout = await method.layout(single, {});
    const png = maskPng(blockGrid(layout.forms[0], 32), { maxSide: 200 });
    masks.push({
      scenario: single.name,
      method: spec,
      pngBase64: Buffer.from(png).toString("base64"),
    });
  }
  return { decay, masks };
}

/** What the test reads from the page (browser-side code, as text: Deno has no DOM types). */
interface PageFacts {
  charts: { id: string; embedded: boolean; marks: number; overflow: number }[];
  cards: number;
  tables: { index: number; overflow: number }[];
  /** Per line mark: the scenario families of the points it joins. */
  lines: { chart: string; families: string[] }[];
  failed: string;
  masks: number[];
}

const PAGE_FACTS = `(() => {
  const lines = [];
  const walk = (mark, chart) => {
    if (mark.marktype === "line") {
      const scenarios = mark.items.map((item) => item.datum && item.datum.scenario)
        .filter((s) => s !== undefined);
      const families = [...new Set(scenarios.map((s) => String(s).replace(/@x\\d+$/, "")))];
      lines.push({ chart, families });
    }
    for (const item of mark.items || []) for (const child of item.items || []) walk(child, chart);
  };
  for (const [chart, view] of Object.entries(window.longshotViews || {})) {
    walk(view.scenegraph().root, chart);
  }
  return {
    charts: [...document.querySelectorAll("[data-chart]")].map((element) => {
      const card = element.closest("figure");
      const svg = element.querySelector("svg");
      const style = getComputedStyle(card);
      const room = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return {
        id: element.dataset.chart,
        embedded: element.classList.contains("vega-embed"),
        marks: element.querySelectorAll(
          "svg g[class*='mark-'] path, svg g[class*='mark-'] line, svg g[class*='mark-'] rect",
        ).length,
        overflow: Math.max(
          card.scrollWidth - card.clientWidth,
          svg ? svg.getBoundingClientRect().width - room : 0,
        ),
      };
    }),
    cards: document.querySelectorAll("figure.chart").length,
    tables: [...document.querySelectorAll(".table-wrap")].map((wrap, index) => ({
      index,
      overflow: wrap.scrollWidth - wrap.clientWidth,
    })),
    lines,
    failed: document.body.dataset.chartsFailed,
    masks: [...document.querySelectorAll(".mask img")].map((img) => img.naturalWidth),
  };
})()`;

/** Fails on a chart or table wider than its card, an empty chart, or a line across scenarios. */
function assertReadable(facts: PageFacts, what: string): void {
  ok(facts.charts.length > 0, `${what}: no chart`);
  equal(facts.cards, facts.charts.length, `${what}: a chart card without a chart`);
  equal(facts.failed, "0", `${what}: a chart failed to draw`);
  for (const chart of facts.charts) {
    ok(chart.embedded && chart.marks > 0, `${what}: chart ${chart.id} is empty`);
    ok(
      chart.overflow <= 1,
      `${what}: chart ${chart.id} is ${chart.overflow}px wider than its card`,
    );
  }
  for (const table of facts.tables) {
    ok(table.overflow <= 1, `${what}: table ${table.index} is ${table.overflow}px too wide`);
  }
  ok(facts.lines.length > 0, `${what}: the views' scenegraphs were not read`);
  for (const line of facts.lines) {
    ok(
      line.families.length <= 1,
      `${what}: a line of chart ${line.chart} joins ${line.families.join(" and ")}`,
    );
  }
}

testNeeding("chromium", chromiumMissing, {
  name: "report renders every chart offline in chromium, with a clean console",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const runs = await fixtureRuns();
    const history = historyTrendData(runs.map(historyEntryOf));
    const html = await renderReport(runs, { ...await fixtureExtras(), history });
    await withReportPage(html, async (page, fileUrl, requests, problems) => {
      const facts = await page.evaluate(PAGE_FACTS) as PageFacts;
      deepEqual(
        facts.charts.map((c) => c.id),
        ["latency", "speedup", "quality", "flops", "routing", "groups", "decay", "history"],
      );
      assertReadable(facts, "fixture");
      equal(facts.masks.length, 2);
      ok(facts.masks.every((width) => width > 0), "a mask picture did not decode");
      ok(requests.includes(fileUrl), "the request listener saw no request at all");
      deepEqual(requests.filter((url) => url !== fileUrl && !url.startsWith("data:")), []);
      deepEqual(problems, []);
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("report.png", ARTIFACTS).pathname, fullPage: true });
      await page.emulateMediaType("print");
      await page.setViewport({ width: 794, height: 1123 });
      await page.screenshot({
        path: new URL("report_print.png", ARTIFACTS).pathname,
        fullPage: true,
      });
    });
  },
});

/** The report of a committed results file or folder, as `deno task report` renders it. */
async function committedReport(path: string): Promise<string> {
  const run = await loadResults(path);
  const folder = path.endsWith(".json") ? join(path, "..") : path;
  const extras: ReportExtras = path.endsWith(".json")
    ? {}
    : await readReportExtras(folder, run.records.map((r) => r.scenario));
  const name = basename(path).replace(/\.json$/, "");
  return await renderReport([run], { ...extras, runNames: [name] });
}

for (
  const { name, path, screenshot } of [
    {
      name: "the default suite (software adapter)",
      path: DEFAULT_SUITE,
      screenshot: "default-software",
    },
    { name: "the committed GPU default run", path: GPU_DEFAULT, screenshot: "default-nvidia-h200" },
  ]
) {
  testNeeding("chromium", chromiumMissing, {
    name: `report of ${name} fits 1280 px: no overflow, no empty chart, no line across scenarios`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const paths = Array.isArray(path) ? path : [path];
      const found = [];
      for (const p of paths) if (await Deno.stat(p).catch(() => null)) found.push(p);
      ok(found.length > 0, `none of ${paths.join(", ")} exists`);
      await withReportPage(await committedReport(found[0]), async (page, _url, _req, problems) => {
        const facts = await page.evaluate(PAGE_FACTS) as PageFacts;
        assertReadable(facts, name);
        deepEqual(problems, []);
        await Deno.mkdir(SCREENSHOTS, { recursive: true });
        await page.screenshot({
          path: new URL(`report-${screenshot}.png`, SCREENSHOTS).pathname,
          fullPage: true,
        });
      });
    },
  });
}

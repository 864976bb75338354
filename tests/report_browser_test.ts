/**
 * The HTML report in a real browser (Debian's chromium through puppeteer-core): every chart
 * draws marks, the page makes no request but for its own file, the console stays clean. Saves
 * tests/artifacts/report.png (screen) and report_print.png (print media) for a human to look at.
 * Ignored, saying why, when chromium is not installed (CI installs it and requires it).
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { blockGrid } from "../methods/form.ts";
import { resolveMethod } from "../methods/registry.ts";
import { attentionDecay } from "../reports/decay.ts";
import { renderReport } from "../reports/html.ts";
import { maskPng } from "../reports/mask_png.ts";
import type { ResultsFile } from "../reports/schema.ts";
import { preset } from "../scenarios/presets.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { testNeeding } from "./needs.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const chromiumMissing = await Deno.stat(CHROMIUM).then(
  () => null,
  () => `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
);

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

/** The hand-made fixture, and a second run of it (another commit) to show runs side by side. */
async function fixtureRuns(): Promise<ResultsFile[]> {
  const first: ResultsFile = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/report_results.json", import.meta.url)),
  );
  const second: ResultsFile = structuredClone(first);
  second.commit = "89abcdef0123456789abcdef0123456789abcdef";
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
  charts: { id: string; embedded: boolean; marks: number }[];
  failed: string;
  masks: number[];
}

const PAGE_FACTS = `({
  charts: [...document.querySelectorAll("[data-chart]")].map((element) => ({
    id: element.dataset.chart,
    embedded: element.classList.contains("vega-embed"),
    marks: element.querySelectorAll(
      "svg g[class*='mark-'] path, svg g[class*='mark-'] line, svg g[class*='mark-'] rect",
    ).length,
  })),
  failed: document.body.dataset.chartsFailed,
  masks: [...document.querySelectorAll(".mask img")].map((img) => img.naturalWidth),
})`;

testNeeding("chromium", chromiumMissing, {
  name: "report renders every chart offline in chromium, with a clean console",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const html = await renderReport(await fixtureRuns(), await fixtureExtras());
    const folder = await Deno.makeTempDir({ prefix: "longshot-report-" });
    const profile = await Deno.makeTempDir({ prefix: "longshot-chromium-" });
    const file = join(folder, "report.html");
    await Deno.writeTextFile(file, html);
    const fileUrl = pathToFileURL(file).href;

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
      ],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const requests: string[] = [];
      const problems: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warn") {
          problems.push(`${message.type()}: ${message.text()}`);
        }
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error}`));

      await page.goto(fileUrl, { waitUntil: "load" });
      await page.waitForFunction("document.body.dataset.chartsRendered !== undefined", {
        timeout: 60_000,
      });
      const facts = await page.evaluate(PAGE_FACTS) as PageFacts;
      const { charts, failed, masks } = facts;

      deepEqual(
        charts.map((c) => c.id),
        ["latency", "speedup", "quality", "flops", "routing", "groups", "decay"],
      );
      for (const chart of charts) {
        ok(chart.embedded, `${chart.id}: not embedded`);
        ok(chart.marks > 0, `${chart.id}: no marks drawn`);
      }
      equal(failed, "0");
      equal(masks.length, 2);
      ok(masks.every((width) => width > 0), "a mask picture did not decode");
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
    } finally {
      await browser.close();
      await Deno.remove(folder, { recursive: true });
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});

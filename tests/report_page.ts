/**
 * A report page in a real browser for the browser tests: Debian's chromium through
 * puppeteer-core, headless, at 1280 px, with every request and console problem collected.
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** The chromium binary (`CHROMIUM_PATH`, default /usr/bin/chromium). */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
/** Why browser tests cannot run here, or null when chromium is installed. */
export const chromiumMissing = await Deno.stat(CHROMIUM).then(
  () => null,
  () => `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
);

const BROWSER_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Runs `use` with a 1280 px page showing `html` (written to a temporary file), then cleans up. */
export async function withReportPage(
  html: string,
  use: (page: Page, fileUrl: string, requests: string[], problems: string[]) => Promise<void>,
): Promise<void> {
  const folder = await Deno.makeTempDir({ prefix: "longshot-report-" });
  const profile = await Deno.makeTempDir({ prefix: "longshot-chromium-" });
  const file = join(folder, "report.html");
  await Deno.writeTextFile(file, html);
  const fileUrl = pathToFileURL(file).href;
  let browser: Browser | null = null;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: [...BROWSER_ARGS, `--user-data-dir=${profile}`],
    });
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
      timeout: 90_000,
    });
    await use(page, fileUrl, requests, problems);
  } finally {
    await browser?.close();
    await Deno.remove(folder, { recursive: true });
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

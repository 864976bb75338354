import { equal, match, ok, rejects } from "node:assert/strict";
import { renderReport } from "./html.ts";
import type { ResultsFile } from "./schema.ts";

const fixture: ResultsFile = JSON.parse(
  await Deno.readTextFile(new URL("../tests/fixtures/report_results.json", import.meta.url)),
);

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

Deno.test("the report is one file: every script inline and closed once, no external reference", async () => {
  const html = await renderReport([fixture]);
  const opened = count(html, /<script\b/gi);
  equal(count(html, /<\/script/gi), opened);
  equal(count(html, /<script\b[^>]*\bsrc=/gi), 0);
  equal(count(html, /<link\b/gi), 0);
  equal(count(html, /\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//gi), 0);
  equal(count(html, /@import|url\(\s*["']?(?:https?:)?\/\//gi), 0);
  equal(count(html, /sourceMappingURL/g), 0);
  for (const name of ["vega", "vega-lite", "vega-embed"]) {
    ok(html.includes(`data-package="${name}@`), `${name} is not inlined`);
  }
});

Deno.test("a software adapter is announced above everything else", async () => {
  const html = await renderReport([fixture]);
  const banner = html.indexOf('class="fallback"');
  ok(banner > 0 && banner < html.indexOf('id="runs"'));
  const hardware = structuredClone(fixture);
  hardware.adapter!.fallback = false;
  for (const record of hardware.records) record.adapter.fallback = false;
  ok(!(await renderReport([hardware])).includes('class="fallback"'));
});

Deno.test("values from results files are escaped, and failed cases are listed with their error", async () => {
  const hostile = structuredClone(fixture);
  hostile.command = "deno task bench </script><script>alert(1)</script>";
  hostile.records[4].error = "boom <img src=x onerror=alert(2)>";
  const html = await renderReport([hostile]);
  ok(!html.includes("<script>alert(1)"));
  ok(!html.includes("<img src=x"));
  match(html, /boom &lt;img src=x onerror=alert\(2\)&gt;/);
  match(html, /<section id="failed">[\s\S]*sta:window=3x3x3/);
});

Deno.test("every successful record has a table row; empty charts become a note", async () => {
  const html = await renderReport([fixture]);
  const table = html.slice(html.indexOf('<table class="records">'), html.indexOf("</table>"));
  equal(count(table, /<tr\b/g) - 1, fixture.records.filter((r) => !r.error).length);
  match(html, /No decay curve was computed/);
  equal(count(html, /data-chart="/g), 6);
});

Deno.test("renderReport needs at least one results file", async () => {
  await rejects(renderReport([]), /runs must hold at least one results file/);
});

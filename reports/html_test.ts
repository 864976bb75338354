import { equal, match, ok, rejects } from "node:assert/strict";
import { renderReport } from "./html.ts";
import type { ResultsFile } from "../records/schema.ts";

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

Deno.test("every successful record has a row in both tables; an empty chart gets no card", async () => {
  const html = await renderReport([fixture]);
  const tables = html.split('<table class="records">').slice(1).map((t) =>
    t.slice(0, t.indexOf("</table>"))
  );
  equal(tables.length, 2, "time and work, then quality");
  for (const table of tables) {
    equal(count(table, /<tr\b/g) - 1, fixture.records.filter((r) => !r.error).length);
  }
  match(tables[1], /relL2[\s\S]*cosine[\s\S]*PSNR dB[\s\S]*cross-shot recall/);
  match(html, /Not drawn: [^<]*No decay curve was computed/);
  ok(!html.includes('id="chart-decay"'), "no card for the empty decay chart");
  equal(count(html, /<figure class="chart"/g), 6);
  const noGroups = structuredClone(fixture);
  for (const record of noGroups.records) record.stats = null;
  ok(!(await renderReport([noGroups])).includes('id="chart-groups"'), "no MoGA, no Group sizes");
});

Deno.test("the summary comes before the charts: speedup, recall and relL2 per scenario and method", async () => {
  const html = await renderReport([fixture]);
  const summary = html.indexOf('<section id="summary">');
  ok(summary > 0 && summary < html.indexOf('<section id="charts">'));
  const section = html.slice(summary, html.indexOf("</section>", summary));
  // The fixture's moga on hunyuan-ci: speedup 2.4, recall 0.873, relL2 0.231.
  match(section, /data-method="moga">moga<\/span><\/td><td>1,024<\/td><td>2\.4×<\/td>/);
  match(section, /<td>0\.873<\/td><td>0\.231<\/td>/);
  match(section, /failed: StaShapeError/);
});

Deno.test("run cards: folder names as labels, commit 'unknown' when not recorded, every shard's command", async () => {
  const gpu = { ...structuredClone(fixture), commit: null };
  gpu.command = "deno task bench --shard 1/2\ndeno task bench --shard 2/2";
  const html = await renderReport([fixture, gpu], { runNames: ["software", "gpu-merged"] });
  match(html, /<h3>software <span class="badge">/);
  match(html, /<h3>gpu-merged/);
  ok(!/run [12]</.test(html), "no 'run 1' / 'run 2'");
  match(html, /<dt>Commit<\/dt><dd>unknown \(not recorded by the run\)<\/dd>/);
  match(
    html,
    /<dt>Commands<\/dt><dd><code class="command">deno task bench --shard 1\/2<\/code><code class="command">deno task bench --shard 2\/2<\/code>/,
  );
});

Deno.test("renderReport needs at least one results file", async () => {
  await rejects(renderReport([]), /runs must hold at least one results file/);
});

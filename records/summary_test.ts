import { equal, match, ok } from "node:assert/strict";
import { compareResults } from "./compare.ts";
import { comparisonVerdict } from "./verdict.ts";
import { renderSummary } from "./summary.ts";
import { jitteredSamples, latencyOf, makeRecord, makeResults } from "../tests/results_fixtures.ts";

Deno.test("the summary leads with counts, then the regression table, then the other sections", () => {
  const slow = makeRecord({ latency: latencyOf(jitteredSamples(1, 20, 10, 0.05)) });
  const changed = makeRecord({ method: "sta", params: { window: [3, 3, 3] } });
  const gone = makeRecord({ method: "moc", params: { k: 4 } });
  const comparison = compareResults(
    makeResults([slow, changed, gone]),
    makeResults([
      { ...slow, latency: latencyOf(jitteredSamples(2, 20, 13, 0.05)) },
      { ...changed, flops: changed.flops! + 4 },
    ]),
  );
  const markdown = renderSummary(comparisonVerdict(comparison), {
    baseName: "baselines/x.json",
    currentName: "results/",
  });
  const lines = markdown.split("\n");
  match(
    lines[0],
    new RegExp(
      "^## ❌ Longshot compare FAILED \\(1 regression; 1 missing case\\): 1 regression, " +
        "1 change, 0 improvements, 0 new, 1 missing, 0 failed \\(2 cases matched\\)$",
    ),
  );
  const order = ["### Regressions", "### Changes", "### Missing cases"].map((h) =>
    markdown.indexOf(h)
  );
  ok(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1])), `order ${order}`);
  match(
    markdown,
    /\| tiny · radial:block=128;decay=0\.95 · f32 · vulkan vendor 0 fallback \| latency \|/,
  );
  match(markdown, /\| flops \| .* \| Δ \+4 /);
  match(markdown, /- tiny · moc:k=4 · f32 · vulkan vendor 0 fallback/);
});

Deno.test("the headline says what the verdict says, with the reasons it fails", () => {
  const base = makeRecord();
  const changed = compareResults(
    makeResults([base]),
    makeResults([{ ...base, flops: base.flops! * 2 }]),
  );
  match(
    renderSummary(comparisonVerdict(changed)),
    /^## ✅ Longshot compare passed: 0 regressions, 1 change,/,
  );
  match(
    renderSummary(comparisonVerdict(changed, { failOnChange: true })),
    /^## ❌ Longshot compare FAILED \(1 change \(--fail-on-change\)\): 0 regressions, 1 change,/,
  );
  const upgraded = compareResults(
    makeResults([base]),
    makeResults([{ ...base, adapter: { ...base.adapter, description: "llvmpipe (LLVM 19)" } }]),
  );
  const markdown = renderSummary(comparisonVerdict(upgraded));
  match(markdown, /^## ✅ .*, 1 adapter change \(1 case matched\)$/m);
  match(
    markdown,
    new RegExp(
      "### Adapter changes[^\\n]*\\n\\n.*\\n.*\\n\\| vulkan vendor 0 fallback \\| " +
        "adapter\\.description \\| test adapter \\| llvmpipe \\(LLVM 19\\) \\|",
    ),
  );
});

Deno.test("pipes in keys are escaped and long sections are cut with a count", () => {
  const records = Array.from({ length: 5 }, (_, i) => makeRecord({ scenario: `a|${i}` }));
  const verdict = comparisonVerdict(compareResults(makeResults([]), makeResults(records)), {
    allowMissing: true,
  });
  const markdown = renderSummary(verdict, { maxRows: 2 });
  match(markdown, /^## ✅ /);
  match(markdown, /- a\|0/);
  match(markdown, /- … 3 more/);
  const regressionsNone = markdown.split("### Regressions\n\n")[1].split("\n")[0];
  equal(regressionsNone, "None.");
  const table = renderSummary(comparisonVerdict(compareResults(
    makeResults([makeRecord({ scenario: "p|q" })]),
    makeResults([makeRecord({ scenario: "p|q", error: "boom" })]),
  )));
  match(table, /\| p\\\|q · /);
});

Deno.test("an unconfirmed 20% faster case is listed as faster, never under the slower notes", () => {
  const base = makeRecord({ latency: latencyOf([10, 10.2, 10.4]) });
  const faster = { ...base, latency: latencyOf([8, 8.2]) };
  const markdown = renderSummary(
    comparisonVerdict(compareResults(makeResults([base]), makeResults([faster]))),
  );
  ok(!markdown.includes("### Latency slower"), markdown);
  const section = markdown.slice(markdown.indexOf("### Latency faster beyond the threshold"));
  ok(section.length < markdown.length, markdown);
  const row = section.split("\n").find((line) => line.includes("| latency |"))!;
  match(
    row,
    /10\.2 ms → 8\.10 ms \(-20\.6% median, too few samples: n 3\/2 cannot reach p < 0\.01\)/,
  );
  equal(row.split("n 3/2").length, 2, `"n 3/2" once: ${row}`);
});

import { deepEqual, equal, ok } from "node:assert/strict";
import { compile } from "vega-lite";
import { chartRows, methodColorScale, reportCharts, runLabels } from "./charts.ts";
import type { ResultsFile } from "../records/schema.ts";
import type { VegaLiteSpec } from "./charts.ts";
import type { AttentionDecay } from "../metrics/decay.ts";

const fixture: ResultsFile = JSON.parse(
  await Deno.readTextFile(new URL("../tests/fixtures/report_results.json", import.meta.url)),
);

/** Compiles a Vega-Lite spec, collecting the warnings Vega-Lite would print. */
function compileWarnings(spec: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  const logger = {
    level(_: number) {
      return this;
    },
    error(...args: unknown[]) {
      warnings.push(`error: ${args.join(" ")}`);
      return this;
    },
    warn(...args: unknown[]) {
      warnings.push(args.join(" "));
      return this;
    },
    info() {
      return this;
    },
    debug() {
      return this;
    },
  };
  // deno-lint-ignore no-explicit-any
  compile(spec as any, { logger: logger as any });
  return warnings;
}

const decay: AttentionDecay[] = [{
  scenario: "hunyuan-ci",
  head: 0,
  queries: 4,
  temporal: [{ distance: 0, mass: 4 }, { distance: 1, mass: 0.5 }],
  spatial: [{ distance: 0, mass: 20 }, { distance: 1, mass: 2 }],
}];

Deno.test("colours are fixed by method name, whatever the order methods appear in", () => {
  const scale = methodColorScale(["zeta", "moc", "dense", "alpha", "radial"]);
  deepEqual(scale.domain, ["dense", "radial", "moc", "alpha", "zeta"]);
  const alone = methodColorScale(["moc"]);
  equal(alone.range[0], scale.range[scale.domain.indexOf("moc")]);
  equal(new Set(scale.range).size, scale.range.length);
});

Deno.test("moga-kmeans has a colour of its own, beside moga's, before any other method", () => {
  const scale = methodColorScale(["zeta", "moga-kmeans", "moga", "dense", "moc", "radial", "sta"]);
  deepEqual(scale.domain, ["dense", "radial", "sta", "moc", "moga", "moga-kmeans", "zeta"]);
  equal(new Set(scale.range).size, scale.range.length);
  const withAnother = methodColorScale(["alpha", "moga-kmeans"]);
  equal(withAnother.range[withAnother.domain.indexOf("moga-kmeans")], scale.range[5]);
});

Deno.test("chart rows: failed cases left out, routing share from the medians", () => {
  const rows = chartRows([fixture]);
  equal(rows.length, fixture.records.filter((r) => !r.error).length);
  const moc = rows.find((r) => r.method === "moc")!;
  const record = fixture.records.find((r) => r.method === "moc")!;
  const routing = record.latency!.routingMedian!;
  equal(moc.routingShare, routing / (routing + record.latency!.median));
  equal(rows.find((r) => r.method === "dense")!.routingShare, null);
});

Deno.test("run labels: folder names when given, else the facts that differ, never 'run 1'", () => {
  const other = { ...fixture, commit: "fedcba9876543210" };
  deepEqual(runLabels([fixture, other]), ["0123456", "fedcba9"]);
  deepEqual(runLabels([fixture, other], ["before", "after"]), ["before", "after"]);
  const later = { ...fixture, date: "2025-01-02T08:30:00.000Z" };
  deepEqual(runLabels([fixture, later]), ["2025-01-01 12:00", "2025-01-02 08:30"]);
  deepEqual(runLabels([fixture]), [`${fixture.suite} · llvmpipe`]);
  deepEqual(runLabels([fixture], ["default-f32"]), ["default-f32"]);
});

/** The spec's layers with the given mark type. */
function layersOf(spec: VegaLiteSpec, mark: string): VegaLiteSpec[] {
  return (spec.layer as VegaLiteSpec[]).filter((layer) =>
    (layer.mark as { type: string }).type === mark
  );
}

Deno.test("latency: no line joins different scenarios; sizes of one family are joined", () => {
  const [apart] = reportCharts([fixture]);
  deepEqual(layersOf(apart.spec!, "line"), [], "hunyuan-ci and hunyuan-ci-x2 are not one family");
  const sized = structuredClone(fixture);
  for (const record of sized.records) {
    record.scenario = record.scenario.replace("hunyuan-ci-x2", "hunyuan-ci@x2");
  }
  const [family] = reportCharts([sized]);
  const [line] = layersOf(family.spec!, "line");
  deepEqual(line.transform, [{ filter: "datum.joined" }]);
  const values = (family.spec!.data as { values: { joined: boolean; series: string }[] }).values;
  ok(values.every((v) => v.joined), "every method ran at both sizes");
  equal(new Set(values.map((v) => v.series)).size, 4, "one line a method");
});

Deno.test("scenarios are told apart by point shape in latency, speedup, quality and flops", () => {
  const charts = reportCharts([fixture]);
  for (const id of ["latency", "speedup", "quality", "flops"]) {
    const text = JSON.stringify(charts.find((c) => c.id === id)!.spec);
    ok(/"shape":\{"field":"(scenario|family)"/.test(text), `${id} has no scenario shape`);
  }
});

Deno.test("routing bars carry their value as text, so a share under 1% still reads", () => {
  const routing = reportCharts([fixture]).find((c) => c.id === "routing")!;
  const text = JSON.stringify(routing.spec);
  ok(text.includes('"text":{"field":"routingShare","format":".1%"}'));
  ok(text.includes('"labelLimit":0'), "case labels are never cut");
});

Deno.test("every chart of the fixture is drawn and compiles without a Vega-Lite warning", () => {
  const charts = reportCharts([fixture], { decay });
  deepEqual(charts.map((c) => c.id), [
    "latency",
    "speedup",
    "quality",
    "flops",
    "routing",
    "groups",
    "decay",
  ]);
  for (const chart of charts) {
    ok(chart.spec, `${chart.id} is empty`);
    deepEqual(compileWarnings(chart.spec), [], chart.id);
    ok(!JSON.stringify(chart.spec).includes('"url"'), `${chart.id} loads data from a URL`);
  }
});

Deno.test("two runs compile too", () => {
  const other: ResultsFile = structuredClone({ ...fixture, commit: "fedcba9876543210" });
  for (const record of other.records) {
    if (record.quality && record.method !== "dense") record.quality.crossShotRecall = 0.9;
  }
  const charts = reportCharts([fixture, other], { decay });
  ok(JSON.stringify(charts[2].spec).includes('"crossShotRecall"'));
  for (const chart of charts) {
    deepEqual(compileWarnings(chart.spec!), [], chart.id);
  }
});

Deno.test("a chart without data is omitted with its note", () => {
  const denseOnly = { ...fixture, records: fixture.records.filter((r) => r.method === "dense") };
  const charts = reportCharts([denseOnly]);
  const empty = charts.filter((c) => c.spec === null).map((c) => c.id);
  deepEqual(empty, ["speedup", "quality", "flops", "routing", "groups", "decay"]);
  ok(charts.every((c) => c.emptyNote.length > 0));
});

/**
 * The records as the report's charts and tables read them: one flat row per successful record,
 * the run labels that tell several results files apart, short method labels, and the fixed
 * colour of each method.
 *
 * @module
 */
import { formatParams } from "../methods/spec.ts";
import { scenarioFamily } from "./scaling.ts";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

/** Methods in their fixed colour order; methods not listed follow, sorted by name. */
export const METHOD_ORDER: readonly string[] = [
  "dense",
  "radial",
  "sta",
  "moc",
  "moga",
  "moga-kmeans",
];

/** Colours of {@link METHOD_ORDER}, then the colours other methods take in turn. */
const KNOWN_COLORS = ["#525252", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#ff9896"];
const OTHER_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

/** One successful record, flattened for the charts (null where the record has no figure). */
export interface ChartRow {
  /** Run label ({@link runLabels}). */
  run: string;
  /** Scenario name. */
  scenario: string;
  /** Scenario family: the scenario without its `@xN` size suffix (reports/scaling.ts). */
  family: string;
  /** Method name. */
  method: string;
  /** Method and the parameters that tell its records apart ({@link shortConfigLabels}). */
  config: string;
  /** `scenario · config`: the case. */
  label: string;
  /** Sequence length. */
  tokens: number;
  /** Token sparsity. */
  tokenSparsity: number | null;
  /** Median attention time, ms. */
  median: number | null;
  /** 10th percentile, ms. */
  p10: number | null;
  /** 90th percentile, ms. */
  p90: number | null;
  /** Median routing time, ms (dynamic methods). */
  routingMedian: number | null;
  /** Routing ÷ (routing + attention) of the medians. */
  routingShare: number | null;
  /** Dense median ÷ method median. */
  speedup: number | null;
  /** Counted FLOPs, all heads. */
  flops: number | null;
  /** The paper's formula, all heads. */
  analyticFlops: number | null;
  /** Recall of dense softmax mass. */
  recall: number | null;
  /** Relative L2 error of the output. */
  relL2: number | null;
  /** Cross-shot recall (multi-shot). */
  crossShotRecall: number | null;
  /** Smallest group (MoGA `stats.groupMin`). */
  groupMin: number | null;
  /** Median group (`stats.groupMedian`). */
  groupMedian: number | null;
  /** Largest group (`stats.groupMax`). */
  groupMax: number | null;
}

/** A colour scale with a fixed colour per method name, for every chart. */
export function methodColorScale(methods: Iterable<string>): { domain: string[]; range: string[] } {
  const present = new Set(methods);
  const domain = METHOD_ORDER.filter((m) => present.has(m));
  const range = domain.map((m) => KNOWN_COLORS[METHOD_ORDER.indexOf(m)]);
  const others = [...present].filter((m) => !METHOD_ORDER.includes(m)).sort();
  others.forEach((m, i) => {
    domain.push(m);
    range.push(OTHER_COLORS[i % OTHER_COLORS.length]);
  });
  return { domain, range };
}

/** The adapter's name before any parenthesis: `llvmpipe (LLVM 15.0.6)` → `llvmpipe`. */
function adapterName(run: ResultsFile): string {
  const description = run.adapter?.description || run.records[0]?.adapter.description || "";
  return description.replace(/\s*\(.*$/, "").trim() || "unknown adapter";
}

/**
 * One short label per results file. With `names` (the results folders' names), the names when
 * they differ. Otherwise the facts that tell the runs apart, of suite, adapter, commit and date
 * (to the minute); a single run reads `suite · adapter`. Still equal labels get `#n`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { runLabels } from "./_chart_rows.ts";
 * import type { ResultsFile } from "../records/schema.ts";
 * const run = (date: string) => ({ suite: "default@1", commit: null, date, records: [],
 *   adapter: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" } }) as unknown as ResultsFile;
 * const runs = [run("2026-01-02T10:00:00Z"), run("2026-01-03T11:30:00Z")];
 * deepEqual(runLabels(runs), ["2026-01-02 10:00", "2026-01-03 11:30"]);
 * deepEqual(runLabels(runs, ["before", "after"]), ["before", "after"]);
 * deepEqual(runLabels([runs[0]]), ["default@1 · llvmpipe"]);
 * ```
 */
export function runLabels(runs: ResultsFile[], names: readonly string[] = []): string[] {
  const named = names.length === runs.length && names.every((n) => n !== "");
  if (named && (runs.length === 1 || new Set(names).size === names.length)) return [...names];
  if (runs.length === 1) return [`${runs[0].suite} · ${adapterName(runs[0])}`];
  const facts = runs.map((run) => [
    run.suite,
    adapterName(run),
    run.commit ? run.commit.slice(0, 7) : "commit unknown",
    run.date.slice(0, 16).replace("T", " "),
  ]);
  const differing = facts[0].map((_, k) => k).filter((k) =>
    new Set(facts.map((f) => f[k])).size > 1
  );
  const base = facts.map((f) => differing.map((k) => f[k]).join(" · ") || "run");
  return base.map((label, i) =>
    base.filter((other) => other === label).length > 1 ? `${label} #${i + 1}` : label
  );
}

/** Method and every parameter in spec syntax, `radial:block=128;decay=0.95`. */
export function configLabel(record: BenchRecord): string {
  const params = formatParams(record.params ?? {});
  return params ? `${record.method}:${params}` : record.method;
}

/**
 * Short method labels: the method and only the parameters whose values differ between its
 * records of one scenario, so `moc:k=2` and `moc:k=4` stand apart while a parameter the
 * scenario decides (MoC's `intraShot: auto`) and a method run once read just `moc`, `moga`.
 * The precision is added, `dense (f16)`, when it too differs inside a scenario.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { shortConfigLabels } from "./_chart_rows.ts";
 * import type { BenchRecord } from "../records/schema.ts";
 * const records = [
 *   { scenario: "a", method: "moc", params: { k: 2, intraShot: "false" } },
 *   { scenario: "a", method: "moc", params: { k: 4, intraShot: "false" } },
 *   { scenario: "b", method: "moc", params: { k: 4, intraShot: "true" } },
 *   { scenario: "a", method: "moga", params: { groups: 16, block: 128 } },
 * ] as unknown as BenchRecord[];
 * deepEqual(shortConfigLabels(records), ["moc:k=2", "moc:k=4", "moc:k=4", "moga"]);
 * const precisions = [{ scenario: "a", method: "dense", params: {}, dtype: "f32" },
 *   { scenario: "a", method: "dense", params: {}, dtype: "f16" }] as unknown as BenchRecord[];
 * deepEqual(shortConfigLabels(precisions), ["dense (f32)", "dense (f16)"]);
 * ```
 */
export function shortConfigLabels(records: readonly BenchRecord[]): string[] {
  // method → parameter → scenario → the values seen.
  const seen = new Map<string, Map<string, Map<string, Set<string>>>>();
  for (const record of records) {
    const byKey = seen.get(record.method) ?? new Map<string, Map<string, Set<string>>>();
    // The precision counts as one more parameter (a key no parameter has).
    for (const [key, value] of [...Object.entries(record.params ?? {}), [" dtype", record.dtype]]) {
      const byScenario = byKey.get(key) ?? new Map<string, Set<string>>();
      const values = byScenario.get(record.scenario) ?? new Set<string>();
      byScenario.set(record.scenario, values.add(JSON.stringify(value)));
      byKey.set(key, byScenario);
    }
    seen.set(record.method, byKey);
  }
  const telling = (method: string, key: string) =>
    [...seen.get(method)!.get(key)!.values()].some((values) => values.size > 1);
  return records.map((record) => {
    const params = formatParams(
      Object.fromEntries(
        Object.entries(record.params ?? {}).filter(([key]) => telling(record.method, key)),
      ),
    );
    const label = params ? `${record.method}:${params}` : record.method;
    return telling(record.method, " dtype") ? `${label} (${record.dtype})` : label;
  });
}

function statNumber(record: BenchRecord, key: string): number | null {
  const value = record.stats?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The successful records of every run as chart rows (`names`: see {@link runLabels}). */
export function chartRows(runs: ResultsFile[], names: readonly string[] = []): ChartRow[] {
  const labels = runLabels(runs, names);
  const records = runs.flatMap((run, r) =>
    run.records.filter((record) => !record.error).map((record) => ({ run: labels[r], record }))
  );
  const configs = shortConfigLabels(records.map((x) => x.record));
  return records.map(({ run, record }, i) => {
    const latency = record.latency;
    const routingMedian = latency?.routingMedian ?? null;
    return {
      run,
      scenario: record.scenario,
      family: scenarioFamily(record.scenario),
      method: record.method,
      config: configs[i],
      label: `${record.scenario} · ${configs[i]}`,
      tokens: record.tokens,
      tokenSparsity: record.tokenSparsity,
      median: latency?.median ?? null,
      p10: latency?.p10 ?? null,
      p90: latency?.p90 ?? null,
      routingMedian,
      routingShare: latency && routingMedian !== null
        ? routingMedian / (routingMedian + latency.median)
        : null,
      speedup: record.speedup,
      flops: record.flops,
      analyticFlops: record.analyticFlops,
      recall: record.quality?.recall ?? null,
      relL2: record.quality?.relL2 ?? null,
      crossShotRecall: record.quality?.crossShotRecall ?? null,
      groupMin: statNumber(record, "groupMin"),
      groupMedian: statNumber(record, "groupMedian"),
      groupMax: statNumber(record, "groupMax"),
    };
  });
}

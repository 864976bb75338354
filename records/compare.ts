/**
 * Regression check of two results files (docs/cli.md `compare`; fields of docs/metrics.md). Cases are
 * matched by {@link comparisonKey} (the adapter by its class; a changed description or
 * architecture is listed as an adapter change, for information); each field is judged by its
 * nature:
 *
 * - exact (FLOPs, tokens, sparsity, block size, layout digest, method stats, inputs): any
 *   difference is a CHANGE — a different workload, not a slower one;
 * - quality proxies: worse by more than an absolute tolerance is a regression;
 * - latency: a regression when the median is slower by more than `threshold` AND a one-sided
 *   Mann–Whitney U test on the raw samples gives p < `alpha` (records/stats.ts says why a rank
 *   test), or when every current sample is slower than every base sample by more than
 *   {@link SEPARATION_FACTOR} × `threshold` (a separation that too few samples keep the test
 *   from confirming); in `info` mode latency never fails and is listed for information;
 * - failures: a matched case that now fails (record.error) is a regression;
 * - frontier runs: points match on (scenario, method, params), so on their knob setting too; a
 *   point that got slower is judged as latency above; the moves of each scenario's Pareto front
 *   and target table are listed for information (records/frontier_moves.ts).
 *
 * Whether the findings fail the comparison is decided in one place, records/verdict.ts.
 *
 * @module
 */
import { EXACT_NUMBER_FIELDS } from "./results_input.ts";
import type { BenchRecord, Quality, ResultsFile } from "./schema.ts";
import { adapterClassOf, comparisonKey } from "./case_key.ts";
import { mannWhitneyU, median } from "./stats.ts";
import { type FrontierMove, frontierMoves } from "./frontier_moves.ts";

/** Thrown for an option outside its allowed range; the message names it. */
export class CompareOptionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "CompareOptionError";
  }
}

/** Quality proxies compare judges, with the direction in which they get worse. */
export const QUALITY_DIRECTIONS = {
  relL2: "higher-is-worse",
  cosine: "lower-is-worse",
  psnrDb: "lower-is-worse",
  recall: "lower-is-worse",
  crossShotRecall: "lower-is-worse",
} as const;

/** A quality proxy compare judges. */
export type QualityField = keyof typeof QUALITY_DIRECTIONS;

/** Absolute tolerances: a proxy may get worse by this much before it is a regression. */
export type QualityTolerances = Record<QualityField, number>;

/** `fail`: a significant slowdown is a regression. `info`: latency is listed, never fails. */
export type LatencyMode = "fail" | "info";

/** Options of {@link compareResults} (all optional; see {@link DEFAULT_COMPARE_OPTIONS}). */
export interface CompareOptions {
  /** Relative median slowdown that may count as a regression (0.1 = 10%). */
  threshold?: number;
  /** Significance level of the one-sided rank test. */
  alpha?: number;
  /** Whether latency can fail the comparison. */
  latency?: LatencyMode;
  /** Quality tolerances, per proxy. */
  tolerances?: Partial<QualityTolerances>;
}

/** Options with every default filled in. */
export interface ResolvedCompareOptions {
  /** See {@link CompareOptions.threshold}. */
  threshold: number;
  /** See {@link CompareOptions.alpha}. */
  alpha: number;
  /** See {@link CompareOptions.latency}. */
  latency: LatencyMode;
  /** See {@link CompareOptions.tolerances}. */
  tolerances: QualityTolerances;
}

/**
 * A slowdown counts without the rank test's confirmation when every current sample is slower
 * than every base sample by more than this many times the threshold (3 × 10% = 30% by default):
 * a separation no noise explains, which 3 + 3 samples could never confirm (p ≥ 0.04).
 */
export const SEPARATION_FACTOR = 3;

/** Defaults: 10% slowdown at α = 0.01; 1e-3 on relL2, cosine and recalls; 1 dB on PSNR. */
export const DEFAULT_COMPARE_OPTIONS: ResolvedCompareOptions = {
  threshold: 0.1,
  alpha: 0.01,
  latency: "fail",
  tolerances: { relL2: 1e-3, cosine: 1e-3, psnrDb: 1, recall: 1e-3, crossShotRecall: 1e-3 },
};

/**
 * Fills in defaults and checks ranges (threshold ≥ 0, 0 < alpha < 1, tolerances ≥ 0).
 *
 * @example
 * ```ts
 * import { resolveCompareOptions } from "./compare.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(resolveCompareOptions({ threshold: 0.2 }).alpha, 0.01);
 * throws(() => resolveCompareOptions({ alpha: 2 }), /alpha/);
 * ```
 */
export function resolveCompareOptions(options: CompareOptions = {}): ResolvedCompareOptions {
  const resolved: ResolvedCompareOptions = {
    threshold: options.threshold ?? DEFAULT_COMPARE_OPTIONS.threshold,
    alpha: options.alpha ?? DEFAULT_COMPARE_OPTIONS.alpha,
    latency: options.latency ?? DEFAULT_COMPARE_OPTIONS.latency,
    tolerances: { ...DEFAULT_COMPARE_OPTIONS.tolerances, ...options.tolerances },
  };
  if (!(resolved.threshold >= 0 && Number.isFinite(resolved.threshold))) {
    throw new CompareOptionError(`threshold must be a number ≥ 0 (got ${resolved.threshold})`);
  }
  if (!(resolved.alpha > 0 && resolved.alpha < 1)) {
    throw new CompareOptionError(`alpha must be in (0, 1) (got ${resolved.alpha})`);
  }
  if (resolved.latency !== "fail" && resolved.latency !== "info") {
    throw new CompareOptionError(`latency must be fail or info (got ${resolved.latency})`);
  }
  for (const [field, tolerance] of Object.entries(resolved.tolerances)) {
    if (!(tolerance >= 0 && Number.isFinite(tolerance))) {
      throw new CompareOptionError(`tolerance of ${field} must be a number ≥ 0 (got ${tolerance})`);
    }
  }
  return resolved;
}

/** A value as a finding shows it. */
export type FindingValue = number | string | null;

/** One judged difference of one case. */
export interface Finding {
  /** The case key. */
  case: string;
  /** The field: `flops`, `quality.relL2`, `latency`, `latency.routing`, `error`… */
  field: string;
  /** Base value (latency: median ms). */
  base: FindingValue;
  /** Current value. */
  current: FindingValue;
  /** The evidence in words (change, p-value, sample counts). */
  detail: string;
}

/** What {@link compareResults} found. */
export interface Comparison {
  /** The options used. */
  options: ResolvedCompareOptions;
  /** Cases present in both files. */
  matched: number;
  /** Adapter descriptions or architectures that differ within one adapter class (information). */
  adapterChanges: Finding[];
  /** Significant slowdowns (fail mode), quality beyond tolerance, newly failing cases. */
  regressions: Finding[];
  /** Exact fields that differ (a different workload, not a regression). */
  changes: Finding[];
  /** Significant speed-ups (fail mode), quality better beyond tolerance, cases fixed. */
  improvements: Finding[];
  /** Latency for information: `info` mode verdicts, and slowdowns the test did not confirm. */
  latencyNotes: Finding[];
  /** Keys of cases only in the current file. */
  newCases: string[];
  /** Keys of cases only in the base file. */
  missingCases: string[];
  /** Cases that fail in the current file (field `error`). */
  failed: Finding[];
  /** Remarks about the files as a whole (partial shards, different suites, no match). */
  notes: string[];
  /** Frontier runs: how each scenario's speed–quality frontier moved (information). */
  frontierMoves: FrontierMove[];
}

const EXACT_FIELDS = ["inputs", ...EXACT_NUMBER_FIELDS] as const;

function formatMs(ms: number): string {
  return `${ms.toPrecision(3)} ms`;
}

/**
 * `p = X < alpha` (or `≥`), X printed with just enough digits that the comparison is true as
 * printed; `p < alpha` when six digits are not enough.
 *
 * @example
 * ```ts
 * import { formatPValue } from "./compare.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatPValue(0.00998, 0.01), "p = 0.00998 < 0.01");
 * equal(formatPValue(0.25, 0.01), "p = 0.25 ≥ 0.01");
 * ```
 */
export function formatPValue(p: number, alpha: number): string {
  const below = p < alpha;
  for (let digits = 2; digits <= 6; digits++) {
    const printed = Number(p.toPrecision(digits));
    if (below ? printed < alpha : printed >= alpha) {
      return `p = ${printed} ${below ? "<" : "≥"} ${alpha}`;
    }
  }
  return `p ${below ? "<" : "≥"} ${alpha}`;
}

function signedPercent(ratio: number): string {
  return `${ratio >= 0 ? "+" : ""}${(ratio * 100).toFixed(1)}%`;
}

function exactDetail(base: FindingValue, current: FindingValue): string {
  if (typeof base === "number" && typeof current === "number") {
    const diff = current - base;
    const percent = diff / base * 100;
    const relative = base === 0 ? "" : ` (${percent >= 0 ? "+" : ""}${percent.toPrecision(3)}%)`;
    return `Δ ${diff >= 0 ? "+" : ""}${diff}${relative}`;
  }
  return "differs";
}

class CaseJudge {
  readonly findings: Comparison;
  constructor(options: ResolvedCompareOptions) {
    this.findings = {
      options,
      matched: 0,
      adapterChanges: [],
      regressions: [],
      changes: [],
      improvements: [],
      latencyNotes: [],
      newCases: [],
      missingCases: [],
      failed: [],
      notes: [],
      frontierMoves: [],
    };
  }

  exact(key: string, field: string, base: FindingValue, current: FindingValue): void {
    if (base === current) return;
    this.findings.changes.push({
      case: key,
      field,
      base,
      current,
      detail: exactDetail(base, current),
    });
  }

  exactFields(key: string, base: BenchRecord, current: BenchRecord): void {
    for (const field of EXACT_FIELDS) this.exact(key, field, base[field], current[field]);
    if (base.layoutDigest != null && current.layoutDigest != null) {
      this.exact(key, "layoutDigest", base.layoutDigest, current.layoutDigest);
    }
    const statKeys = new Set([
      ...Object.keys(base.stats ?? {}),
      ...Object.keys(current.stats ?? {}),
    ]);
    for (const stat of [...statKeys].sort()) {
      this.exact(key, `stats.${stat}`, base.stats?.[stat] ?? null, current.stats?.[stat] ?? null);
    }
  }

  quality(key: string, base: Quality | null, current: Quality | null): void {
    if (base === null || current === null) {
      if (base !== current) {
        const state = (q: Quality | null) => q === null ? "not measured" : "measured";
        this.exact(key, "quality", state(base), state(current));
      }
      return;
    }
    this.exact(key, "quality.reference", base.reference ?? null, current.reference ?? null);
    const tolerances = this.findings.options.tolerances;
    for (const [field, direction] of Object.entries(QUALITY_DIRECTIONS)) {
      const name = field as QualityField;
      const b = base[name];
      const c = current[name];
      if (b === null || c === null) {
        this.exact(key, `quality.${name}`, b, c);
        continue;
      }
      const worse = direction === "higher-is-worse" ? c - b : b - c;
      if (Math.abs(worse) <= tolerances[name]) continue;
      const finding = {
        case: key,
        field: `quality.${name}`,
        base: b,
        current: c,
        detail: `${worse > 0 ? "worse" : "better"} by ${Math.abs(worse).toPrecision(3)} ` +
          `(tolerance ${tolerances[name]})`,
      };
      (worse > 0 ? this.findings.regressions : this.findings.improvements).push(finding);
    }
  }

  latencySamples(key: string, field: string, base: number[], current: number[]): void {
    if (base.length === 0 || current.length === 0) {
      if (base.length !== current.length) {
        this.exact(key, `${field}.n`, base.length, current.length);
      }
      return;
    }
    const { threshold, alpha, latency } = this.findings.options;
    const baseMedian = median(base);
    const currentMedian = median(current);
    const change = baseMedian > 0
      ? currentMedian / baseMedian - 1
      : (currentMedian > 0 ? Infinity : 0);
    if (Math.abs(change) <= threshold) return;
    const slower = change > 0;
    const test = mannWhitneyU(base, current, { alternative: slower ? "greater" : "less" });
    const significant = test.pValue < alpha;
    const margin = SEPARATION_FACTOR * threshold;
    const separated = slower
      ? Math.min(...current) > Math.max(...base) * (1 + margin)
      : Math.max(...current) * (1 + margin) < Math.min(...base);
    const counts = `n ${test.nBase}/${test.nCurrent}`;
    const untestable = test.minPValue >= alpha
      ? `too few samples: ${counts} cannot reach p < ${alpha}`
      : `not significant: ${formatPValue(test.pValue, alpha)}`;
    const evidence = significant
      ? formatPValue(test.pValue, alpha)
      : separated
      ? `every sample ${slower ? "slower" : "faster"} than every base sample by > ` +
        `${Number((margin * 100).toPrecision(3))}% (${untestable})`
      : untestable;
    const finding = {
      case: key,
      field,
      base: baseMedian,
      current: currentMedian,
      detail: `${formatMs(baseMedian)} → ${formatMs(currentMedian)} (${signedPercent(change)}` +
        ` median, ${evidence}${evidence.includes(counts) ? "" : `, ${counts}`})`,
    };
    if (!(significant || separated) || latency === "info") {
      this.findings.latencyNotes.push(finding);
    } else if (slower) this.findings.regressions.push(finding);
    else this.findings.improvements.push(finding);
  }

  latency(key: string, base: BenchRecord["latency"], current: BenchRecord["latency"]): void {
    if (base === null || current === null) {
      if (base !== current) {
        const state = (l: BenchRecord["latency"]) => l === null ? "not timed" : "timed";
        this.exact(key, "latency", state(base), state(current));
      }
      return;
    }
    if (base.timer !== current.timer) {
      this.exact(key, "latency.timer", base.timer, current.timer);
      return;
    }
    this.latencySamples(key, "latency", base.samples, current.samples);
    this.latencySamples(key, "latency.routing", base.routingSamples, current.routingSamples);
  }

  matchedCase(key: string, base: BenchRecord, current: BenchRecord): void {
    this.findings.matched++;
    if (current.error !== undefined) {
      const failure = {
        case: key,
        field: "error",
        base: base.error ?? null,
        current: current.error,
        detail: base.error === undefined ? "newly fails" : "still fails",
      };
      this.findings.failed.push(failure);
      if (base.error === undefined) this.findings.regressions.push(failure);
      return;
    }
    if (base.error !== undefined) {
      this.findings.improvements.push({
        case: key,
        field: "error",
        base: base.error,
        current: null,
        detail: "runs again",
      });
      return;
    }
    this.exactFields(key, base, current);
    this.quality(key, base.quality, current.quality);
    this.latency(key, base.latency, current.latency);
  }
}

function adapterList(records: readonly BenchRecord[]): string {
  const adapters = records.map((r) => `${r.adapter.description} (${adapterClassOf(r.adapter)})`);
  return [...new Set(adapters)].join(", ") || "none";
}

/** Collects, per adapter class, the descriptions and architectures that differ between files. */
class AdapterChanges {
  readonly #byChange = new Map<string, { finding: Finding; cases: number }>();

  add(base: BenchRecord["adapter"], current: BenchRecord["adapter"]): void {
    for (const field of ["description", "architecture"] as const) {
      if (base[field] === current[field]) continue;
      const adapterClass = adapterClassOf(current);
      const id = JSON.stringify([adapterClass, field, base[field], current[field]]);
      const entry = this.#byChange.get(id) ?? {
        finding: {
          case: adapterClass,
          field: `adapter.${field}`,
          base: base[field],
          current: current[field],
          detail: "",
        },
        cases: 0,
      };
      entry.cases++;
      this.#byChange.set(id, entry);
    }
  }

  findings(): Finding[] {
    return [...this.#byChange.values()].map(({ finding, cases }) => ({
      ...finding,
      detail: `same adapter class: ${cases} case${cases === 1 ? "" : "s"} matched by class`,
    }));
  }
}

/**
 * Compares `current` against `base` (see the module doc for how each field is judged).
 *
 * @example
 * ```ts
 * import { compareResults } from "./compare.ts";
 * import { equal } from "node:assert/strict";
 * const empty = {
 *   schema: "longshot.results/1", suite: "default@1", commit: null, date: "2025-01-01",
 *   deno: "2", command: "bench", seed: 1, adapter: null, shard: null, records: [],
 * };
 * equal(compareResults(empty, empty).regressions.length, 0);
 * ```
 */
export function compareResults(
  base: ResultsFile,
  current: ResultsFile,
  options: CompareOptions = {},
): Comparison {
  const judge = new CaseJudge(resolveCompareOptions(options));
  const findings = judge.findings;
  const adapterChanges = new AdapterChanges();
  const baseByKey = new Map(base.records.map((record) => [comparisonKey(record), record]));
  const currentKeys = new Set<string>();
  for (const record of current.records) {
    const key = comparisonKey(record);
    currentKeys.add(key);
    const baseRecord = baseByKey.get(key);
    if (baseRecord !== undefined) {
      adapterChanges.add(baseRecord.adapter, record.adapter);
      judge.matchedCase(key, baseRecord, record);
      continue;
    }
    findings.newCases.push(key);
    if (record.error !== undefined) {
      findings.failed.push({
        case: key,
        field: "error",
        base: null,
        current: record.error,
        detail: "new case fails",
      });
    }
  }
  findings.missingCases = [...baseByKey.keys()].filter((key) => !currentKeys.has(key));
  findings.adapterChanges = adapterChanges.findings();
  findings.frontierMoves = frontierMoves(base, current);

  if (base.suite !== current.suite) {
    findings.notes.push(`suites differ: base ${base.suite}, current ${current.suite}`);
  }
  for (const [role, file] of [["base", base], ["current", current]] as const) {
    if (file.shard !== null) {
      findings.notes.push(`${role} holds shard ${file.shard} only: other shards' cases are absent`);
    }
  }
  if (findings.matched === 0) {
    findings.notes.push(
      `no case matched: base adapters ${adapterList(base.records)}; current adapters ${
        adapterList(current.records)
      }`,
    );
  }
  return findings;
}

/**
 * Speed–quality frontiers of a frontier run (docs/frontier.md): the points (method, knob setting)
 * of each scenario, the Pareto front of a set of points, and for each quality target the fastest
 * point that meets it. Pure functions over records; the report draws them and `compare` diffs
 * them.
 *
 * @module
 */
import type { ParamValue } from "../methods/method.ts";
import type { BenchRecord, KnobSetting, WholeRunSummary } from "./schema.ts";

/** Quality metrics a frontier plots: recall (higher is better) or relL2 (lower is better). */
export const FRONTIER_METRICS = ["recall", "relL2"] as const;

/** One of {@link FRONTIER_METRICS}. */
export type FrontierMetric = typeof FRONTIER_METRICS[number];

/** True when a higher value of `metric` is better quality. */
export function higherIsBetter(metric: FrontierMetric): boolean {
  return metric === "recall";
}

/** A point to place on a frontier: its identity, its speed (higher is faster) and its quality. */
export interface ParetoCandidate {
  /** Method name. */
  method: string;
  /** The knob setting as text (`decay=0.5`), or `defaults` for a method without a knob. */
  setting: string;
  /** Higher is faster (a speedup). */
  speed: number;
  /** The quality metric's value. */
  quality: number;
}

/**
 * True when `a` dominates `b`: at least as fast and as good, and strictly better in one of them.
 *
 * @example
 * ```ts
 * import { dominates } from "./frontier.ts";
 * import { equal } from "node:assert/strict";
 * const p = (speed: number, quality: number) => ({ method: "m", setting: "s", speed, quality });
 * equal(dominates(p(2, 0.9), p(1, 0.9), "recall"), true);
 * equal(dominates(p(2, 0.9), p(2, 0.9), "recall"), false);
 * equal(dominates(p(2, 0.2), p(1, 0.1), "relL2"), false);
 * ```
 */
export function dominates(a: ParetoCandidate, b: ParetoCandidate, metric: FrontierMetric): boolean {
  const better = higherIsBetter(metric) ? a.quality - b.quality : b.quality - a.quality;
  return a.speed >= b.speed && better >= 0 && (a.speed > b.speed || better > 0);
}

/**
 * The Pareto front of `points` under `metric`: the points no other point dominates, ordered by
 * speed (slowest first). Points with equal speed and quality are all kept.
 *
 * @example
 * ```ts
 * import { paretoFront } from "./frontier.ts";
 * import { deepEqual } from "node:assert/strict";
 * const p = (setting: string, speed: number, quality: number) =>
 *   ({ method: "m", setting, speed, quality });
 * const front = paretoFront([p("a", 1, 0.99), p("b", 2, 0.9), p("c", 1.5, 0.8)], "recall");
 * deepEqual(front.map((x) => x.setting), ["a", "b"]);
 * ```
 */
export function paretoFront<P extends ParetoCandidate>(
  points: readonly P[],
  metric: FrontierMetric,
): P[] {
  return points
    .filter((p) => !points.some((q) => q !== p && dominates(q, p, metric)))
    .sort((a, b) => a.speed - b.speed || a.setting.localeCompare(b.setting));
}

/** A quality target of the target table: `recall ≥ 0.95`, `relL2 ≤ 0.05`. */
export interface QualityTarget {
  /** The metric. */
  metric: FrontierMetric;
  /** The bound: a minimum for recall, a maximum for relL2. */
  bound: number;
}

/** The targets the report's table and `compare` use (issue 17). */
export const QUALITY_TARGETS: readonly QualityTarget[] = [
  { metric: "recall", bound: 0.90 },
  { metric: "recall", bound: 0.95 },
  { metric: "recall", bound: 0.99 },
  { metric: "relL2", bound: 0.05 },
  { metric: "relL2", bound: 0.1 },
];

/**
 * The target as text: `recall ≥ 0.95`, `relL2 ≤ 0.05`.
 *
 * @example
 * ```ts
 * import { targetLabel } from "./frontier.ts";
 * import { equal } from "node:assert/strict";
 * equal(targetLabel({ metric: "relL2", bound: 0.1 }), "relL2 ≤ 0.1");
 * ```
 */
export function targetLabel(target: QualityTarget): string {
  return `${target.metric} ${higherIsBetter(target.metric) ? "≥" : "≤"} ${target.bound}`;
}

/** True when `quality` meets `target`. */
export function meetsTarget(quality: number, target: QualityTarget): boolean {
  return higherIsBetter(target.metric) ? quality >= target.bound : quality <= target.bound;
}

/**
 * The fastest of `points` (whose quality is `target.metric`) that meets `target`, or null when
 * none does; between equally fast points the better quality wins.
 *
 * @example
 * ```ts
 * import { fastestMeeting } from "./frontier.ts";
 * import { equal } from "node:assert/strict";
 * const p = (setting: string, speed: number, quality: number) =>
 *   ({ method: "m", setting, speed, quality });
 * const points = [p("a", 1, 0.99), p("b", 2, 0.93), p("c", 3, 0.8)];
 * equal(fastestMeeting(points, { metric: "recall", bound: 0.9 })?.setting, "b");
 * equal(fastestMeeting(points, { metric: "recall", bound: 0.999 }), null);
 * ```
 */
export function fastestMeeting<P extends ParetoCandidate>(
  points: readonly P[],
  target: QualityTarget,
): P | null {
  const sign = higherIsBetter(target.metric) ? 1 : -1;
  let best: P | null = null;
  for (const p of points) {
    if (!meetsTarget(p.quality, target)) continue;
    if (
      best === null || p.speed > best.speed ||
      (p.speed === best.speed && sign * (p.quality - best.quality) > 0)
    ) best = p;
  }
  return best;
}

/** A knob value as text: numbers as written, lists as `AxBxC`. */
function valueText(value: ParamValue): string {
  return Array.isArray(value) ? value.join("x") : String(value);
}

/**
 * A knob setting as text, `decay=0.5` or `window=3x6x10`; `defaults` for a method without a knob.
 *
 * @example
 * ```ts
 * import { settingLabel } from "./frontier.ts";
 * import { equal } from "node:assert/strict";
 * equal(settingLabel({ param: "window", value: [3, 6, 10] }), "window=3x6x10");
 * equal(settingLabel(null), "defaults");
 * ```
 */
export function settingLabel(knob: KnobSetting | null | undefined): string {
  return knob ? `${knob.param}=${valueText(knob.value)}` : "defaults";
}

/** One (method, setting) of a scenario with the figures a frontier reads. */
export interface FrontierPoint {
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** Knob setting as text ({@link settingLabel}). */
  setting: string;
  /** Attention speedup against dense on the layer (dense median / median). */
  speedup: number;
  /** Whole-run attention time, ms, where the scenario has a schedule; else null. */
  wholeRunMs: number | null;
  /** Whole-run attention speedup, where the scenario has a schedule; else null. */
  wholeRunSpeedup: number | null;
  /** Quality proxies (null where the run has none). */
  recall: number | null;
  /** Relative L2 error against dense. */
  relL2: number | null;
}

/**
 * The frontier points of a run's records: every record with a `knob` field (a frontier run's
 * sweep point) but dense, that ran and has a speedup; with its whole-run figures joined on
 * (scenario, method name, knob setting). Records without the field (a matrix run) give no
 * points.
 */
export function frontierPoints(
  records: readonly BenchRecord[],
  wholeRuns: readonly WholeRunSummary[] = [],
): FrontierPoint[] {
  const wholeRunOf = new Map<string, WholeRunSummary>();
  for (const run of wholeRuns) {
    if (run.knob === undefined) continue;
    const method = run.methodName ?? run.method.split(":")[0];
    wholeRunOf.set(`${run.scenario}\u0000${method}\u0000${settingLabel(run.knob)}`, run);
  }
  const points: FrontierPoint[] = [];
  for (const r of records) {
    if (r.knob === undefined || r.method === "dense" || r.error || r.speedup === null) continue;
    const setting = settingLabel(r.knob);
    const run = wholeRunOf.get(`${r.scenario}\u0000${r.method}\u0000${setting}`);
    points.push({
      scenario: r.scenario,
      method: r.method,
      setting,
      speedup: r.speedup,
      wholeRunMs: run?.ms ?? null,
      wholeRunSpeedup: run?.speedup ?? null,
      recall: r.quality?.recall ?? null,
      relL2: r.quality?.relL2 ?? null,
    });
  }
  return points;
}

/** Which speed a frontier reads: the layer speedup or the whole-run speedup. */
export type FrontierSpeed = "speedup" | "wholeRun";

/**
 * `points` as Pareto candidates under `metric` and `speed` (the `FrontierPoint` kept as
 * `point`); points without that quality or speed are left out.
 */
export function candidatesOf(
  points: readonly FrontierPoint[],
  metric: FrontierMetric,
  speed: FrontierSpeed = "speedup",
): Array<ParetoCandidate & { point: FrontierPoint }> {
  const out: Array<ParetoCandidate & { point: FrontierPoint }> = [];
  for (const point of points) {
    const quality = point[metric];
    const value = speed === "speedup" ? point.speedup : point.wholeRunSpeedup;
    if (quality === null || value === null) continue;
    out.push({ method: point.method, setting: point.setting, speed: value, quality, point });
  }
  return out;
}

/** One row of the target table: per scenario, the fastest point meeting the target, or null. */
export interface TargetRow {
  /** The target. */
  target: QualityTarget;
  /** Per scenario (in first-seen order), the fastest point that meets it, or null. */
  fastest: Array<{ scenario: string; point: FrontierPoint | null }>;
}

/** Scenarios of `points` in first-seen order. */
export function scenariosOf(points: readonly FrontierPoint[]): string[] {
  return [...new Set(points.map((p) => p.scenario))];
}

/**
 * The target table ({@link QUALITY_TARGETS} by default): for each target and scenario the
 * fastest point (by layer speedup) that meets it, or null when none does.
 */
export function targetTable(
  points: readonly FrontierPoint[],
  targets: readonly QualityTarget[] = QUALITY_TARGETS,
): TargetRow[] {
  return targets.map((target) => ({
    target,
    fastest: scenariosOf(points).map((scenario) => {
      const mine = candidatesOf(points.filter((p) => p.scenario === scenario), target.metric);
      return { scenario, point: fastestMeeting(mine, target)?.point ?? null };
    }),
  }));
}

/**
 * How the speed–quality frontier moved between two frontier runs (docs/frontier.md, "compare"):
 * per scenario and metric, the points that left or entered the overall Pareto front, and per
 * quality target a change of the fastest (method, setting) that meets it. Information for
 * `compare`; a slower point at the same setting is judged as a latency regression as usual.
 *
 * @module
 */
import {
  candidatesOf,
  FRONTIER_METRICS,
  type FrontierPoint,
  frontierPoints,
  paretoFront,
  QUALITY_TARGETS,
  type QualityTarget,
  scenariosOf,
  targetLabel,
  targetTable,
} from "./frontier.ts";
import type { ResultsFile } from "./schema.ts";

/** One way a scenario's frontier moved, in words. */
export interface FrontierMove {
  /** Scenario name. */
  scenario: string;
  /** `front` (points left or entered the overall front) or `target` (fastest point changed). */
  kind: "front" | "target";
  /** One line: what moved (`recall: left the front: moc k=2; entered: sta window=3x1x1`). */
  line: string;
}

/** A point as a move names it: `method setting`. */
function pointName(point: FrontierPoint | null): string {
  return point ? `${point.method} ${point.setting}` : "none";
}

/** The names of the points on the overall front of `points` under `metric`. */
function frontNames(points: readonly FrontierPoint[], metric: typeof FRONTIER_METRICS[number]) {
  return new Set(paretoFront(candidatesOf(points, metric), metric).map((c) => pointName(c.point)));
}

/**
 * The moves of the frontier from `base` to `current`, scenario by scenario (scenarios with
 * frontier points in both files), metric by metric, then target by target. Empty when either
 * file is not a frontier run or nothing moved.
 *
 * @example
 * ```ts
 * import { frontierMoves } from "./frontier_moves.ts";
 * import { equal } from "node:assert/strict";
 * const empty = {
 *   schema: "longshot.results/1", suite: "frontier@1", commit: null, date: "2025-01-01",
 *   deno: "2", command: "bench", seed: 1, adapter: null, shard: null, records: [],
 * };
 * equal(frontierMoves(empty, empty).length, 0);
 * ```
 */
export function frontierMoves(
  base: ResultsFile,
  current: ResultsFile,
  targets: readonly QualityTarget[] = QUALITY_TARGETS,
): FrontierMove[] {
  const before = frontierPoints(base.records, base.wholeRun ?? []);
  const after = frontierPoints(current.records, current.wholeRun ?? []);
  const shared = scenariosOf(after).filter((s) => before.some((p) => p.scenario === s));
  const moves: FrontierMove[] = [];
  for (const scenario of shared) {
    const was = before.filter((p) => p.scenario === scenario);
    const now = after.filter((p) => p.scenario === scenario);
    for (const metric of FRONTIER_METRICS) {
      const wasFront = frontNames(was, metric);
      const nowFront = frontNames(now, metric);
      const left = [...wasFront].filter((name) => !nowFront.has(name));
      const entered = [...nowFront].filter((name) => !wasFront.has(name));
      if (left.length === 0 && entered.length === 0) continue;
      const parts = [
        left.length ? `left the front: ${left.join(", ")}` : "",
        entered.length ? `entered: ${entered.join(", ")}` : "",
      ].filter((part) => part !== "");
      moves.push({ scenario, kind: "front", line: `${metric}: ${parts.join("; ")}` });
    }
    const wasTable = targetTable(was, targets);
    const nowTable = targetTable(now, targets);
    targets.forEach((target, i) => {
      const from = pointName(wasTable[i].fastest[0]?.point ?? null);
      const to = pointName(nowTable[i].fastest[0]?.point ?? null);
      if (from === to) return;
      moves.push({
        scenario,
        kind: "target",
        line: `fastest for ${targetLabel(target)}: ${from} → ${to}`,
      });
    });
  }
  return moves;
}

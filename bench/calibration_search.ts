/**
 * The search of `deno task calibrate` (docs/cli.md, "calibrate"): quality targets
 * (`recall>=0.95`, `relL2<=0.1`) and, over a knob's grid ordered densest first, the sparsest
 * setting whose measured quality meets the target. The grid is only roughly monotone in quality,
 * so every point is looked at and the last one that meets the target wins; nothing is inferred
 * from its neighbours. Pure functions over quality tables.
 *
 * @module
 */

/** The quality proxies a target may bound. */
export const TARGET_METRICS = ["recall", "relL2"] as const;

/** One of {@link TARGET_METRICS}. */
export type TargetMetric = typeof TARGET_METRICS[number];

/** A quality target: `recall ≥ bound` or `relL2 ≤ bound`. */
export interface QualityTarget {
  /** The proxy bounded. */
  metric: TargetMetric;
  /** The bound (recall: 0 < bound ≤ 1; relL2: bound ≥ 0). */
  bound: number;
}

/** The proxies a target reads from a measured quality (null: not measured). */
export interface MeasuredQuality {
  /** Dense softmax mass kept. */
  recall: number | null;
  /** Relative L2 error against dense. */
  relL2: number | null;
}

const TARGET_USAGE = "recall>=X (0 < X ≤ 1) or relL2<=X (X ≥ 0)";

/**
 * Parses `recall>=0.95` or `relL2<=0.1`; throws a RangeError naming the allowed forms.
 *
 * @example
 * ```ts
 * import { deepEqual, throws } from "node:assert/strict";
 * import { parseTarget } from "./calibration_search.ts";
 * deepEqual(parseTarget("recall>=0.95"), { metric: "recall", bound: 0.95 });
 * deepEqual(parseTarget("relL2<=0.1"), { metric: "relL2", bound: 0.1 });
 * throws(() => parseTarget("recall<=0.9"), /--target must be recall>=X/);
 * ```
 */
export function parseTarget(text: string): QualityTarget {
  const match = /^\s*(recall\s*>=|relL2\s*<=)\s*([0-9.eE+-]+)\s*$/.exec(text);
  const bound = match ? Number(match[2]) : NaN;
  const metric: TargetMetric | null = match
    ? (match[1].startsWith("recall") ? "recall" : "relL2")
    : null;
  const inRange = metric === "recall" ? bound > 0 && bound <= 1 : bound >= 0;
  if (metric === null || !Number.isFinite(bound) || !inRange) {
    throw new RangeError(`--target must be ${TARGET_USAGE} (got "${text}")`);
  }
  return { metric, bound };
}

/** The target as written on the command line (`recall>=0.95`). */
export function formatTarget(target: QualityTarget): string {
  return `${target.metric}${target.metric === "recall" ? ">=" : "<="}${target.bound}`;
}

/**
 * Whether `quality` meets `target`; an unmeasured proxy (null, or no quality at all) never does.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { meetsTarget } from "./calibration_search.ts";
 * const target = { metric: "recall" as const, bound: 0.95 };
 * equal(meetsTarget(target, { recall: 0.95, relL2: 0.3 }), true);
 * equal(meetsTarget(target, { recall: null, relL2: 0 }), false);
 * ```
 */
export function meetsTarget(target: QualityTarget, quality: MeasuredQuality | null): boolean {
  const value = quality?.[target.metric];
  if (value === null || value === undefined || Number.isNaN(value)) return false;
  return target.metric === "recall" ? value >= target.bound : value <= target.bound;
}

/**
 * The index of the sparsest grid point that meets `target`: `qualities` follows the knob's grid,
 * densest first, so it is the last index that meets it; null when none does. Points are not
 * assumed monotone: a sparser point that meets the target wins over a denser one that misses.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { sparsestMeeting } from "./calibration_search.ts";
 * const target = { metric: "relL2" as const, bound: 0.1 };
 * const at = (relL2: number) => ({ recall: null, relL2 });
 * equal(sparsestMeeting([at(0.01), at(0.2), at(0.08), at(0.3)], target), 2);
 * equal(sparsestMeeting([at(0.2), at(0.3)], target), null);
 * ```
 */
export function sparsestMeeting(
  qualities: readonly (MeasuredQuality | null)[],
  target: QualityTarget,
): number | null {
  for (let i = qualities.length - 1; i >= 0; i--) {
    if (meetsTarget(target, qualities[i])) return i;
  }
  return null;
}

/**
 * Per head, the index of the sparsest grid point that meets `target` on that head (null where
 * none does). `table[i][h]` is head h's quality at grid point i, the grid densest first; every
 * row must hold one entry a head.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sparsestMeetingPerHead } from "./calibration_search.ts";
 * const target = { metric: "recall" as const, bound: 0.9 };
 * const at = (recall: number) => ({ recall, relL2: null });
 * deepEqual(sparsestMeetingPerHead([[at(1), at(1)], [at(0.95), at(0.5)]], target), [1, 0]);
 * ```
 */
export function sparsestMeetingPerHead(
  table: readonly (readonly (MeasuredQuality | null)[])[],
  target: QualityTarget,
): (number | null)[] {
  const heads = table[0]?.length ?? 0;
  table.forEach((row, i) => {
    if (row.length !== heads) {
      throw new RangeError(
        `table row ${i} must hold one quality a head (${heads}), got ${row.length}`,
      );
    }
  });
  return Array.from(
    { length: heads },
    (_, h) => sparsestMeeting(table.map((row) => row[h]), target),
  );
}

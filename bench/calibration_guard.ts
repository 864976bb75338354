/**
 * How `deno task calibrate` guards its choice against the noise of new inputs (docs/cli.md,
 * "calibrate"; docs/calibration.md): a margin that tightens the target on the calibration inputs,
 * and the worst case over several calibration seeds. The chosen setting is the sparsest whose
 * worst case meets target + margin; the held-out inputs are then checked against the target
 * itself. Pure functions.
 *
 * @module
 */
import { formatTarget, type MeasuredQuality, type QualityTarget } from "./calibration_search.ts";

/**
 * The default margin as a share of the target's slack (1 − X for `recall>=X`, X for `relL2<=X`).
 * Measured on moc-multi-shot (ci, 14 seeds): the seed-to-seed spread of recall is about a fifth of
 * the recall lost (MoC k=16: sd 0.019 at mean 0.898; k=1: sd 0.030 at 0.819), so a tenth of the
 * slack is half a standard deviation, on top of the worst of the calibration seeds.
 */
export const DEFAULT_MARGIN_SHARE = 0.1;

/** Figures rounded to a millionth, so 0.8 + 0.02 prints as 0.82. */
function rounded(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The largest margin `target` allows: its slack (1 − X for recall, X for relL2). */
export function maxMargin(target: QualityTarget): number {
  return rounded(target.metric === "recall" ? 1 - target.bound : target.bound);
}

/**
 * The margin of a calibration: `margin` (a number, or its text as `--margin` gives it) checked
 * against `target`, or the default (a tenth of the slack) when undefined. Anything but a number in
 * 0..slack throws a RangeError naming the allowed range.
 *
 * @example
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { marginFor } from "./calibration_guard.ts";
 * equal(marginFor({ metric: "recall", bound: 0.8 }, undefined), 0.02);
 * equal(marginFor({ metric: "relL2", bound: 0.1 }, undefined), 0.01);
 * equal(marginFor({ metric: "recall", bound: 0.8 }, 0.05), 0.05);
 * equal(marginFor({ metric: "relL2", bound: 0.1 }, "0.05"), 0.05);
 * throws(() => marginFor({ metric: "recall", bound: 0.95 }, 0.1),
 *   /--margin must be a number 0\.\.0\.05 for recall>=0\.95 \(got 0\.1\)/);
 * ```
 */
export function marginFor(target: QualityTarget, margin: number | string | undefined): number {
  const max = maxMargin(target);
  if (margin === undefined) return rounded(max * DEFAULT_MARGIN_SHARE);
  const value = typeof margin === "number" ? margin : margin.trim() === "" ? NaN : Number(margin);
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new RangeError(
      `--margin must be a number 0..${max} for ${formatTarget(target)} (got ${
        typeof margin === "number" ? margin : `"${margin}"`
      })`,
    );
  }
  return value;
}

/**
 * The target the calibration inputs must meet: `recall>=X+m` or `relL2<=X−m`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { withMargin } from "./calibration_guard.ts";
 * deepEqual(withMargin({ metric: "recall", bound: 0.8 }, 0.02), { metric: "recall", bound: 0.82 });
 * deepEqual(withMargin({ metric: "relL2", bound: 0.1 }, 0.01), { metric: "relL2", bound: 0.09 });
 * ```
 */
export function withMargin(target: QualityTarget, margin: number): QualityTarget {
  const bound = target.metric === "recall" ? target.bound + margin : target.bound - margin;
  return { metric: target.metric, bound: rounded(bound) };
}

/**
 * The worst of several measurements of one setting (one a calibration seed): the lowest recall
 * and the highest relL2. A failed or unmeasured one makes the worst case unknown (null), so a
 * setting must be measured on every seed to meet a target.
 *
 * @example
 * ```ts
 * import { deepEqual, equal } from "node:assert/strict";
 * import { worstCase } from "./calibration_guard.ts";
 * deepEqual(worstCase([{ recall: 0.9, relL2: 0.1 }, { recall: 0.85, relL2: 0.08 }]),
 *   { recall: 0.85, relL2: 0.1 });
 * equal(worstCase([{ recall: 0.9, relL2: 0.1 }, null]), null);
 * ```
 */
export function worstCase(
  measured: readonly (MeasuredQuality | null)[],
): MeasuredQuality | null {
  if (measured.length === 0 || measured.some((q) => q === null)) return null;
  const all = measured as MeasuredQuality[];
  const pick = (values: (number | null)[], worst: (...v: number[]) => number) =>
    values.some((v) => v === null || Number.isNaN(v)) ? null : worst(...(values as number[]));
  return {
    recall: pick(all.map((q) => q.recall), Math.min),
    relL2: pick(all.map((q) => q.relL2), Math.max),
  };
}

/**
 * Head by head, the worst case of several per-head measurements (one list a seed); null when a
 * seed has no per-head figures.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { worstCasePerHead } from "./calibration_guard.ts";
 * const at = (recall: number) => ({ recall, relL2: null });
 * deepEqual(worstCasePerHead([[at(0.9), at(0.8)], [at(0.85), at(0.95)]]), [at(0.85), at(0.8)]);
 * ```
 */
export function worstCasePerHead(
  measured: readonly (readonly MeasuredQuality[] | null)[],
): MeasuredQuality[] | null {
  if (measured.length === 0 || measured.some((heads) => heads === null)) return null;
  const lists = measured as MeasuredQuality[][];
  const heads = Math.min(...lists.map((l) => l.length));
  return Array.from({ length: heads }, (_, h) => worstCase(lists.map((l) => l[h]))!);
}

/**
 * The calibration seeds: `count` consecutive seeds from `first` (wrapping at 2³²).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { calibrationSeeds } from "./calibration_guard.ts";
 * deepEqual(calibrationSeeds(1, 3), [1, 2, 3]);
 * deepEqual(calibrationSeeds(2 ** 32 - 1, 2), [2 ** 32 - 1, 0]);
 * ```
 */
export function calibrationSeeds(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (first + i) % 2 ** 32);
}

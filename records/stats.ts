/**
 * Order statistics and the Mann–Whitney U rank test used to judge latency samples.
 *
 * Why a rank test: GPU timings are skewed and carry outliers (a preempted submit, a clock
 * change). The U statistic only uses the order of the samples, so one 10× outlier moves it by
 * at most one rank, where a t-test's mean and variance would be dragged along. Ties get average
 * ranks and the variance its tie correction; the p-value uses the normal approximation with a
 * continuity correction (Mann & Whitney 1947; the same as scipy's `method="asymptotic"`).
 *
 * @module
 */

/** Thrown when a statistic is asked of samples it cannot use (empty, non-finite). */
export class SampleError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "SampleError";
  }
}

function sortedCopy(samples: readonly number[], what: string): number[] {
  if (samples.length === 0) throw new SampleError(`${what} needs at least one sample (got 0)`);
  for (const x of samples) {
    if (!Number.isFinite(x)) throw new SampleError(`${what} needs finite samples (got ${x})`);
  }
  return [...samples].sort((a, b) => a - b);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics (type 7, the
 * default of numpy and R).
 *
 * @example
 * ```ts
 * import { quantile } from "./stats.ts";
 * import { equal } from "node:assert/strict";
 * equal(quantile([4, 1, 3, 2], 0.5), 2.5);
 * equal(quantile([10, 20], 0.1), 11);
 * ```
 */
export function quantile(samples: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new SampleError(`quantile q must be in [0, 1] (got ${q})`);
  const sorted = sortedCopy(samples, "quantile");
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/**
 * The median (the 0.5 quantile).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * import { equal } from "node:assert/strict";
 * equal(median([3, 1, 2]), 2);
 * ```
 */
export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/**
 * Standard normal cumulative distribution Φ(z), from the complementary error function
 * (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).
 *
 * @example
 * ```ts
 * import { normalCdf } from "./stats.ts";
 * import { ok } from "node:assert/strict";
 * ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
 * ```
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(
    -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Which shift of `current` against `base` the one-sided test looks for. */
export type Alternative = "greater" | "less";

/** Result of {@link mannWhitneyU}. */
export interface RankTestResult {
  /** U of `current`: pairs (base, current) with current > base, ties counting one half. */
  u: number;
  /** Standardised U, oriented so that a large z favours the alternative, continuity-corrected. */
  z: number;
  /** One-sided p-value of the normal approximation (1 when every sample ties). */
  pValue: number;
  /** Smallest p-value these sample counts can reach (the test's resolution). */
  minPValue: number;
  /** Number of base samples. */
  nBase: number;
  /** Number of current samples. */
  nCurrent: number;
}

/** Options of {@link mannWhitneyU}. */
export interface RankTestOptions {
  /** `greater`: is `current` stochastically larger than `base` (slower)? `less`: smaller? */
  alternative: Alternative;
}

/**
 * One-sided Mann–Whitney U test of `current` against `base` (see the module doc for why).
 *
 * @example
 * ```ts
 * import { mannWhitneyU } from "./stats.ts";
 * import { equal, ok } from "node:assert/strict";
 * const result = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], { alternative: "greater" });
 * equal(result.u, 25);
 * ok(Math.abs(result.pValue - 0.006092) < 1e-5);
 * ```
 */
export function mannWhitneyU(
  base: readonly number[],
  current: readonly number[],
  options: RankTestOptions,
): RankTestResult {
  sortedCopy(base, "mannWhitneyU base");
  sortedCopy(current, "mannWhitneyU current");
  const nBase = base.length;
  const nCurrent = current.length;
  const n = nBase + nCurrent;
  const pooled = [
    ...base.map((value) => ({ value, fromCurrent: false })),
    ...current.map((value) => ({ value, fromCurrent: true })),
  ].sort((a, b) => a.value - b.value);

  let currentRankSum = 0;
  let tieTerm = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && pooled[end].value === pooled[start].value) end++;
    const tied = end - start;
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) if (pooled[i].fromCurrent) currentRankSum += averageRank;
    tieTerm += tied ** 3 - tied;
    start = end;
  }

  const u = currentRankSum - nCurrent * (nCurrent + 1) / 2;
  const mean = nBase * nCurrent / 2;
  const variance = nBase * nCurrent / 12 * ((n + 1) - tieTerm / (n * (n - 1)));
  const sd = Math.sqrt(Math.max(variance, 0));
  const sign = options.alternative === "greater" ? 1 : -1;
  const extremeZ = (mean - 0.5) / Math.sqrt(nBase * nCurrent * (n + 1) / 12);
  const minPValue = normalCdf(-extremeZ);
  if (sd === 0) return { u, z: 0, pValue: 1, minPValue, nBase, nCurrent };
  const z = (sign * (u - mean) - 0.5) / sd;
  return { u, z, pValue: normalCdf(-z), minPValue, nBase, nCurrent };
}

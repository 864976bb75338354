import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { mannWhitneyU, median, normalCdf, quantile, SampleError } from "./stats.ts";
import { jitteredSamples, splitmix32 } from "../tests/results_fixtures.ts";

/** U by its definition: pairs with current > base, ties one half (no ranks involved). */
function pairCountU(base: number[], current: number[]): number {
  let u = 0;
  for (const b of base) for (const c of current) u += c > b ? 1 : c === b ? 0.5 : 0;
  return u;
}

Deno.test("quantile interpolates linearly and rejects empty or non-finite samples", () => {
  equal(quantile([1, 2, 3, 4, 5], 0.1), 1.4);
  equal(quantile([5, 1, 3], 1), 5);
  equal(median([2, 8, 4, 6]), 5);
  throws(() => median([]), SampleError);
  throws(() => median([1, NaN]), SampleError);
  throws(() => quantile([1], 1.5), /q must be in \[0, 1\]/);
});

Deno.test("normalCdf matches known values of the standard normal", () => {
  ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
  ok(Math.abs(normalCdf(-1) - 0.158655254) < 1e-7);
  ok(Math.abs(normalCdf(2.326347874) - 0.99) < 1e-7);
  ok(Math.abs(normalCdf(-4) - 3.16712418e-5) < 1e-9);
});

Deno.test("U from ranks equals the pair count, ties included", () => {
  const random = splitmix32(7);
  for (let trial = 0; trial < 50; trial++) {
    const base = Array.from({ length: 3 + trial % 9 }, () => Math.floor(random() * 6));
    const current = Array.from({ length: 2 + trial % 7 }, () => Math.floor(random() * 6));
    equal(mannWhitneyU(base, current, { alternative: "greater" }).u, pairCountU(base, current));
  }
});

Deno.test("p-value follows the normal approximation with tie correction (scipy asymptotic)", () => {
  // scipy.stats.mannwhitneyu([1,2,3,4,5], [6,7,8,9,10], alternative="greater",
  // method="asymptotic").pvalue = 0.006092
  const separated = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], { alternative: "greater" });
  ok(Math.abs(separated.pValue - 0.0060919) < 1e-6);
  // With ties: base [1,2,2,3], current [2,3,3,4]: U = 2 + 2·3.5 + 4 = 13, tie term 2·(27−3) = 48,
  // σ² = 16/12·(9 − 48/56), z = (13 − 8 − 0.5)/σ.
  const tied = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4], { alternative: "greater" });
  const sigma = Math.sqrt(16 / 12 * (9 - 48 / 56));
  ok(Math.abs(tied.z - 4.5 / sigma) < 1e-12);
  ok(Math.abs(tied.pValue - (1 - normalCdf(4.5 / sigma))) < 1e-9);
});

Deno.test("the two one-sided tests mirror each other and all-tied samples give p = 1", () => {
  const base = jitteredSamples(1, 12, 10, 0.05);
  const current = jitteredSamples(2, 12, 10.5, 0.05);
  const greater = mannWhitneyU(base, current, { alternative: "greater" });
  const mirrored = mannWhitneyU(current, base, { alternative: "less" });
  ok(Math.abs(greater.pValue - mirrored.pValue) < 1e-12);
  deepEqual(mannWhitneyU([3, 3], [3, 3, 3], { alternative: "greater" }).pValue, 1);
});

Deno.test("one 10× outlier moves U by at most one rank per base sample", () => {
  const base = jitteredSamples(3, 20, 10, 0.05);
  const current = jitteredSamples(4, 20, 10, 0.05);
  const before = mannWhitneyU(base, current, { alternative: "greater" });
  const withOutlier = [...current];
  withOutlier[5] *= 10;
  const after = mannWhitneyU(base, withOutlier, { alternative: "greater" });
  ok(after.u - before.u <= base.length);
  ok(after.pValue > 0.01, `p = ${after.pValue}`);
});

Deno.test("minPValue tells when the sample counts cannot reach alpha", () => {
  ok(mannWhitneyU([1, 2, 3], [4, 5, 6], { alternative: "greater" }).minPValue > 0.01);
  ok(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], { alternative: "greater" }).minPValue < 0.01);
});

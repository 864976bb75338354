/**
 * Growth of latency with sequence length: for every method run on several lengths of one
 * scenario family (a preset and its `@x2`, `@x4`, `@x8` sweeps), the exponent p of
 * median ∝ L^p fitted by least squares in log-log. Dense attention is ≈ 2; a method whose work
 * grows as L·log L is a little over 1.
 *
 * @module
 */
import { methodSpecOf } from "../records/case_key.ts";
import type { BenchRecord } from "../records/schema.ts";

/** One fitted exponent. */
export interface GrowthFit {
  /** Scenario family: the preset name without its `@xN` suffix. */
  family: string;
  /** Method spec, `name:params`. */
  method: string;
  /** Fitted exponent p of median ∝ L^p. */
  exponent: number;
  /** Lengths the fit uses. */
  points: number;
  /** Shortest and longest L. */
  tokens: [number, number];
  /** Median latency at those lengths, ms. */
  medians: [number, number];
}

/** The family of a scenario name: `wan-69f-768x1280@x4` → `wan-69f-768x1280`. */
export function scenarioFamily(scenario: string): string {
  return scenario.replace(/@x\d+$/, "");
}

/** Least-squares slope of y on x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

/**
 * Growth exponents of every (family, method, dtype, adapter) timed at two or more lengths.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { growthExponents } from "./scaling.ts";
 * const record = (scenario: string, tokens: number, median: number) => ({
 *   scenario, tokens, method: "dense", params: {}, dtype: "f32",
 *   adapter: { description: "gpu" }, latency: { median },
 * });
 * const [fit] = growthExponents([record("a", 1000, 1), record("a@x2", 2000, 4)] as never);
 * equal(fit.exponent.toFixed(6), "2.000000");
 * ```
 */
export function growthExponents(records: BenchRecord[]): GrowthFit[] {
  const groups = new Map<string, BenchRecord[]>();
  for (const r of records) {
    if (!r.latency || r.error) continue;
    const key = [
      scenarioFamily(r.scenario),
      methodSpecOf(r.method, r.params),
      r.dtype,
      r.adapter.description,
    ]
      .join("\u0000");
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const fits: GrowthFit[] = [];
  for (const group of groups.values()) {
    const byTokens = [...new Map(group.map((r) => [r.tokens, r])).values()]
      .sort((a, b) => a.tokens - b.tokens);
    if (byTokens.length < 2) continue;
    const first = byTokens[0];
    const last = byTokens[byTokens.length - 1];
    fits.push({
      family: scenarioFamily(first.scenario),
      method: methodSpecOf(first.method, first.params),
      exponent: slope(
        byTokens.map((r) => Math.log(r.tokens)),
        byTokens.map((r) => Math.log(r.latency!.median)),
      ),
      points: byTokens.length,
      tokens: [first.tokens, last.tokens],
      medians: [first.latency!.median, last.latency!.median],
    });
  }
  return fits;
}

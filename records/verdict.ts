/**
 * The verdict of a comparison: whether it fails, and why. The exit code of `compare` and the
 * headline of its summary both come from {@link comparisonVerdict}, so they cannot disagree.
 *
 * @module
 */
import type { Comparison } from "./compare.ts";

/** What beyond regressions decides a comparison (`--fail-on-change`, `--allow-missing`). */
export interface FailurePolicy {
  /** Exact-field changes fail too. */
  failOnChange?: boolean;
  /** Cases missing from the current file, or no case matched at all, do not fail. */
  allowMissing?: boolean;
}

/** Whether a comparison fails, and why: the one answer the exit code and the headline share. */
export interface Verdict {
  /** The comparison judged. */
  comparison: Comparison;
  /** The policy it was judged under. */
  policy: Required<FailurePolicy>;
  /** True when the comparison fails (compare exits 1). */
  fails: boolean;
  /** Why it fails, one phrase a reason (`2 regressions`, `no case matched`…); empty on a pass. */
  reasons: string[];
}

function counted(count: number, what: string): string {
  return `${count} ${what}${count === 1 ? "" : "s"}`;
}

/**
 * Decides a comparison: any regression fails; exact-field changes fail under `failOnChange`;
 * cases missing from the current file, and a comparison that matched no case, fail unless
 * `allowMissing` (a gate that checked nothing must not pass by accident).
 *
 * @example
 * ```ts
 * import { compareResults } from "./compare.ts";
 * import { comparisonVerdict } from "./verdict.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const empty = {
 *   schema: "longshot.results/1", suite: "default@1", commit: null, date: "2025-01-01",
 *   deno: "2", command: "bench", seed: 1, adapter: null, shard: null, records: [],
 * };
 * const comparison = compareResults(empty, empty);
 * deepEqual(comparisonVerdict(comparison).reasons, ["no case matched"]);
 * equal(comparisonVerdict(comparison, { allowMissing: true }).fails, false);
 * ```
 */
export function comparisonVerdict(comparison: Comparison, policy: FailurePolicy = {}): Verdict {
  const resolved = {
    failOnChange: policy.failOnChange === true,
    allowMissing: policy.allowMissing === true,
  };
  const reasons: string[] = [];
  const { regressions, changes, missingCases, matched } = comparison;
  if (regressions.length > 0) reasons.push(counted(regressions.length, "regression"));
  if (resolved.failOnChange && changes.length > 0) {
    reasons.push(`${counted(changes.length, "change")} (--fail-on-change)`);
  }
  if (!resolved.allowMissing && matched === 0) reasons.push("no case matched");
  if (!resolved.allowMissing && missingCases.length > 0) {
    reasons.push(counted(missingCases.length, "missing case"));
  }
  return { comparison, policy: resolved, fails: reasons.length > 0, reasons };
}

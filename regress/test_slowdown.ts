/**
 * Test hook for checking that compare catches a slowdown end to end: with
 * `LONGSHOT_TEST_SLOWDOWN="<method>=<factor>[,<method>=<factor>…]"` the bench runner multiplies
 * that method's timing samples by the factor before computing median, p10 and p90, and notes it
 * in the record. Never set it outside tests.
 *
 * @module
 */

/** Name of the environment variable. */
export const TEST_SLOWDOWN_ENV = "LONGSHOT_TEST_SLOWDOWN";

/** Thrown for a malformed {@link TEST_SLOWDOWN_ENV} value. */
export class TestSlowdownError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "TestSlowdownError";
  }
}

/**
 * Parses the hook's value into method → factor (an empty map when unset or empty).
 *
 * @example
 * ```ts
 * import { parseTestSlowdown } from "./test_slowdown.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(parseTestSlowdown("moc=1.3,dense=2").get("moc"), 1.3);
 * equal(parseTestSlowdown(undefined).size, 0);
 * throws(() => parseTestSlowdown("moc=0"), /LONGSHOT_TEST_SLOWDOWN/);
 * ```
 */
export function parseTestSlowdown(text: string | undefined): Map<string, number> {
  const factors = new Map<string, number>();
  if (text === undefined) return factors;
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const match = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(part);
    const factor = match ? Number(match[2]) : NaN;
    if (!match || !(factor > 0 && Number.isFinite(factor))) {
      throw new TestSlowdownError(
        `${TEST_SLOWDOWN_ENV} must be method=factor[,method=factor…] with factor > 0 (got "${part}")`,
      );
    }
    factors.set(match[1], factor);
  }
  return factors;
}

/**
 * The samples of `method`, multiplied by its factor when the hook names it (else unchanged).
 *
 * @example
 * ```ts
 * import { applyTestSlowdown } from "./test_slowdown.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(applyTestSlowdown("moc", [1, 2], new Map([["moc", 1.5]])), [1.5, 3]);
 * deepEqual(applyTestSlowdown("dense", [1, 2], new Map([["moc", 1.5]])), [1, 2]);
 * ```
 */
export function applyTestSlowdown(
  method: string,
  samples: readonly number[],
  factors: ReadonlyMap<string, number>,
): number[] {
  const factor = factors.get(method) ?? 1;
  return samples.map((sample) => sample * factor);
}

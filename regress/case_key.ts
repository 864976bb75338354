/**
 * The identity of a case across runs: (scenario, method, params in sorted key order, dtype,
 * adapter description). Two records with the same key measure the same thing.
 *
 * The key is written in the `--methods` spec syntax of cli.md so that a reader can paste it
 * back: `hunyuan-ci · radial:block=128;decay=0.95 · f16 · NVIDIA H200`.
 *
 * @module
 */
import type { Params } from "../methods/method.ts";
import { formatParams } from "../methods/spec.ts";
import type { BenchRecord } from "../reports/schema.ts";

/** The record fields the key is made of. */
export type CaseIdentity = Pick<BenchRecord, "scenario" | "method" | "params" | "dtype"> & {
  adapter: Pick<BenchRecord["adapter"], "description">;
};

/**
 * The method with its parameters in sorted key order, in cli.md's spec syntax.
 *
 * @example
 * ```ts
 * import { methodSpecOf } from "./case_key.ts";
 * import { equal } from "node:assert/strict";
 * equal(methodSpecOf("sta", { window: [3, 3, 3], block: 384 }), "sta:block=384;window=3x3x3");
 * equal(methodSpecOf("dense", {}), "dense");
 * ```
 */
export function methodSpecOf(method: string, params: Params): string {
  const formatted = formatParams(params);
  return formatted ? `${method}:${formatted}` : method;
}

/**
 * The case key of a record (see the module doc).
 *
 * @example
 * ```ts
 * import { caseKey } from "./case_key.ts";
 * import { equal } from "node:assert/strict";
 * const key = caseKey({
 *   scenario: "hunyuan-ci",
 *   method: "radial",
 *   params: { decay: 0.95, block: 128 },
 *   dtype: "f16",
 *   adapter: { description: "NVIDIA H200" },
 * });
 * equal(key, "hunyuan-ci · radial:block=128;decay=0.95 · f16 · NVIDIA H200");
 * ```
 */
export function caseKey(record: CaseIdentity): string {
  return [
    record.scenario,
    methodSpecOf(record.method, record.params),
    record.dtype,
    record.adapter.description,
  ].join(" · ");
}

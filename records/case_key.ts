/**
 * The identity of a case across runs: (scenario, method, params in sorted key order, dtype,
 * adapter description). Two records with the same key measure the same thing.
 *
 * The key is written in the `--methods` spec syntax of docs/cli.md so that a reader can paste it
 * back: `hunyuan-ci · radial:block=128;decay=0.95 · f16 · NVIDIA H200`.
 *
 * `compare` matches cases across machines by {@link comparisonKey} instead, which names the
 * adapter by its class (backend, vendor, fallback): a driver or LLVM update changes the
 * description, not what is measured.
 *
 * @module
 */
import type { Params } from "../methods/method.ts";
import { formatParams } from "../methods/spec.ts";
import type { BenchRecord } from "./schema.ts";

/** The record fields the key is made of. */
export type CaseIdentity = Pick<BenchRecord, "scenario" | "method" | "params" | "dtype"> & {
  adapter: Pick<BenchRecord["adapter"], "description">;
};

/** The adapter fields its class is made of. */
export interface AdapterClassFields {
  /** Graphics API behind WebGPU (`vulkan`, `gl`, `metal`, `dx12`…). */
  backend: string;
  /** PCI vendor id or name as the adapter reports it. */
  vendor: string;
  /** Whether it is a fallback (software) adapter. */
  fallback: boolean;
}

/** The record fields the comparison key is made of. */
export type ComparisonIdentity = Omit<CaseIdentity, "adapter"> & { adapter: AdapterClassFields };

/**
 * The method with its parameters in sorted key order, in docs/cli.md's spec syntax.
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

/**
 * The class of an adapter: backend, vendor id and whether it is a fallback (software) adapter.
 * Adapters of one class run the same code paths; their descriptions may differ by driver or
 * LLVM version.
 *
 * @example
 * ```ts
 * import { adapterClassOf } from "./case_key.ts";
 * import { equal } from "node:assert/strict";
 * const lavapipe = { backend: "vulkan", vendor: "65541", fallback: true };
 * equal(adapterClassOf(lavapipe), "vulkan vendor 65541 fallback");
 * const h200 = { backend: "vulkan", vendor: "4318", fallback: false };
 * equal(adapterClassOf(h200), "vulkan vendor 4318");
 * ```
 */
export function adapterClassOf(adapter: AdapterClassFields): string {
  return `${adapter.backend} vendor ${adapter.vendor || "unknown"}${
    adapter.fallback ? " fallback" : ""
  }`;
}

/**
 * The key `compare` matches cases by: (scenario, method spec, dtype, adapter class).
 *
 * @example
 * ```ts
 * import { comparisonKey } from "./case_key.ts";
 * import { equal } from "node:assert/strict";
 * const key = comparisonKey({
 *   scenario: "hunyuan-ci",
 *   method: "radial",
 *   params: { decay: 0.95, block: 128 },
 *   dtype: "f32",
 *   adapter: { backend: "vulkan", vendor: "65541", fallback: true },
 * });
 * equal(key, "hunyuan-ci · radial:block=128;decay=0.95 · f32 · vulkan vendor 65541 fallback");
 * ```
 */
export function comparisonKey(record: ComparisonIdentity): string {
  return [
    record.scenario,
    methodSpecOf(record.method, record.params),
    record.dtype,
    adapterClassOf(record.adapter),
  ].join(" · ");
}

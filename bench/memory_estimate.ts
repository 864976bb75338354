/**
 * How much memory a scenario needs before anything is allocated, so a scenario file with huge
 * sizes is refused in one line instead of growing memory until the allocator fails.
 *
 * Counted: Q, K, V (storage precision), O (f32) and the log-sum-exps of every head on the
 * device, twice (a permuting method's kernel runs on permuted copies), and on the host one
 * head's generated Q/K/V plus the heads kept for the quality proxies.
 *
 * @module
 */
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";

/** A scenario's memory needs, bytes. */
export interface MemoryEstimate {
  /** Device memory of every head's Q/K/V/O and LSEs, with permuted copies. */
  deviceBytes: number;
  /** Host memory of one generated head plus the quality heads kept. */
  hostBytes: number;
  /** The largest single buffer: one head's Q, K, V or O. */
  largestBufferBytes: number;
}

/** What the machine allows. */
export interface MemoryLimits {
  /** The adapter's maxBufferSize. */
  maxBufferSize: number;
  /** The adapter's maxStorageBufferBindingSize. */
  maxStorageBufferBindingSize: number;
  /** True for a software adapter, whose device memory is host memory. */
  fallback: boolean;
  /** The host's total memory. */
  hostMemoryBytes: number;
}

/** Thrown when a scenario needs more memory than the adapter or host allows. */
export class MemoryLimitError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line: what the scenario needs and what is allowed
   */
  constructor(message: string) {
    super(message);
    this.name = "MemoryLimitError";
  }
}

/**
 * The memory `scenario` needs at `precision` with `qualityHeads` heads kept for quality.
 *
 * @example
 * ```ts
 * import { estimateMemory } from "./memory_estimate.ts";
 * import { equal } from "node:assert/strict";
 * const scenario = {
 *   name: "s", latent: [1, 4, 4] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [1], textSegments: [],
 *   heads: 2, headDim: 64, modelType: "hunyuan" as const,
 * };
 * // 16 tokens × 64 dims: Q/K/V 3 × 4 KiB + O 4 KiB + LSE 64 B, per head, twice.
 * equal(estimateMemory(scenario, "f32", 0).deviceBytes, 2 * 2 * (4 * 4096 + 64));
 * ```
 */
export function estimateMemory(
  scenario: Scenario,
  precision: "f32" | "f16",
  qualityHeads: number,
): MemoryEstimate {
  const tokens = totalTokens(scenario);
  const values = tokens * scenario.headDim;
  const inputBytes = values * (precision === "f16" ? 2 : 4);
  const outputBytes = values * 4;
  const perHead = 3 * inputBytes + outputBytes + tokens * 4;
  return {
    deviceBytes: 2 * scenario.heads * perHead,
    hostBytes: (1 + qualityHeads) * 3 * values * 4 + qualityHeads * outputBytes,
    largestBufferBytes: Math.max(inputBytes, outputBytes),
  };
}

/** Bytes as `12.3 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * Throws a {@link MemoryLimitError} when `estimate` does not fit `limits`: one buffer over the
 * adapter's buffer limits, or more memory than the host has (device memory counts as host memory
 * on a software adapter).
 */
export function checkMemory(
  scenario: Scenario,
  estimate: MemoryEstimate,
  limits: MemoryLimits,
): void {
  const shape = `${scenario.heads} heads × ${totalTokens(scenario)} tokens × ${scenario.headDim} ` +
    `dims`;
  const bufferLimit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  if (estimate.largestBufferBytes > bufferLimit) {
    const name = limits.maxBufferSize <= limits.maxStorageBufferBindingSize
      ? "maxBufferSize"
      : "maxStorageBufferBindingSize";
    throw new MemoryLimitError(
      `scenario "${scenario.name}" (${shape}) needs ${
        formatBytes(estimate.largestBufferBytes)
      } for one head's Q/K/V/O buffer; the adapter allows ${formatBytes(bufferLimit)} (${name})`,
    );
  }
  const hostNeed = estimate.hostBytes + (limits.fallback ? estimate.deviceBytes : 0);
  if (hostNeed > limits.hostMemoryBytes) {
    throw new MemoryLimitError(
      `scenario "${scenario.name}" (${shape}) needs about ${formatBytes(hostNeed)} of memory ` +
        `(${limits.fallback ? "software adapter: Q/K/V/O on the host, " : ""}inputs and ` +
        `quality copies); the host has ${formatBytes(limits.hostMemoryBytes)}`,
    );
  }
}

/**
 * Baselines: a results file kept under `baselines/<name>.json`, one per adapter kind, that
 * later runs are compared against (`deno task compare baselines/<name>.json results/…`).
 *
 * @module
 */
import { join } from "node:path";
import type { AdapterFacts } from "../gpu/runtime.ts";
import type { ResultsFile } from "./schema.ts";
import { validateResults } from "./results_input.ts";
import { writeFileAtomic } from "./atomic_write.ts";

/** Thrown for a baseline name or results that cannot make a baseline. */
export class BaselineError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "BaselineError";
  }
}

/** Folder baselines are kept in, relative to the working directory. */
export const BASELINE_DIR = "baselines";

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** PCI vendor ids as WebGPU reports them (decimal strings on Deno), to vendor names. */
const VENDOR_NAMES: Record<number, string> = {
  0x10de: "nvidia",
  0x1002: "amd",
  0x8086: "intel",
  0x106b: "apple",
  0x13b5: "arm",
  0x5143: "qualcomm",
  0x1010: "imagination",
  0x10005: "mesa",
};

function vendorName(vendor: string): string {
  const id = /^0x[0-9a-f]+$/i.test(vendor) || /^\d+$/.test(vendor) ? Number(vendor) : NaN;
  return VENDOR_NAMES[id] ?? vendor.toLowerCase().replace(/[^a-z0-9]+/g, "");
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/\((tm|r)\)/g, "")
    .replace(/\([^)]*\)/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * One baseline name per adapter kind: `software-<driver>` for a fallback adapter, else the
 * description as a slug, prefixed by the vendor when the description does not name it.
 *
 * @example
 * ```ts
 * import { baselineNameFor } from "./baseline.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   baselineNameFor({ description: "llvmpipe (LLVM 15.0.6, 256 bits)", vendor: "65541", fallback: true }),
 *   "software-llvmpipe",
 * );
 * equal(baselineNameFor({ description: "NVIDIA H200", vendor: "4318", fallback: false }), "nvidia-h200");
 * equal(baselineNameFor({ description: "Radeon RX 7900 XTX", vendor: "0x1002", fallback: false }), "amd-radeon-rx-7900-xtx");
 * ```
 */
export function baselineNameFor(
  adapter: Pick<AdapterFacts, "description" | "vendor" | "fallback">,
): string {
  const described = slug(adapter.description);
  if (adapter.fallback) return `software-${described.split("-")[0] || "adapter"}`;
  const vendor = vendorName(adapter.vendor);
  if (!described) return vendor ? `${vendor}-adapter` : "unknown-adapter";
  return !vendor || described.split("-").includes(vendor) ? described : `${vendor}-${described}`;
}

/** Options of {@link saveBaseline}. */
export interface SaveBaselineOptions {
  /** Folder of the baselines (default {@link BASELINE_DIR}). */
  dir?: string;
}

/**
 * Throws a {@link BaselineError} unless `name` is a plain baseline name (lower-case letters,
 * digits, `.`, `_`, `-`; not a path).
 */
export function checkBaselineName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new BaselineError(
      `baseline name must be lower-case letters, digits, ".", "_" or "-" (got "${name}")`,
    );
  }
}

/**
 * Writes `results` to `<dir>/<name>.json` atomically (temporary file + rename) and returns the
 * path. The results must be a whole, valid run: not one shard of it (merge shards first) and
 * with at least one record.
 */
export async function saveBaseline(
  results: ResultsFile,
  name: string,
  options: SaveBaselineOptions = {},
): Promise<string> {
  checkBaselineName(name);
  const path = join(options.dir ?? BASELINE_DIR, `${name}.json`);
  const checked = validateResults(results, `baseline ${name}`);
  if (checked.shard !== null) {
    throw new BaselineError(
      `baseline ${name}: results hold shard ${checked.shard} only; merge the shards first`,
    );
  }
  if (checked.records.length === 0) {
    throw new BaselineError(`baseline ${name}: results hold no records`);
  }
  await writeFileAtomic(path, JSON.stringify(checked, null, 2) + "\n");
  return path;
}

/**
 * Synthetic records and results files for the records tests: a seeded PRNG (splitmix32) for
 * timing samples, and records with every schema field filled.
 *
 * @module
 */
import { type BenchRecord, RESULTS_SCHEMA, type ResultsFile } from "../records/schema.ts";
import { median, quantile } from "../records/stats.ts";
import { mix32 } from "../scenarios/prng.ts";

/** splitmix32: a seeded generator of uniform numbers in [0, 1). */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    return mix32(state) / 4294967296;
  };
}

/** `n` timing samples around `centre` ms with uniform relative jitter of ±`jitter`. */
export function jitteredSamples(seed: number, n: number, centre: number, jitter: number): number[] {
  const random = splitmix32(seed);
  return Array.from({ length: n }, () => centre * (1 + jitter * (2 * random() - 1)));
}

/** A latency object whose statistics are computed from `samples`. */
export function latencyOf(
  samples: number[],
  routingSamples: number[] = [],
): BenchRecord["latency"] {
  return {
    median: median(samples),
    p10: quantile(samples, 0.1),
    p90: quantile(samples, 0.9),
    n: samples.length,
    timer: "gpu",
    compileMs: 5,
    routingMedian: routingSamples.length > 0 ? median(routingSamples) : null,
    totalMedian: null,
    samples,
    routingSamples,
  };
}

/** A complete record of a 1,024-token case; `overrides` replace fields. */
export function makeRecord(overrides: Partial<BenchRecord> = {}): BenchRecord {
  const tokens = 1024;
  const headDim = 64;
  const heads = 2;
  const denseFlops = 4 * tokens * tokens * headDim * heads;
  return {
    scenario: "tiny",
    method: "radial",
    params: { decay: 0.95, block: 128 },
    adapter: {
      description: "test adapter",
      vendor: "0",
      architecture: "",
      fallback: true,
      backend: "vulkan",
    },
    tokens,
    textTokens: 0,
    heads,
    headDim,
    dtype: "f32",
    inputs: "synthetic",
    denseFlops,
    flops: denseFlops / 4,
    executedFlops: denseFlops / 2,
    routingFlops: 0,
    analyticFlops: denseFlops / 4,
    tokenSparsity: 0.75,
    blockSparsity: 0.5,
    blockSize: 128,
    layoutDigest: "sha256:00",
    latency: latencyOf(jitteredSamples(1, 20, 10, 0.05)),
    tflops: null,
    speedup: null,
    efficiency: null,
    quality: { relL2: 0.05, cosine: 0.99, psnrDb: 30, recall: 0.95, crossShotRecall: null },
    stats: null,
    notes: [],
    memoryBytes: null,
    ...overrides,
  };
}

/** A results file holding `records`; `overrides` replace run facts. */
export function makeResults(
  records: BenchRecord[],
  overrides: Partial<ResultsFile> = {},
): ResultsFile {
  return {
    schema: RESULTS_SCHEMA,
    suite: "test@1",
    commit: "0123abc",
    date: "2025-01-01T00:00:00.000Z",
    deno: Deno.version.deno,
    command: "deno task bench",
    seed: 1,
    adapter: null,
    shard: null,
    records,
    ...overrides,
  };
}

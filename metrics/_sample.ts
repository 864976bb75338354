/**
 * Seeded sampling of query indices for the quality proxies and the decay curve: the suite's own
 * counter-based generator (bit reproducible on every machine, unlike Math.random) and Floyd's
 * sampling without replacement.
 *
 * @module
 */
import { Prng } from "../scenarios/prng.ts";

/** The generator stream of query samples (head-independent, apart from the inputs' streams). */
const SAMPLE_STREAM = 0x5a3b1e;

/**
 * `count` distinct indices of [0, population), ascending, seeded; all of them when
 * `count ≥ population`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sampleIndices } from "./_sample.ts";
 * deepEqual([...sampleIndices(3, 10, 1)], [0, 1, 2]);
 * deepEqual(sampleIndices(1000, 5, 7).length, 5);
 * ```
 */
export function sampleIndices(population: number, count: number, seed: number): Int32Array {
  if (!(Number.isInteger(population) && population >= 0)) {
    throw new RangeError(`population must be an integer ≥ 0 (got ${population})`);
  }
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new RangeError(`count must be an integer ≥ 1 (got ${count})`);
  }
  if (count >= population) return Int32Array.from({ length: population }, (_, i) => i);
  const prng = new Prng(seed, -1, SAMPLE_STREAM);
  const chosen = new Set<number>();
  for (let j = population - count; j < population; j++) {
    const pick = Math.floor(prng.uniform() * (j + 1));
    chosen.add(chosen.has(pick) ? j : pick);
  }
  return Int32Array.from(chosen).sort();
}

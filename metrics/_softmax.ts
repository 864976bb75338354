/**
 * One query's dense attention probabilities in float64 on the CPU (softmax scale 1/√d, as the
 * kernels use: docs/methods.md, "Dense"). Shared by the cross-shot recall and the decay curve.
 *
 * @module
 */

/**
 * Softmax probabilities of query `query` over every key: `out[j] = exp(s_j − max) / Σ exp`,
 * with `s_j = q·k_j / √d`. `q` and `k` are [tokens, d] row-major.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { softmaxRow } from "./_softmax.ts";
 * const k = new Float32Array([1, 0, 1, 0]); // two equal keys, d = 2
 * deepEqual([...softmaxRow(new Float32Array([1, 0, 0, 1]), k, { headDim: 2, query: 0 })], [0.5, 0.5]);
 * ```
 */
export function softmaxRow(
  q: Float32Array,
  k: Float32Array,
  options: { headDim: number; query: number; out?: Float64Array },
): Float64Array {
  const d = options.headDim;
  const keys = k.length / d;
  const out = options.out ?? new Float64Array(keys);
  const row = Float64Array.from(q.subarray(options.query * d, (options.query + 1) * d));
  const scale = 1 / Math.sqrt(d);
  const unrolled = d - (d % 4);
  let max = -Infinity;
  for (let j = 0; j < keys; j++) {
    const kb = j * d;
    // Four independent partial sums: about twice as fast in V8 as one running sum.
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    for (let c = 0; c < unrolled; c += 4) {
      d0 += row[c] * k[kb + c];
      d1 += row[c + 1] * k[kb + c + 1];
      d2 += row[c + 2] * k[kb + c + 2];
      d3 += row[c + 3] * k[kb + c + 3];
    }
    for (let c = unrolled; c < d; c++) d0 += row[c] * k[kb + c];
    const score = (d0 + d1 + d2 + d3) * scale;
    out[j] = score;
    if (score > max) max = score;
  }
  let sum = 0;
  for (let j = 0; j < keys; j++) {
    const e = Math.exp(out[j] - max);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < keys; j++) out[j] /= sum;
  return out;
}

/**
 * Float64 CPU reference of (masked) softmax attention, the ground truth every kernel is
 * checked against. Materialises one row of scores at a time: for tests and sampled checks only.
 *
 * @module
 */

/** Output rows and natural-log log-sum-exps of the reference. */
export interface ReferenceAttention {
  /** [tokens, d] outputs in float64. */
  out: Float64Array;
  /** Log-sum-exp per row (−Infinity for a row that attends nothing). */
  lse: Float64Array;
}

/**
 * softmax(q·kᵀ/√d + mask)·v in float64. `mask` is an L×L byte matrix (1 = attended) in the
 * original token order, or omitted for dense attention; `rows` restricts the queries computed.
 */
export function referenceAttention(
  tensors: { q: ArrayLike<number>; k: ArrayLike<number>; v: ArrayLike<number> },
  shape: { tokens: number; headDim: number; mask?: Uint8Array; rows?: ArrayLike<number> },
): ReferenceAttention {
  const { q, k, v } = tensors;
  const { tokens: L, headDim: d, mask } = shape;
  const rows = shape.rows ?? Array.from({ length: L }, (_, i) => i);
  const out = new Float64Array(L * d);
  const lse = new Float64Array(L).fill(-Infinity);
  const scale = 1 / Math.sqrt(d);
  const scores = new Float64Array(L);
  for (let n = 0; n < rows.length; n++) {
    const i = rows[n];
    let max = -Infinity;
    for (let j = 0; j < L; j++) {
      if (mask && !mask[i * L + j]) {
        scores[j] = -Infinity;
        continue;
      }
      let s = 0;
      for (let c = 0; c < d; c++) s += q[i * d + c] * k[j * d + c];
      scores[j] = s * scale;
      if (scores[j] > max) max = scores[j];
    }
    if (max === -Infinity) continue;
    let sum = 0;
    for (let j = 0; j < L; j++) {
      if (scores[j] === -Infinity) continue;
      const p = Math.exp(scores[j] - max);
      sum += p;
      for (let c = 0; c < d; c++) out[i * d + c] += p * v[j * d + c];
    }
    for (let c = 0; c < d; c++) out[i * d + c] /= sum;
    lse[i] = max + Math.log(sum);
  }
  return { out, lse };
}

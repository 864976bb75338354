/**
 * SpargeAttn's block prediction in float64 on the CPU (docs/methods.md, "SpargeAttn"; arXiv
 * 2502.18137, github.com/thu-ml/SpargeAttn): Q in blocks of `blockQ` tokens and K (centred on
 * its mean over the sequence) in blocks of `blockK`, each block mean-pooled and scored for
 * self-similarity (the mean cosine similarity over all pairs of its tokens); per query block, the
 * softmax of the pooled scores over the self-similar key blocks, whose largest entries are kept
 * while their running sum stays within the CDF threshold (at least one); key blocks that are not
 * self-similar are always kept, and a query block that is not self-similar keeps every key block.
 *
 * @module
 */
import type { HeadTensors } from "../../scenarios/inputs.ts";
import type { SpargeRoutingOptions, SpargeSelection } from "../../kernels/sparge_selection.ts";

/** Pooled means [blocks × d] and self-similarity flags of `x` [L × d] in blocks of `block`. */
export function poolBlocks(
  x: ArrayLike<number>,
  shape: { tokens: number; headDim: number; block: number; simThreshold: number },
): { pooled: Float64Array; similar: Uint8Array } {
  const { tokens, headDim: d, block, simThreshold } = shape;
  const blocks = Math.ceil(tokens / block);
  const pooled = new Float64Array(blocks * d);
  const similar = new Uint8Array(blocks);
  const unitSum = new Float64Array(d);
  for (let b = 0; b < blocks; b++) {
    const t0 = b * block;
    const n = Math.min(tokens, t0 + block) - t0;
    unitSum.fill(0);
    for (let t = t0; t < t0 + n; t++) {
      let norm = 0;
      for (let c = 0; c < d; c++) norm += x[t * d + c] ** 2;
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let c = 0; c < d; c++) {
        pooled[b * d + c] += x[t * d + c] / n;
        unitSum[c] += x[t * d + c] * inv;
      }
    }
    // Σ_ij cos(x_i, x_j) = |Σ_i x_i/|x_i||², so the mean over the n² pairs needs no Gram matrix.
    let gram = 0;
    for (let c = 0; c < d; c++) gram += unitSum[c] ** 2;
    similar[b] = gram / (n * n) > simThreshold ? 1 : 0;
  }
  return { pooled, similar };
}

/** Number of sorted probabilities kept: those whose running sum is ≤ `threshold`, at least 1. */
export function cdfCount(sortedDescending: ArrayLike<number>, threshold: number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < sortedDescending.length; i++) {
    sum += sortedDescending[i];
    if (sum > threshold) break;
    count++;
  }
  return Math.max(1, count);
}

/** SpargeAttn's block prediction of one head in float64 (see module doc). */
export function spargeRoutingReference(
  tensors: Pick<HeadTensors, "q" | "k">,
  options: SpargeRoutingOptions,
): SpargeSelection {
  const { headDim: d, blockQ, blockK, simThreshold, cdfThreshold } = options;
  const tokens = tensors.q.length / d;
  const keys = options.smoothK ? centred(tensors.k, tokens, d) : tensors.k;
  const q = poolBlocks(tensors.q, { tokens, headDim: d, block: blockQ, simThreshold });
  const k = poolBlocks(keys, { tokens, headDim: d, block: blockK, simThreshold });
  const queryBlocks = q.similar.length;
  const keyBlocks = k.similar.length;
  const kept = new Uint8Array(queryBlocks * keyBlocks);
  const scale = 1 / Math.sqrt(d);
  const candidates: number[] = [];
  for (let j = 0; j < keyBlocks; j++) if (k.similar[j]) candidates.push(j);
  const probs = new Float64Array(keyBlocks);
  for (let i = 0; i < queryBlocks; i++) {
    const row = kept.subarray(i * keyBlocks, (i + 1) * keyBlocks);
    for (let j = 0; j < keyBlocks; j++) if (!k.similar[j] || !q.similar[i]) row[j] = 1;
    if (!q.similar[i] || candidates.length === 0) continue;
    let max = -Infinity;
    for (const j of candidates) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q.pooled[i * d + c] * k.pooled[j * d + c];
      probs[j] = dot * scale;
      max = Math.max(max, probs[j]);
    }
    let sum = 0;
    for (const j of candidates) sum += probs[j] = Math.exp(probs[j] - max);
    for (const j of candidates) probs[j] /= sum;
    const order = [...candidates].sort((a, b) => probs[b] - probs[a] || a - b);
    const count = cdfCount(order.map((j) => probs[j]), cdfThreshold);
    for (let n = 0; n < count; n++) row[order[n]] = 1;
  }
  return {
    queryBlocks,
    keyBlocks,
    kept,
    queryBlockSimilar: q.similar,
    keyBlockSimilar: k.similar,
  };
}

/** `x` [tokens × d] minus its mean row. */
function centred(x: ArrayLike<number>, tokens: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < d; c++) mean[c] += x[t * d + c] / tokens;
  const out = new Float64Array(tokens * d);
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < d; c++) out[t * d + c] = x[t * d + c] - mean[c];
  }
  return out;
}

/**
 * WGSL of SpargeAttn's block prediction (docs/methods.md, "SpargeAttn"), three kernels:
 *
 * - `column mean`: the mean row of K over the sequence (the centre of `smoothK`), from the block
 *   means of a first, uncentred pooling weighted by block length (one workgroup);
 * - `block pool`: per block of Q or K, the mean of its (centred) tokens and whether the mean
 *   cosine similarity over all pairs of its tokens, |Σ x/|x||² / n², exceeds the threshold;
 * - `block select`: per query block, the softmax of pooled scores over the self-similar key
 *   blocks, sorted (bitonic, in workgroup memory) and kept while the running sum stays within the
 *   CDF threshold (at least one); non-similar key blocks, and every block of a non-similar query
 *   block, are kept.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Threads per workgroup of every kernel. */
export const SPARGE_WORKGROUP = 256;

/**
 * Workgroup memory of `block select` sorting `sortSize` key blocks at head dim `headDim`: the
 * probabilities and block numbers (8 bytes a block), the query mean, the reduction partials.
 */
export function blockSelectBytes(sortSize: number, headDim: number): number {
  return 8 * sortSize + 4 * headDim + 4 * SPARGE_WORKGROUP + 4;
}

/** Group 0 of `column mean`: block means, the mean row, params. */
export const COLUMN_MEAN_BINDINGS = [
  { name: "blockMeans", kind: "read", type: "array<f32>" },
  { name: "centre", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 of `block pool`: tokens, the centre subtracted, pooled means, flags, params. */
export const BLOCK_POOL_BINDINGS = [
  { name: "x", kind: "read", type: "array<Stored>" },
  { name: "centre", kind: "read", type: "array<f32>" },
  { name: "pooled", kind: "read_write", type: "array<f32>" },
  { name: "similar", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 of `block select`: pooled Q and K, their flags, the kept block pairs, params. */
export const BLOCK_SELECT_BINDINGS = [
  { name: "pooledQ", kind: "read", type: "array<f32>" },
  { name: "similarQ", kind: "read", type: "array<u32>" },
  { name: "pooledK", kind: "read", type: "array<f32>" },
  { name: "similarK", kind: "read", type: "array<u32>" },
  { name: "kept", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/**
 * Params of every kernel (u32 words; `threshold` is f32 bits): tokens, block, blocks, threshold
 * (similarity or CDF), keyBlocks.
 */
const PARAMS = `struct Params {
  tokens: u32,
  block: u32,
  blocks: u32,
  threshold: f32,
  keyBlocks: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}`;

const WG = SPARGE_WORKGROUP;

/** `column mean` over `params.blocks` block means of `headDim` values. */
export function columnMeanWgsl(config: { headDim: number }): string {
  const { headDim } = config;
  const parts = Math.max(1, Math.floor(WG / headDim));
  return /* wgsl */ `
const D: u32 = ${headDim}u;
const PARTS: u32 = ${parts}u; // block strides summed side by side per column
${PARAMS}
${bindingsWgsl(COLUMN_MEAN_BINDINGS)}
var<workgroup> partial: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let part = lid / D;
  var sum = 0.0;
  if (part < PARTS) {
    for (var b = part; b < params.blocks; b += PARTS) {
      let length = min(params.tokens, (b + 1u) * params.block) - b * params.block;
      sum += blockMeans[b * D + lid % D] * f32(length);
    }
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var j = lid; j < D; j += ${WG}u) {
    var total = 0.0;
    for (var p = 0u; p < PARTS; p++) {
      total += partial[p * D + j];
    }
    centre[j] = total / f32(params.tokens);
  }
}
`;
}

/** `block pool` for rows of `headDim` values stored in `precision`. */
export function blockPoolWgsl(config: { headDim: number; precision: "f32" | "f16" }): string {
  const { headDim, precision } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D: u32 = ${headDim}u;
${PARAMS}
${bindingsWgsl(BLOCK_POOL_BINDINGS)}
var<workgroup> inverseNorm: array<f32, ${WG}>; // of the tokens of one chunk of the block
var<workgroup> partial: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x;
  let first = b * params.block;
  let n = min(params.tokens, first + params.block) - first;
  var poolSum = array<f32, ${Math.ceil(headDim / WG)}>();
  var unitSum = array<f32, ${Math.ceil(headDim / WG)}>();
  for (var c0 = 0u; c0 < n; c0 += ${WG}u) {
    // One thread a token: 1/|x − centre| (0 for a zero row).
    let t = c0 + lid;
    var inv = 0.0;
    if (t < n) {
      var norm = 0.0;
      for (var j = 0u; j < D; j++) {
        let value = f32(x[(first + t) * D + j]) - centre[j];
        norm += value * value;
      }
      inv = select(0.0, inverseSqrt(norm), norm > 0.0);
    }
    inverseNorm[lid] = inv;
    workgroupBarrier();
    // One thread a column: sums of the tokens and of their unit vectors.
    for (var j = lid; j < D; j += ${WG}u) {
      for (var u = 0u; u < min(${WG}u, n - c0); u++) {
        let value = f32(x[(first + c0 + u) * D + j]) - centre[j];
        poolSum[j / ${WG}u] += value;
        unitSum[j / ${WG}u] += value * inverseNorm[u];
      }
    }
    workgroupBarrier();
  }
  var gram = 0.0;
  for (var j = lid; j < D; j += ${WG}u) {
    pooled[b * D + j] = poolSum[j / ${WG}u] / f32(n);
    gram += unitSum[j / ${WG}u] * unitSum[j / ${WG}u];
  }
  partial[lid] = gram;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var i = 0u; i < ${WG}u; i++) {
      total += partial[i];
    }
    similar[b] = select(0u, 1u, total / f32(n * n) > params.threshold);
  }
}
`;
}

/** `block select` for pooled rows of `headDim` values, sorting `sortSize` (a power of 2) blocks. */
export function blockSelectWgsl(config: { headDim: number; sortSize: number }): string {
  const { headDim, sortSize } = config;
  return /* wgsl */ `
const D: u32 = ${headDim}u;
const SORT: u32 = ${sortSize}u;   // key blocks padded to a power of two
const EMPTY: f32 = -1.0e30;
${PARAMS}
${bindingsWgsl(BLOCK_SELECT_BINDINGS)}
var<workgroup> queryMean: array<f32, ${headDim}>;
var<workgroup> prob: array<f32, ${sortSize}>;
var<workgroup> order: array<u32, ${sortSize}>;
var<workgroup> partial: array<f32, ${WG}>;
var<workgroup> keepCount: u32;

// Whether entry a sorts before entry b: larger probability first, then smaller block index.
fn before(pa: f32, ia: u32, pb: f32, ib: u32) -> bool {
  return pa > pb || (pa == pb && ia < ib);
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  let nk = params.keyBlocks;
  let scale = inverseSqrt(f32(D));
  for (var j = lid; j < D; j += ${WG}u) {
    queryMean[j] = pooledQ[i * D + j];
  }
  workgroupBarrier();
  // Pooled scores of the self-similar key blocks, and their maximum.
  var localMax = EMPTY;
  for (var kb = lid; kb < SORT; kb += ${WG}u) {
    var s = EMPTY;
    if (kb < nk && similarK[kb] == 1u) {
      var dot = 0.0;
      for (var j = 0u; j < D; j++) {
        dot += queryMean[j] * pooledK[kb * D + j];
      }
      s = dot * scale;
    }
    prob[kb] = s;
    order[kb] = kb;
    localMax = max(localMax, s);
  }
  partial[lid] = localMax;
  workgroupBarrier();
  var top = EMPTY;
  for (var t = 0u; t < ${WG}u; t++) {
    top = max(top, partial[t]);
  }
  workgroupBarrier();
  var localSum = 0.0;
  for (var kb = lid; kb < SORT; kb += ${WG}u) {
    let e = select(0.0, exp(prob[kb] - top), prob[kb] > EMPTY);
    prob[kb] = e;
    localSum += e;
  }
  partial[lid] = localSum;
  workgroupBarrier();
  var total = 0.0;
  for (var t = 0u; t < ${WG}u; t++) {
    total += partial[t];
  }
  for (var kb = lid; kb < SORT; kb += ${WG}u) {
    // Padding and non-similar blocks sort last (−1 is below every probability).
    prob[kb] = select(-1.0, prob[kb] / total, kb < nk && similarK[kb] == 1u);
  }
  // Bitonic sort of (prob, order), larger probability first.
  for (var size = 2u; size <= SORT; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      workgroupBarrier();
      for (var a = lid; a < SORT; a += ${WG}u) {
        let b = a ^ stride;
        if (b > a) {
          let descending = (a & size) == 0u;
          let swap = select(
            before(prob[a], order[a], prob[b], order[b]),
            before(prob[b], order[b], prob[a], order[a]),
            descending,
          );
          if (swap) {
            let p = prob[a];
            prob[a] = prob[b];
            prob[b] = p;
            let o = order[a];
            order[a] = order[b];
            order[b] = o;
          }
        }
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    var sum = 0.0;
    var count = 0u;
    for (var r = 0u; r < nk; r++) {
      if (prob[r] < 0.0) {
        break;
      }
      sum += prob[r];
      if (sum > params.threshold) {
        break;
      }
      count++;
    }
    keepCount = max(1u, count);
  }
  workgroupBarrier();
  let allKept = similarQ[i] == 0u;
  for (var kb = lid; kb < nk; kb += ${WG}u) {
    kept[i * nk + kb] = select(0u, 1u, allKept || similarK[kb] == 0u);
  }
  storageBarrier();
  workgroupBarrier();
  for (var r = lid; r < keepCount; r += ${WG}u) {
    if (prob[r] >= 0.0) {
      kept[i * nk + order[r]] = 1u;
    }
  }
}
`;
}

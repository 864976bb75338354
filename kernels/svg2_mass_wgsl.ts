/**
 * WGSL of Sparse-VideoGen 2's routing kernels that MoGA's do not cover (rules:
 * kernels/svg2_clusters.ts), every head of a batch in one dispatch: the cluster masses and
 * their top-p choice in three passes (scores, row max and total, rank and keep). The k-means
 * kernels are shared: kernels/svg2_routing.ts lists them.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Threads per workgroup of the mass kernels (one pair or row each). */
export const SVG2_WORKGROUP = 64;

/** Group 0 of the score kernel: query and key centroids, scores, params. */
export const CLUSTER_SCORE_BINDINGS = [
  { name: "queryCentroids", kind: "read", type: "array<vec4<f32>>" },
  { name: "keyCentroids", kind: "read", type: "array<vec4<f32>>" },
  { name: "scores", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "MassParams" },
] as const satisfies readonly Binding[];

/** Group 0 of the row kernel: scores, key cluster sizes, row max and total, params. */
export const CLUSTER_ROW_BINDINGS = [
  { name: "scores", kind: "read", type: "array<f32>" },
  { name: "keySizes", kind: "read", type: "array<u32>" },
  { name: "rowMax", kind: "read_write", type: "array<f32>" },
  { name: "rowTotal", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "MassParams" },
] as const satisfies readonly Binding[];

/** Group 0 of the keep kernel: scores, key cluster sizes, row max and total, kept, params. */
export const CLUSTER_KEEP_BINDINGS = [
  { name: "scores", kind: "read", type: "array<f32>" },
  { name: "keySizes", kind: "read", type: "array<u32>" },
  { name: "rowMax", kind: "read", type: "array<f32>" },
  { name: "rowTotal", kind: "read", type: "array<f32>" },
  { name: "kept", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "MassParams" },
] as const satisfies readonly Binding[];

const MASS_PARAMS = `struct MassParams {
  queryClusters: u32,
  keyClusters: u32,
  _pad2: u32,
  minKept: u32,
  topP: f32,
  scale: f32,
  _pad0: u32,
  _pad1: u32,
}`;

/**
 * Pass 1: scores[i][j] = c_i·k_j·scale, one thread a (Q cluster, K cluster) pair; grid
 * (⌈pairs / 64⌉, heads).
 */
export function clusterScoresWgsl(headDim: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;
${MASS_PARAMS}

${bindingsWgsl(CLUSTER_SCORE_BINDINGS)}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x;
  let head = gid.y;
  let pairs = params.queryClusters * params.keyClusters;
  if (pair >= pairs) {
    return;
  }
  let i = head * params.queryClusters + pair / params.keyClusters;
  let j = head * params.keyClusters + pair % params.keyClusters;
  var score = 0.0;
  for (var x = 0u; x < D4; x++) {
    score += dot(queryCentroids[i * D4 + x], keyCentroids[j * D4 + x]);
  }
  scores[head * pairs + pair] = score * params.scale;
}
`;
}

/**
 * Pass 2: each Q cluster's largest score and Σ_j s_j·exp(score − max), one thread a row; grid
 * (⌈C_q / 64⌉, heads).
 */
export function clusterRowsWgsl(): string {
  return /* wgsl */ `
${MASS_PARAMS}

${bindingsWgsl(CLUSTER_ROW_BINDINGS)}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.queryClusters) {
    return;
  }
  let i = gid.y * params.queryClusters + gid.x;
  let sizes = gid.y * params.keyClusters;
  let row = i * params.keyClusters;
  var largest = scores[row];
  for (var j = 1u; j < params.keyClusters; j++) {
    largest = select(largest, scores[row + j], scores[row + j] > largest);
  }
  var total = 0.0;
  for (var j = 0u; j < params.keyClusters; j++) {
    total += f32(keySizes[sizes + j]) * exp(scores[row + j] - largest);
  }
  rowMax[i] = largest;
  rowTotal[i] = total;
}
`;
}

/**
 * Pass 3: the rank of pair (i, j) among row i's masses (descending, ties to the lower cluster)
 * and the mass ranked before it; kept when rank 0, that mass ≤ topP, or rank < minKept; grid
 * (⌈pairs / 64⌉, heads).
 */
export function clusterKeepWgsl(): string {
  return /* wgsl */ `
${MASS_PARAMS}

${bindingsWgsl(CLUSTER_KEEP_BINDINGS)}

fn mass(sizes: u32, row: u32, i: u32, j: u32) -> f32 {
  let size = f32(keySizes[sizes + j]);
  return size * exp(scores[row + j] - rowMax[i]) / rowTotal[i];
}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x;
  if (pair >= params.queryClusters * params.keyClusters) {
    return;
  }
  let i = gid.y * params.queryClusters + pair / params.keyClusters;
  let j = pair % params.keyClusters;
  let sizes = gid.y * params.keyClusters;
  let row = i * params.keyClusters;
  let own = mass(sizes, row, i, j);
  var rank = 0u;
  var before = 0.0;
  for (var other = 0u; other < params.keyClusters; other++) {
    let m = mass(sizes, row, i, other);
    if (m > own || (m == own && other < j)) {
      rank++;
      before += m;
    }
  }
  kept[row + j] = select(0u, 1u, rank == 0u || before <= params.topP || rank < params.minKept);
}
`;
}

/**
 * WGSL of Sparse-VideoGen 2's routing kernels that MoGA's do not cover (rules:
 * kernels/svg2_clusters.ts): the Euclidean assignment, the mean centroid move (after MoGA's
 * partial sums over the cluster-sorted order, kernels/kmeans_update_wgsl.ts), and the cluster
 * masses with their top-p choice in three passes (scores, row max and total, rank and keep).
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { KMEANS_SPLITS, KMEANS_WORKGROUP } from "./kmeans_update_wgsl.ts";

/** Threads per workgroup of the assignment and mass kernels (one token or pair each). */
export const SVG2_WORKGROUP = 64;

/** Group 0 of the assignment kernel: rows, centroids, assignment, params. */
export const EUCLID_ASSIGN_BINDINGS = [
  { name: "rows", kind: "read", type: "array<vec4<Stored>>" },
  { name: "centroids", kind: "read", type: "array<vec4<f32>>" },
  { name: "assignment", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 of the mean kernel: partials, offsets, centroids, params (MoGA's normalize layout). */
export const KMEANS_MEAN_BINDINGS = [
  { name: "partials", kind: "read", type: "array<f32>" },
  { name: "offsets", kind: "read", type: "array<u32>" },
  { name: "centroids", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 of the score kernel: query and key centroids, scores, params. */
export const CLUSTER_SCORE_BINDINGS = [
  { name: "queryCentroids", kind: "read", type: "array<vec4<f32>>" },
  { name: "keyCentroids", kind: "read", type: "array<vec4<f32>>" },
  { name: "scores", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "MassParams" },
] as const satisfies readonly Binding[];

/** Group 0 of the row kernel: scores, key offsets, row max and total, params. */
export const CLUSTER_ROW_BINDINGS = [
  { name: "scores", kind: "read", type: "array<f32>" },
  { name: "keyOffsets", kind: "read", type: "array<u32>" },
  { name: "rowMax", kind: "read_write", type: "array<f32>" },
  { name: "rowTotal", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "MassParams" },
] as const satisfies readonly Binding[];

/** Group 0 of the keep kernel: scores, key offsets, row max and total, kept, params. */
export const CLUSTER_KEEP_BINDINGS = [
  { name: "scores", kind: "read", type: "array<f32>" },
  { name: "keyOffsets", kind: "read", type: "array<u32>" },
  { name: "rowMax", kind: "read", type: "array<f32>" },
  { name: "rowTotal", kind: "read", type: "array<f32>" },
  { name: "kept", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "MassParams" },
] as const satisfies readonly Binding[];

/** Assignment: each routed row to the centroid of least ‖c‖² − 2·x·c (ties to the lower one). */
export function euclidAssignWgsl(
  config: { headDim: number; precision: "f32" | "f16"; clusters: number },
): string {
  const { headDim, precision, clusters } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${headDim / 4}u;
const CLUSTERS: u32 = ${clusters}u;

struct Params { count: u32, rowOffset: u32, dispatchWidth: u32, _pad: u32 }

${bindingsWgsl(EUCLID_ASSIGN_BINDINGS)}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let token = gid.x + gid.y * params.dispatchWidth * ${SVG2_WORKGROUP}u;
  if (token >= params.count) {
    return;
  }
  let base = (params.rowOffset + token) * D4;
  var row: array<vec4<f32>, D4>;
  for (var j = 0u; j < D4; j++) {
    row[j] = vec4<f32>(rows[base + j]);
  }
  var best = 0u;
  var bestDistance = 0.0;
  for (var c = 0u; c < CLUSTERS; c++) {
    var distance = 0.0;
    for (var j = 0u; j < D4; j++) {
      let centroid = centroids[c * D4 + j];
      distance += dot(centroid, centroid) - 2.0 * dot(centroid, row[j]);
    }
    if (c == 0u || distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  assignment[token] = best;
}
`;
}

/** Mean move: centroid = Σ parts / tokens of the cluster; an empty cluster keeps its centroid. */
export function kmeansMeanWgsl(headDim: number): string {
  return /* wgsl */ `
const D: u32 = ${headDim}u;
const SPLITS: u32 = ${KMEANS_SPLITS}u;

struct Params { rowOffset: u32, keepEmpty: u32, _pad0: u32, _pad1: u32 }

${bindingsWgsl(KMEANS_MEAN_BINDINGS)}

@compute @workgroup_size(${KMEANS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let cluster = wid.x;
  let size = offsets[cluster + 1u] - offsets[cluster];
  if (size == 0u) {
    return;
  }
  for (var j = lid.x; j < D; j += ${KMEANS_WORKGROUP}u) {
    var sum = 0.0;
    for (var part = 0u; part < SPLITS; part++) {
      sum += partials[(cluster * SPLITS + part) * D + j];
    }
    centroids[cluster * D + j] = sum / f32(size);
  }
}
`;
}

const MASS_PARAMS = `struct MassParams {
  queryClusters: u32,
  keyClusters: u32,
  dispatchWidth: u32,
  minKept: u32,
  topP: f32,
  scale: f32,
  _pad0: u32,
  _pad1: u32,
}`;

/** Pass 1: scores[i][j] = c_i·k_j·scale, one thread a (Q cluster, K cluster) pair. */
export function clusterScoresWgsl(headDim: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;
${MASS_PARAMS}

${bindingsWgsl(CLUSTER_SCORE_BINDINGS)}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x + gid.y * params.dispatchWidth * ${SVG2_WORKGROUP}u;
  if (pair >= params.queryClusters * params.keyClusters) {
    return;
  }
  let i = pair / params.keyClusters;
  let j = pair % params.keyClusters;
  var score = 0.0;
  for (var x = 0u; x < D4; x++) {
    score += dot(queryCentroids[i * D4 + x], keyCentroids[j * D4 + x]);
  }
  scores[pair] = score * params.scale;
}
`;
}

/** Pass 2: each Q cluster's largest score and Σ_j s_j·exp(score − max), one thread a row. */
export function clusterRowsWgsl(): string {
  return /* wgsl */ `
${MASS_PARAMS}

${bindingsWgsl(CLUSTER_ROW_BINDINGS)}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params.queryClusters) {
    return;
  }
  let row = i * params.keyClusters;
  var largest = scores[row];
  for (var j = 1u; j < params.keyClusters; j++) {
    largest = select(largest, scores[row + j], scores[row + j] > largest);
  }
  var total = 0.0;
  for (var j = 0u; j < params.keyClusters; j++) {
    total += f32(keyOffsets[j + 1u] - keyOffsets[j]) * exp(scores[row + j] - largest);
  }
  rowMax[i] = largest;
  rowTotal[i] = total;
}
`;
}

/**
 * Pass 3: the rank of pair (i, j) among row i's masses (descending, ties to the lower cluster)
 * and the mass ranked before it; kept when rank 0, that mass ≤ topP, or rank < minKept.
 */
export function clusterKeepWgsl(): string {
  return /* wgsl */ `
${MASS_PARAMS}

${bindingsWgsl(CLUSTER_KEEP_BINDINGS)}

fn mass(row: u32, i: u32, j: u32) -> f32 {
  let size = f32(keyOffsets[j + 1u] - keyOffsets[j]);
  return size * exp(scores[row + j] - rowMax[i]) / rowTotal[i];
}

@compute @workgroup_size(${SVG2_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x + gid.y * params.dispatchWidth * ${SVG2_WORKGROUP}u;
  if (pair >= params.queryClusters * params.keyClusters) {
    return;
  }
  let i = pair / params.keyClusters;
  let j = pair % params.keyClusters;
  let row = i * params.keyClusters;
  let own = mass(row, i, j);
  var rank = 0u;
  var before = 0.0;
  for (var other = 0u; other < params.keyClusters; other++) {
    let m = mass(row, i, other);
    if (m > own || (m == own && other < j)) {
      rank++;
      before += m;
    }
  }
  kept[pair] = select(0u, 1u, rank == 0u || before <= params.topP || rank < params.minKept);
}
`;
}

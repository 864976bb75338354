/**
 * WGSL of the centroid update of MoGA's default router, spherical k-means on the keys, in two
 * kernels over the group-sorted order (so every sum runs in the original token order inside a
 * group, as the CPU reference's does):
 * 1. partial sums: each group's segment is cut into {@link KMEANS_SPLITS} equal parts, one
 *    workgroup per (part, group) sums its part's keys (threads stride over the head dimension);
 * 2. normalise: one workgroup per group adds the parts in order and writes the sum scaled to unit
 *    length. A group with no token, or a zero sum, keeps its previous row (`keepEmpty` = 1) or
 *    gets a zero row (`keepEmpty` = 0: the initialisation, which runs the same kernels over one
 *    seed token a group).
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Threads per workgroup of both kernels (a power of two: the norm is a tree reduction). */
export const KMEANS_WORKGROUP = 64;

/** Parts a group's segment is summed in (workgroups per group of the partial-sum kernel). */
export const KMEANS_SPLITS = 64;

/** Group 0 layout of the partial-sum kernel: keys, members, offsets, partials, params. */
export const KMEANS_PARTIAL_BINDINGS = [
  { name: "keys", kind: "read", type: "array<Stored>" },
  { name: "members", kind: "read", type: "array<u32>" },
  { name: "offsets", kind: "read", type: "array<u32>" },
  { name: "partials", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 layout of the normalise kernel: partials, offsets, router, params. */
export const KMEANS_NORMALIZE_BINDINGS = [
  { name: "partials", kind: "read", type: "array<f32>" },
  { name: "offsets", kind: "read", type: "array<u32>" },
  { name: "router", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Kernel 1: partials[group][part][j], keys of `headDim` columns stored in `precision`. */
export function kmeansPartialSumsWgsl(
  config: { headDim: number; precision: "f32" | "f16" },
): string {
  const { headDim, precision } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D: u32 = ${headDim}u;
const SPLITS: u32 = ${KMEANS_SPLITS}u;

struct Params { rowOffset: u32, keepEmpty: u32, _pad0: u32, _pad1: u32 }

${bindingsWgsl(KMEANS_PARTIAL_BINDINGS)}

@compute @workgroup_size(${KMEANS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let part = wid.x;
  let group = wid.y;
  let start = offsets[group];
  let length = offsets[group + 1u] - start;
  let first = start + (length * part) / SPLITS;
  let last = start + (length * (part + 1u)) / SPLITS;
  for (var j = lid.x; j < D; j += ${KMEANS_WORKGROUP}u) {
    var sum = 0.0;
    for (var p = first; p < last; p++) {
      sum += f32(keys[(params.rowOffset + members[p]) * D + j]);
    }
    partials[(group * SPLITS + part) * D + j] = sum;
  }
}
`;
}

/** Kernel 2: router[group] = Σ parts / |Σ parts|, for `headDim` columns. */
export function kmeansNormalizeWgsl(headDim: number): string {
  const perThread = Math.ceil(headDim / KMEANS_WORKGROUP);
  return /* wgsl */ `
const D: u32 = ${headDim}u;
const SPLITS: u32 = ${KMEANS_SPLITS}u;
const THREADS: u32 = ${KMEANS_WORKGROUP}u;
const PER_THREAD: u32 = ${perThread}u;

struct Params { rowOffset: u32, keepEmpty: u32, _pad0: u32, _pad1: u32 }

${bindingsWgsl(KMEANS_NORMALIZE_BINDINGS)}

var<workgroup> squares: array<f32, THREADS>;

@compute @workgroup_size(${KMEANS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  var sums: array<f32, PER_THREAD>;
  var square = 0.0;
  for (var m = 0u; m < PER_THREAD; m++) {
    let j = lid.x + m * THREADS;
    if (j < D) {
      var sum = 0.0;
      for (var part = 0u; part < SPLITS; part++) {
        sum += partials[(group * SPLITS + part) * D + j];
      }
      sums[m] = sum;
      square += sum * sum;
    }
  }
  squares[lid.x] = square;
  workgroupBarrier();
  for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
    if (lid.x < stride) {
      squares[lid.x] += squares[lid.x + stride];
    }
    workgroupBarrier();
  }
  let norm2 = squares[0];
  let empty = offsets[group + 1u] == offsets[group] || norm2 == 0.0;
  if (empty && params.keepEmpty == 1u) {
    return;
  }
  let norm = sqrt(norm2);
  for (var m = 0u; m < PER_THREAD; m++) {
    let j = lid.x + m * THREADS;
    if (j < D) {
      router[group * D + j] = select(sums[m] / norm, 0.0, empty);
    }
  }
}
`;
}

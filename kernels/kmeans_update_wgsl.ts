/**
 * WGSL of the centroid update of MoGA's default router, spherical k-means on the keys: one
 * workgroup per group sums the keys of its segment of the group-sorted order (so the sum runs in
 * the original token order, as the CPU reference's does) and writes the sum scaled to unit
 * length. A group with no token, or a zero sum, keeps its previous row (`keepEmpty` = 1) or gets
 * a zero row (`keepEmpty` = 0, the initialisation, which runs the same kernel over one seed token
 * a group).
 *
 * @module
 */
import type { BindingKind } from "../gpu/runtime.ts";

/** Threads per workgroup (a power of two: the norm is a tree reduction). */
export const KMEANS_UPDATE_WORKGROUP = 64;

/** Group 0 layout: keys, members, offsets, router, params. */
export const KMEANS_UPDATE_BINDINGS = [
  "read",
  "read",
  "read",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** The update kernel for keys of `headDim` columns stored in `precision`. */
export function kmeansUpdateWgsl(config: { headDim: number; precision: "f32" | "f16" }): string {
  const { headDim, precision } = config;
  const perThread = Math.ceil(headDim / KMEANS_UPDATE_WORKGROUP);
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
const D: u32 = ${headDim}u;
const THREADS: u32 = ${KMEANS_UPDATE_WORKGROUP}u;
const PER_THREAD: u32 = ${perThread}u;

struct Params { rowOffset: u32, keepEmpty: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<storage, read> keys: array<${precision}>;
@group(0) @binding(1) var<storage, read> members: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> router: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial: array<f32, THREADS>;

@compute @workgroup_size(${KMEANS_UPDATE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  let start = offsets[group];
  let end = offsets[group + 1u];
  var sums: array<f32, PER_THREAD>;
  var squares = 0.0;
  for (var m = 0u; m < PER_THREAD; m++) {
    let j = lid.x + m * THREADS;
    if (j < D) {
      var sum = 0.0;
      for (var p = start; p < end; p++) {
        sum += f32(keys[(params.rowOffset + members[p]) * D + j]);
      }
      sums[m] = sum;
      squares += sum * sum;
    }
  }
  partial[lid.x] = squares;
  workgroupBarrier();
  for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
    if (lid.x < stride) {
      partial[lid.x] += partial[lid.x + stride];
    }
    workgroupBarrier();
  }
  let norm2 = partial[0];
  let empty = end == start || norm2 == 0.0;
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

/**
 * WGSL of the two permutation kernels that bracket a permuted layout (STA's tile-major order,
 * MoGA's group-sorted order): gather rows of Q/K/V into the permuted order, then scatter output
 * rows and log-sum-exps back to the original order, applying an optional per-token output scale
 * (MoGA's gate).
 *
 * @module
 */

import type { BindingKind } from "../gpu/runtime.ts";

/** Group 0 of the gather kernel: permutation, q, k, v sources, q, k, v destinations, params. */
export const GATHER_BINDINGS = [
  "read",
  "read",
  "read",
  "read",
  "read_write",
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Group 0 of the scatter kernel: permutation, out/lse permuted, scale, out, lse, params. */
export const SCATTER_BINDINGS = [
  "read",
  "read",
  "read",
  "read",
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Threads per workgroup of both kernels. */
export const PERMUTE_WORKGROUP = 256;

/** Gathers `dst[p] = src[permutation[p]]` for three tensors of `headDim` columns. */
export function gatherRowsWgsl(headDim: number, precision: "f32" | "f16"): string {
  const vec = precision === "f16" ? "vec4<f16>" : "vec4<f32>";
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
const D4: u32 = ${headDim / 4}u;

struct Params { tokens: u32, dispatchWidth: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> permutation: array<u32>;
@group(0) @binding(1) var<storage, read> qSrc: array<${vec}>;
@group(0) @binding(2) var<storage, read> kSrc: array<${vec}>;
@group(0) @binding(3) var<storage, read> vSrc: array<${vec}>;
@group(0) @binding(4) var<storage, read_write> qDst: array<${vec}>;
@group(0) @binding(5) var<storage, read_write> kDst: array<${vec}>;
@group(0) @binding(6) var<storage, read_write> vDst: array<${vec}>;
@group(0) @binding(7) var<uniform> params: Params;

@compute @workgroup_size(${PERMUTE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.x + gid.y * params.dispatchWidth * ${PERMUTE_WORKGROUP}u;
  if (index >= params.tokens * D4) {
    return;
  }
  let p = index / D4;
  let src = permutation[p] * D4 + index % D4;
  qDst[index] = qSrc[src];
  kDst[index] = kSrc[src];
  vDst[index] = vSrc[src];
}
`;
}

/** Scatters `out[permutation[p]] = outPermuted[p] · scale[permutation[p]]`, and the LSEs. */
export function scatterRowsWgsl(headDim: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;

struct Params { tokens: u32, dispatchWidth: u32, scaled: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> permutation: array<u32>;
@group(0) @binding(1) var<storage, read> outPermuted: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> lsePermuted: array<f32>;
@group(0) @binding(3) var<storage, read> outputScale: array<f32>;
@group(0) @binding(4) var<storage, read_write> outRows: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(${PERMUTE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.x + gid.y * params.dispatchWidth * ${PERMUTE_WORKGROUP}u;
  if (index >= params.tokens * D4) {
    return;
  }
  let p = index / D4;
  let token = permutation[p];
  let scale = select(1.0, outputScale[token], params.scaled == 1u);
  outRows[token * D4 + index % D4] = outPermuted[index] * scale;
  if (index % D4 == 0u) {
    lse[token] = lsePermuted[p];
  }
}
`;
}

/**
 * WGSL of the merge of attention branches (MoGA as published averages three attention outputs):
 * one dispatch per branch adds `weight` × the branch's output rows into the case's outputs (the
 * first branch overwrites them) and keeps the largest branch log-sum-exp per row.
 *
 * @module
 */
import type { BindingKind } from "../gpu/runtime.ts";

/** Group 0: branch out, branch lse, out, lse, params. */
export const ACCUMULATE_OUTPUTS_BINDINGS = [
  "read",
  "read",
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Threads per workgroup (one vec4 of an output row each). */
export const ACCUMULATE_WORKGROUP = 256;

/** The accumulate kernel for rows of `headDim` (a multiple of 4) f32 values. */
export function accumulateOutputsWgsl(headDim: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;

struct Params { tokens: u32, dispatchWidth: u32, first: u32, weight: f32 }

@group(0) @binding(0) var<storage, read> branchOut: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> branchLse: array<f32>;
@group(0) @binding(2) var<storage, read_write> outRows: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(${ACCUMULATE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.x + gid.y * params.dispatchWidth * ${ACCUMULATE_WORKGROUP}u;
  if (index >= params.tokens * D4) {
    return;
  }
  let first = params.first == 1u;
  let previous = select(outRows[index], vec4<f32>(0.0), first);
  outRows[index] = previous + params.weight * branchOut[index];
  if (index % D4 == 0u) {
    let row = index / D4;
    lse[row] = select(max(lse[row], branchLse[row]), branchLse[row], first);
  }
}
`;
}

/**
 * WGSL of the merge of attention branches: one dispatch per branch adds `weight` × the branch's
 * output rows into the case's outputs (the first branch overwrites them). MoGA as published
 * averages three attention outputs and keeps the largest branch log-sum-exp per row (the default
 * variant); VSA adds its gated coarse branch, whose rows are those of a pooled sequence (a row map
 * gives each token its pooled row) and whose LSE is left out (the `pooled` variant, and `lse:
 * "keep"` for a gated branch over the L tokens). The `merge` variant combines branches by their
 * log-sum-exps instead (one thread a row): lse = log(e^lse + e^lse_b), out = e^(lse_old − lse)·out
 * + e^(lse_b − lse)·out_b, the exact softmax over the union of the branches' keys when no key is in
 * two branches for one query.
 *
 * @module
 */
import type { BindingKind } from "../gpu/runtime.ts";
import { EMPTY_SCORE_WGSL } from "./flash_attention_shared_wgsl.ts";

/** Group 0: branch out, branch lse, out, lse, params. */
export const ACCUMULATE_OUTPUTS_BINDINGS = [
  "read",
  "read",
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Group 0 of the pooled variant: those of {@link ACCUMULATE_OUTPUTS_BINDINGS}, then the row map. */
export const ACCUMULATE_POOLED_BINDINGS = [
  ...ACCUMULATE_OUTPUTS_BINDINGS,
  "read",
] as const satisfies readonly BindingKind[];

/** Threads per workgroup (one vec4 of an output row each). */
export const ACCUMULATE_WORKGROUP = 256;

/** Which accumulate kernel: how a branch's LSE is merged, and whether its rows are pooled. */
export interface AccumulateVariant {
  /**
   * `max`: keep the largest branch LSE (MoGA); `keep`: leave the case's LSE as it is; `merge`:
   * merge outputs and LSEs by log-sum-exp (the weight is not used).
   */
  lse: "max" | "keep" | "merge";
  /** The branch's rows are pooled rows, found through the row map (implies `lse: "keep"`). */
  pooled: boolean;
}

/** MoGA's variant: rows over the L tokens, largest LSE kept. */
export const MEAN_VARIANT: AccumulateVariant = { lse: "max", pooled: false };

/** A short name of `variant` for the pipeline cache. */
export function accumulateVariantName(variant: AccumulateVariant): string {
  return variant.pooled ? "pooled" : variant.lse;
}

/** Threads the variant needs for `tokens` rows of `headDim` values: a row, or a vec4, each. */
export function accumulateThreads(variant: AccumulateVariant, tokens: number, headDim: number) {
  return variant.lse === "merge" ? tokens : tokens * headDim / 4;
}

/** The accumulate kernel for rows of `headDim` (a multiple of 4) f32 values. */
export function accumulateOutputsWgsl(
  headDim: number,
  variant: AccumulateVariant = MEAN_VARIANT,
): string {
  if (variant.pooled) return pooledAccumulateWgsl(headDim);
  if (variant.lse === "merge") return lseMergeWgsl(headDim);
  const lseUpdate = variant.lse === "max"
    ? `
  if (index % D4 == 0u) {
    let row = index / D4;
    lse[row] = select(max(lse[row], branchLse[row]), branchLse[row], first);
  }`
    : `
  if (first && index % D4 == 0u) {
    lse[index / D4] = branchLse[index / D4];
  }`;
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
  outRows[index] = previous + params.weight * branchOut[index];${lseUpdate}
}
`;
}

/** The pooled variant: token row t adds `weight` × pooled row rowMap[t] (none for NO_ROW). */
function pooledAccumulateWgsl(headDim: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;
const NO_ROW: u32 = 0xffffffffu;

struct Params { tokens: u32, dispatchWidth: u32, first: u32, weight: f32 }

@group(0) @binding(0) var<storage, read> branchOut: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> branchLse: array<f32>;
@group(0) @binding(2) var<storage, read_write> outRows: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> rowMap: array<u32>;

@compute @workgroup_size(${ACCUMULATE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.x + gid.y * params.dispatchWidth * ${ACCUMULATE_WORKGROUP}u;
  if (index >= params.tokens * D4) {
    return;
  }
  let source = rowMap[index / D4];
  if (source == NO_ROW) {
    return;
  }
  outRows[index] += params.weight * branchOut[source * D4 + index % D4];
}
`;
}

/** The log-sum-exp merge: one thread a row (every value of the row is rescaled by the new LSE). */
function lseMergeWgsl(headDim: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;
${EMPTY_SCORE_WGSL}

struct Params { tokens: u32, dispatchWidth: u32, first: u32, weight: f32 }

@group(0) @binding(0) var<storage, read> branchOut: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> branchLse: array<f32>;
@group(0) @binding(2) var<storage, read_write> outRows: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(${ACCUMULATE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x + gid.y * params.dispatchWidth * ${ACCUMULATE_WORKGROUP}u;
  if (row >= params.tokens) {
    return;
  }
  let base = row * D4;
  if (params.first == 1u) {
    for (var i = 0u; i < D4; i++) {
      outRows[base + i] = branchOut[base + i];
    }
    lse[row] = branchLse[row];
    return;
  }
  let top = max(lse[row], branchLse[row]);
  if (top <= EMPTY) {
    return;
  }
  let kept = exp(lse[row] - top);
  let added = exp(branchLse[row] - top);
  let total = kept + added;
  for (var i = 0u; i < D4; i++) {
    outRows[base + i] = (kept * outRows[base + i] + added * branchOut[base + i]) / total;
  }
  lse[row] = top + log(total);
}
`;
}

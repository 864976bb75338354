/**
 * WGSL of the two permutation kernels that bracket a permuted layout (STA's tile-major order,
 * MoGA's group-sorted order): gather rows of Q/K/V into the permuted order, then scatter output
 * rows and log-sum-exps back to the original order, applying an optional per-token output scale
 * (MoGA's gate). A form whose keys run in an order of their own (SVG2's key clusters) gathers K and
 * V by the key permutation instead, and forms whose key order is the original one (MoC's choice
 * branches) gather Q alone: separate kernels, compiled only when the forms need them.
 *
 * @module
 */

import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Group 0 of the gather kernel: permutation, q, k, v sources, q, k, v destinations, params. */
export const GATHER_BINDINGS = [
  { name: "permutation", kind: "read", type: "array<u32>" },
  { name: "qSrc", kind: "read", type: "array<vec4<Stored>>" },
  { name: "kSrc", kind: "read", type: "array<vec4<Stored>>" },
  { name: "vSrc", kind: "read", type: "array<vec4<Stored>>" },
  { name: "qDst", kind: "read_write", type: "array<vec4<Stored>>" },
  { name: "kDst", kind: "read_write", type: "array<vec4<Stored>>" },
  { name: "vDst", kind: "read_write", type: "array<vec4<Stored>>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 of the gather kernel of a separate key order: {@link GATHER_BINDINGS} + keyPermutation. */
export const GATHER_KEYED_BINDINGS = [
  ...GATHER_BINDINGS,
  { name: "keyPermutation", kind: "read", type: "array<u32>" },
] as const satisfies readonly Binding[];

/**
 * Group 0 of the gather kernel of forms whose keys stay in the original order (an identity key
 * permutation, MoC's choice branches): queries only; K and V are read where they are.
 */
export const GATHER_QUERIES_BINDINGS = [
  { name: "permutation", kind: "read", type: "array<u32>" },
  { name: "qSrc", kind: "read", type: "array<vec4<Stored>>" },
  { name: "qDst", kind: "read_write", type: "array<vec4<Stored>>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/**
 * Where a gather takes K and V rows from: the query order (`permuted`), the form's key order
 * (`keyed`), or nowhere, since they stay in place (`in place`: only Q is gathered).
 */
export type GatherKeys = "permuted" | "keyed" | "in place";

/** The bindings of the gather kernel for `keys`. */
export function gatherBindings(keys: GatherKeys): readonly Binding[] {
  return keys === "keyed"
    ? GATHER_KEYED_BINDINGS
    : keys === "in place"
    ? GATHER_QUERIES_BINDINGS
    : GATHER_BINDINGS;
}

/** Group 0 of the scatter kernel: permutation, out/lse permuted, scale, out, lse, params. */
export const SCATTER_BINDINGS = [
  { name: "permutation", kind: "read", type: "array<u32>" },
  { name: "outPermuted", kind: "read", type: "array<vec4<f32>>" },
  { name: "lsePermuted", kind: "read", type: "array<f32>" },
  { name: "outputScale", kind: "read", type: "array<f32>" },
  { name: "outRows", kind: "read_write", type: "array<vec4<f32>>" },
  { name: "lse", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Threads per workgroup of both kernels. */
export const PERMUTE_WORKGROUP = 256;

/**
 * A permutation kernel: its bindings, then a main that runs `body` for every vec4 `index` of the
 * permuted rows below `params.tokens`, with `p` the permuted row it lies in. Both kernels take
 * the same params: tokens, dispatch width, scaled (1 when the scatter applies `outputScale`).
 */
function permuteKernelWgsl(headDim: number, bindings: readonly Binding[], body: string): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;

struct Params { tokens: u32, dispatchWidth: u32, scaled: u32, _p1: u32 }

${bindingsWgsl(bindings)}

@compute @workgroup_size(${PERMUTE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.x + gid.y * params.dispatchWidth * ${PERMUTE_WORKGROUP}u;
  if (index >= params.tokens * D4) {
    return;
  }
  let p = index / D4;
  ${body}
}
`;
}

/**
 * Gathers `dst[p] = src[permutation[p]]` for Q, K and V rows of `headDim` columns; K and V rows
 * come from `keyPermutation[p]` instead when `keys` is `keyed`, and are not gathered at all when it
 * is `in place` ({@link gatherBindings}).
 */
export function gatherRowsWgsl(
  headDim: number,
  precision: "f32" | "f16",
  keys: GatherKeys = "permuted",
): string {
  const keySource = keys === "keyed" ? "keyPermutation[p] * D4 + index % D4" : "src";
  const keyRows = keys === "in place" ? "" : `
  let keySrc = ${keySource};
  kDst[index] = kSrc[keySrc];
  vDst[index] = vSrc[keySrc];`;
  return `${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
${
    permuteKernelWgsl(
      headDim,
      gatherBindings(keys),
      `let src = permutation[p] * D4 + index % D4;
  qDst[index] = qSrc[src];${keyRows}`,
    )
  }`;
}

/** Scatters `out[permutation[p]] = outPermuted[p] · scale[permutation[p]]`, and the LSEs. */
export function scatterRowsWgsl(headDim: number): string {
  return permuteKernelWgsl(
    headDim,
    SCATTER_BINDINGS,
    `let token = permutation[p];
  let scale = select(1.0, outputScale[token], params.scaled == 1u);
  outRows[token * D4 + index % D4] = outPermuted[index] * scale;
  if (index % D4 == 0u) {
    lse[token] = lsePermuted[p];
  }`,
  );
}

/**
 * WGSL of row pooling (form/pooling.ts): one workgroup per group writes the mean of its member
 * rows of a [tokens, d] tensor — VSA's cube means of Q and K (routing, f32 out) and of Q, K and V
 * (the pooled coarse branch, stored precision out). Members are read from a CSR list, so groups
 * may gather any tokens (a cube of the frame-major video is not contiguous).
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Threads per workgroup (they stride over the head dimension). */
export const POOL_ROWS_WORKGROUP = 64;

/** Group 0 layout: rows, group offsets, members, pooled rows, params. */
export const POOL_ROWS_BINDINGS = [
  { name: "rows", kind: "read", type: "array<Stored>" },
  { name: "offsets", kind: "read", type: "array<u32>" },
  { name: "members", kind: "read", type: "array<u32>" },
  { name: "pooled", kind: "read_write", type: "array<Pooled>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** The pooling kernel: rows stored in `precision`, pooled rows written in `output`. */
export function poolRowsWgsl(
  config: { headDim: number; precision: "f32" | "f16"; output: "f32" | "f16" },
): string {
  const { headDim, precision, output } = config;
  const f16 = precision === "f16" || output === "f16";
  return /* wgsl */ `
${f16 ? "enable f16;" : ""}
alias Stored = ${precision};
alias Pooled = ${output};
const D: u32 = ${headDim}u;

struct Params { groups: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

${bindingsWgsl(POOL_ROWS_BINDINGS)}

@compute @workgroup_size(${POOL_ROWS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  if (group >= params.groups) {
    return;
  }
  let first = offsets[group];
  let count = offsets[group + 1u] - first;
  for (var j = lid.x; j < D; j += ${POOL_ROWS_WORKGROUP}u) {
    var sum = 0.0;
    for (var m = 0u; m < count; m++) {
      sum += f32(rows[members[first + m] * D + j]);
    }
    pooled[group * D + j] = Pooled(sum / f32(count));
  }
}
`;
}

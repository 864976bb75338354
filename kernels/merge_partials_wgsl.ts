/**
 * WGSL of the merge of split sub-tiles (split-KV, as in flash-decoding): a sub-tile whose key
 * ranges are far longer than the others (text rows that attend every token) is run as several
 * parts in parallel, each writing a normalised partial output and its log-sum-exp; this kernel
 * combines them per row: lse = log Σ exp(lse_p), out = Σ exp(lse_p − lse)·out_p.
 *
 * @module
 */
import type { BindingKind } from "../gpu/runtime.ts";

/** Group 0: partialRows, partialLse, merges, out, lse, params. */
export const MERGE_PARTIALS_BINDINGS = [
  "read",
  "read",
  "read",
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Words per merge record: rowStart, rowEnd, firstSlot, parts. */
export const MERGE_WORDS = 4;

/** The merge kernel for rows of `headDim` and sub-tiles of `blockQ` rows. */
export function mergePartialsWgsl(headDim: number, blockQ: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;
const BLOCK_Q: u32 = ${blockQ}u;
const EMPTY: f32 = -1.0e30;

struct Params { mergeCount: u32, dispatchWidth: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> partialRows: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> partialLse: array<f32>;
@group(0) @binding(2) var<storage, read> merges: array<vec4<u32>>; // rowStart, rowEnd, firstSlot, parts
@group(0) @binding(3) var<storage, read_write> outRows: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(${blockQ})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let mergeIndex = wid.x + wid.y * params.dispatchWidth;
  if (mergeIndex >= params.mergeCount) {
    return;
  }
  let merge = merges[mergeIndex];
  let row = merge.x + lid;
  if (row >= merge.y) {
    return;
  }
  var rowMax = EMPTY;
  for (var p = 0u; p < merge.w; p++) {
    rowMax = max(rowMax, partialLse[(merge.z + p) * BLOCK_Q + lid]);
  }
  var weightSum = 0.0;
  for (var p = 0u; p < merge.w; p++) {
    weightSum += select(0.0, exp(partialLse[(merge.z + p) * BLOCK_Q + lid] - rowMax), rowMax > EMPTY);
  }
  for (var i = 0u; i < D4; i++) {
    var sum = vec4<f32>(0.0);
    for (var p = 0u; p < merge.w; p++) {
      let part = (merge.z + p) * BLOCK_Q + lid;
      let weight = select(0.0, exp(partialLse[part] - rowMax), rowMax > EMPTY);
      sum += weight * partialRows[part * D4 + i];
    }
    outRows[row * D4 + i] = select(vec4<f32>(0.0), sum / weightSum, weightSum > 0.0);
  }
  lse[row] = select(EMPTY, rowMax + log(weightSum), weightSum > 0.0);
}
`;
}

/**
 * WGSL of the merge of split sub-tiles (split-KV, as in flash-decoding): a sub-tile whose key
 * ranges are far longer than the others (text rows that attend every token) is run as several
 * parts in parallel, each writing a normalised partial output and its log-sum-exp; this kernel
 * combines them per row: lse = log Σ exp(lse_p), out = Σ exp(lse_p − lse)·out_p.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { EMPTY_SCORE_WGSL, gridMainWgsl } from "./flash_attention_shared_wgsl.ts";

/** Words per merge record: rowStart, rowEnd, firstSlot, parts (one `vec4<u32>`). */
export const MERGE_WORDS = 4;

/** Group 0: the parts' outputs and LSEs, the merge records, the merged rows and LSEs, params. */
export const MERGE_PARTIALS_BINDINGS = [
  { name: "partialRows", kind: "read", type: "array<vec4<f32>>" },
  { name: "partialLse", kind: "read", type: "array<f32>" },
  // Merge records: rowStart, rowEnd, firstSlot, parts.
  { name: "merges", kind: "read", type: `array<vec${MERGE_WORDS}<u32>>` },
  { name: "outRows", kind: "read_write", type: "array<vec4<f32>>" },
  { name: "lse", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** The merge kernel for rows of `headDim` and sub-tiles of `blockQ` rows. */
export function mergePartialsWgsl(headDim: number, blockQ: number): string {
  return /* wgsl */ `
const D4: u32 = ${headDim / 4}u;
const BLOCK_Q: u32 = ${blockQ}u;
${EMPTY_SCORE_WGSL}

struct Params { mergeCount: u32, dispatchWidth: u32, _p0: u32, _p1: u32 }

${bindingsWgsl(MERGE_PARTIALS_BINDINGS)}

${
    gridMainWgsl(blockQ, {
      item: "merge",
      count: "mergeCount",
      record: "merge",
      records: "merges",
    })
  }
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

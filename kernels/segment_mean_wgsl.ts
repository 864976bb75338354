/**
 * WGSL of the mean of each segment of rows, one workgroup per (segment, head), every head in one
 * dispatch (kernels/head_bindings.ts), written in f32. Segment s of a head holds positions
 * [bounds[s], bounds[s + 1]); a position is a row index after `rowOffset`, or, with `gather`, an
 * index into the head's permutation (the row is `permutation[position]`). Serves MoC's chunk
 * descriptors (contiguous chunks, one bounds list for every head) and Sparse-VideoGen 2's
 * centroid move (clusters in the cluster-sorted order, bounds a head). An empty segment keeps its
 * previous mean. Threads are (row, column) pairs: a column is a vec4 of the head dimension, row r
 * sums positions r, r + rows, … of the segment, and the rows are added in row order, so every run
 * sums alike.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { perHeadAccessorWgsl, perHeadBindings } from "./head_bindings.ts";

/** Threads per workgroup. */
export const SEGMENT_MEAN_WORKGROUP = 256;

/** Storage bindings besides the rows: bounds, means, and the permutation with `gather`. */
export function segmentMeanOtherStorage(gather: boolean): number {
  return gather ? 3 : 2;
}

/**
 * Group 0 layout for `heads` row buffers: rows0…, bounds, [permutation], means, params.
 *
 * @example
 * ```ts
 * import { segmentMeanBindings } from "./segment_mean_wgsl.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   segmentMeanBindings(1, true).map((b) => b.name),
 *   ["rows0", "bounds", "permutation", "means", "params"],
 * );
 * ```
 */
export function segmentMeanBindings(heads: number, gather: boolean): Binding[] {
  return [
    ...perHeadBindings("rows", heads),
    { name: "bounds", kind: "read", type: "array<u32>" },
    ...(gather ? [{ name: "permutation", kind: "read", type: "array<u32>" } as const] : []),
    { name: "means", kind: "read_write", type: "array<vec4<f32>>" },
    { name: "params", kind: "uniform", type: "Params" },
  ];
}

/**
 * The uniform: `rowOffset` (added to every row index), `segments` a head, `boundsStride` (words
 * between two heads' bounds; 0 when the heads share them), `count` (permutation entries a head).
 *
 * @example
 * ```ts
 * import { segmentMeanParams } from "./segment_mean_wgsl.ts";
 * import { deepEqual } from "node:assert/strict";
 * const words = segmentMeanParams({ rowOffset: 7, segments: 3, boundsStride: 4, count: 90 });
 * deepEqual([...words], [7, 3, 4, 90]);
 * ```
 */
export function segmentMeanParams(
  params: { rowOffset: number; segments: number; boundsStride: number; count: number },
): Uint32Array {
  return Uint32Array.of(params.rowOffset, params.segments, params.boundsStride, params.count);
}

/** The kernel for rows of `headDim` columns stored in `precision`; grid (segments, heads). */
export function segmentMeanWgsl(
  config: { headDim: number; precision: "f32" | "f16"; heads: number; gather: boolean },
): string {
  const { headDim, precision, heads, gather } = config;
  const columns = headDim / 4;
  if (columns > SEGMENT_MEAN_WORKGROUP) {
    throw new RangeError(`head dimension ${headDim} must be ≤ ${4 * SEGMENT_MEAN_WORKGROUP}`);
  }
  const rowIndex = gather ? "permutation[head * params.count + at]" : "at";
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${columns}u;
const ROWS: u32 = ${Math.floor(SEGMENT_MEAN_WORKGROUP / columns)}u;

struct Params { rowOffset: u32, segments: u32, boundsStride: u32, count: u32 }

${bindingsWgsl(segmentMeanBindings(heads, gather))}

${perHeadAccessorWgsl("rows", heads)}

var<workgroup> rowSums: array<vec4<f32>, ROWS * D4>;

@compute @workgroup_size(${SEGMENT_MEAN_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let segment = wid.x;
  let head = wid.y;
  let first = bounds[head * params.boundsStride + segment];
  let end = bounds[head * params.boundsStride + segment + 1u];
  if (first == end) {
    return;
  }
  let row = lid.x / D4;
  let column = lid.x % D4;
  if (row < ROWS) {
    var sum = vec4<f32>(0.0);
    for (var at = first + row; at < end; at += ROWS) {
      sum += rowsAt(head, (params.rowOffset + ${rowIndex}) * D4 + column);
    }
    rowSums[lid.x] = sum;
  }
  workgroupBarrier();
  if (lid.x < D4) {
    var total = vec4<f32>(0.0);
    for (var r = 0u; r < ROWS; r++) {
      total += rowSums[r * D4 + lid.x];
    }
    means[(head * params.segments + segment) * D4 + lid.x] = total / f32(end - first);
  }
}
`;
}

/**
 * WGSL of MoC's chunk pooling (docs/methods.md, "Mixture of Contexts"): one workgroup per (video
 * chunk, head), every head in one dispatch (kernels/head_bindings.ts), writes the mean of the
 * chunk's keys, the chunk's descriptor, in f32. Chunks have any length (a latent frame, a shot, a
 * run of N tokens): their bounds are read from a buffer. Threads are (row, column) pairs: a
 * column is a vec4 of the head dimension, row r sums the chunk's tokens r, r + rows, …, and the
 * rows are added in row order, so every run sums alike.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { perHeadAccessorWgsl, perHeadBindings } from "./head_bindings.ts";

/** Threads per workgroup. */
export const CHUNK_POOL_WORKGROUP = 256;

/** Storage bindings besides the keys: chunkStart, descriptors. */
export const CHUNK_POOL_OTHER_STORAGE = 2;

/** Group 0 layout for `heads` key buffers: keys0…, chunk starts, descriptors, params. */
export function chunkPoolBindings(heads: number): Binding[] {
  return [
    ...perHeadBindings("keys", heads),
    { name: "chunkStart", kind: "read", type: "array<u32>" },
    { name: "descriptors", kind: "read_write", type: "array<vec4<f32>>" },
    { name: "params", kind: "uniform", type: "Params" },
  ];
}

/** The pooling kernel for keys of `headDim` columns stored in `precision`; grid (chunks, heads). */
export function chunkPoolWgsl(
  config: { headDim: number; precision: "f32" | "f16"; heads: number },
): string {
  const { headDim, precision, heads } = config;
  const columns = headDim / 4;
  if (columns > CHUNK_POOL_WORKGROUP) {
    throw new RangeError(`moc: head dimension ${headDim} must be ≤ ${4 * CHUNK_POOL_WORKGROUP}`);
  }
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${columns}u;
const ROWS: u32 = ${Math.floor(CHUNK_POOL_WORKGROUP / columns)}u;

struct Params { videoStart: u32, chunks: u32, _pad0: u32, _pad1: u32 }

${bindingsWgsl(chunkPoolBindings(heads))}

${perHeadAccessorWgsl("keys", heads)}

var<workgroup> rowSums: array<vec4<f32>, ROWS * D4>;

// Chunk c holds the video tokens [chunkStart[c], chunkStart[c + 1]).
@compute @workgroup_size(${CHUNK_POOL_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let chunk = wid.x;
  let head = wid.y;
  let first = params.videoStart + chunkStart[chunk];
  let length = chunkStart[chunk + 1u] - chunkStart[chunk];
  let row = lid.x / D4;
  let column = lid.x % D4;
  if (row < ROWS) {
    var sum = vec4<f32>(0.0);
    for (var t = row; t < length; t += ROWS) {
      sum += keysAt(head, (first + t) * D4 + column);
    }
    rowSums[lid.x] = sum;
  }
  workgroupBarrier();
  if (lid.x < D4) {
    var total = vec4<f32>(0.0);
    for (var r = 0u; r < ROWS; r++) {
      total += rowSums[r * D4 + lid.x];
    }
    descriptors[(head * params.chunks + chunk) * D4 + lid.x] = total / f32(length);
  }
}
`;
}

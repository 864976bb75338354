/**
 * WGSL of MoC's chunk pooling (methods.md, "Mixture of Contexts"): one workgroup per video chunk
 * writes the mean of the chunk's keys, the chunk's descriptor, in f32. Chunks have any length
 * (a latent frame, a shot, a run of N tokens): their bounds are read from a buffer. Threads
 * stride over the head dimension, so neighbouring threads read neighbouring elements.
 *
 * @module
 */
import type { BindingKind } from "../gpu/runtime.ts";

/** Threads per workgroup. */
export const CHUNK_POOL_WORKGROUP = 64;

/** Group 0 layout: keys, chunk starts, descriptors, params. */
export const CHUNK_POOL_BINDINGS = [
  "read",
  "read",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** The pooling kernel for keys of `headDim` columns stored in `precision`. */
export function chunkPoolWgsl(config: { headDim: number; precision: "f32" | "f16" }): string {
  const { headDim, precision } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
const D: u32 = ${headDim}u;

struct Params { videoStart: u32, chunks: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<storage, read> keys: array<${precision}>;
// Chunk c holds the video tokens [chunkStart[c], chunkStart[c + 1]).
@group(0) @binding(1) var<storage, read> chunkStart: array<u32>;
@group(0) @binding(2) var<storage, read_write> descriptors: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(${CHUNK_POOL_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let chunk = wid.x;
  if (chunk >= params.chunks) {
    return;
  }
  let first = params.videoStart + chunkStart[chunk];
  let length = chunkStart[chunk + 1u] - chunkStart[chunk];
  for (var j = lid.x; j < D; j += ${CHUNK_POOL_WORKGROUP}u) {
    var sum = 0.0;
    for (var t = 0u; t < length; t++) {
      sum += f32(keys[(first + t) * D + j]);
    }
    descriptors[chunk * D + j] = sum / f32(length);
  }
}
`;
}

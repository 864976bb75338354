/**
 * WGSL of MoC's chunk pooling (docs/methods.md, "Mixture of Contexts"): one workgroup per video chunk
 * writes the mean of the chunk's keys, the chunk's descriptor, in f32. Chunks have any length
 * (a latent frame, a shot, a run of N tokens): their bounds are read from a buffer. Threads
 * stride over the head dimension, so neighbouring threads read neighbouring elements.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Threads per workgroup. */
export const CHUNK_POOL_WORKGROUP = 64;

/** Group 0 layout: keys, chunk starts, descriptors, params. */
export const CHUNK_POOL_BINDINGS = [
  { name: "keys", kind: "read", type: "array<Stored>" },
  { name: "chunkStart", kind: "read", type: "array<u32>" },
  { name: "descriptors", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** The pooling kernel for keys of `headDim` columns stored in `precision`. */
export function chunkPoolWgsl(config: { headDim: number; precision: "f32" | "f16" }): string {
  const { headDim, precision } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D: u32 = ${headDim}u;

struct Params { videoStart: u32, chunks: u32, _pad0: u32, _pad1: u32 }

${bindingsWgsl(CHUNK_POOL_BINDINGS)}
// Chunk c holds the video tokens [chunkStart[c], chunkStart[c + 1]).

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

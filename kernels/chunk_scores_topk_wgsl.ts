/**
 * WGSL of MoC's routing scores and top-k (docs/methods.md, "Mixture of Contexts"): one thread per
 * video query scores its candidate chunks (the video chunks [0, anchorFirst) and
 * [candidateResume, C) of its own chunk: those no anchor covers, only earlier ones when routing
 * is causal) by q·descriptor and keeps the best k in registers by insertion,
 * which suits the small k of MoC. Every head runs in one dispatch (grid z = head;
 * kernels/head_bindings.ts). Candidates are scanned in ascending chunk order and displace
 * the k-th only with a strictly higher score, so ties keep the lower chunk index (the rule of
 * methods/routing/moc_reference.ts). Empty slots hold 0xffffffff.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { perHeadAccessorWgsl, perHeadBindings } from "./head_bindings.ts";
import { NO_CHUNK } from "./moc_chunks.ts";

/** Threads per workgroup (one query each). */
export const CHUNK_SCORES_WORKGROUP = 64;

/** Storage bindings besides the queries (descriptors, chunk tables, chosen). */
export const CHUNK_SCORES_OTHER_STORAGE = 5;

/** Group 0 for `heads` query buffers: queries0…, descriptors, chunk tables, chosen, params. */
export function chunkScoresBindings(heads: number): Binding[] {
  return [
    ...perHeadBindings("queries", heads),
    { name: "descriptors", kind: "read", type: "array<vec4<f32>>" },
    { name: "queryChunk", kind: "read", type: "array<u32>" },
    { name: "anchorFirst", kind: "read", type: "array<u32>" },
    { name: "candidateResume", kind: "read", type: "array<u32>" },
    { name: "chosen", kind: "read_write", type: "array<u32>" },
    { name: "params", kind: "uniform", type: "Params" },
  ];
}

/** The scores and top-k kernel: `k` slots, `headDim` a multiple of 4; grid z = heads. */
export function chunkScoresTopkWgsl(
  config: { headDim: number; precision: "f32" | "f16"; k: number; heads: number },
): string {
  const { headDim, precision, k, heads } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${headDim / 4}u;
const TOP_K: u32 = ${k}u;
const NO_CHUNK: u32 = ${NO_CHUNK}u;

struct Params { videoStart: u32, chunks: u32, videoTokens: u32, dispatchWidth: u32 }

${bindingsWgsl(chunkScoresBindings(heads))}

${perHeadAccessorWgsl("queries", heads)}

@compute @workgroup_size(${CHUNK_SCORES_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let head = gid.z;
  let query = gid.x + gid.y * params.dispatchWidth * ${CHUNK_SCORES_WORKGROUP}u;
  if (query >= params.videoTokens) {
    return;
  }
  let own = queryChunk[query];
  let skipFrom = anchorFirst[own];
  let skipTo = candidateResume[own];
  let queryBase = (params.videoStart + query) * D4;
  var q: array<vec4<f32>, D4>;
  for (var j = 0u; j < D4; j++) {
    q[j] = queriesAt(head, queryBase + j);
  }
  var bestScore: array<f32, TOP_K>;
  var bestChunk: array<u32, TOP_K>;
  for (var s = 0u; s < TOP_K; s++) {
    bestChunk[s] = NO_CHUNK;
  }
  let descriptorBase = head * params.chunks * D4;
  var filled = 0u;
  for (var c = 0u; c < params.chunks; c++) {
    if (c == skipFrom) {
      c = skipTo;
      if (c >= params.chunks) {
        break;
      }
    }
    var score = 0.0;
    for (var j = 0u; j < D4; j++) {
      score += dot(q[j], descriptors[descriptorBase + c * D4 + j]);
    }
    if (filled == TOP_K && !(score > bestScore[TOP_K - 1u])) {
      continue;
    }
    var at = select(TOP_K - 1u, filled, filled < TOP_K);
    filled = min(filled + 1u, TOP_K);
    while (at > 0u && bestScore[at - 1u] < score) {
      bestScore[at] = bestScore[at - 1u];
      bestChunk[at] = bestChunk[at - 1u];
      at--;
    }
    bestScore[at] = score;
    bestChunk[at] = c;
  }
  for (var s = 0u; s < TOP_K; s++) {
    chosen[(head * params.videoTokens + query) * TOP_K + s] = bestChunk[s];
  }
}
`;
}

/**
 * WGSL of MoGA's router (docs/methods.md, "Mixture-of-Groups Attention"; arXiv 2510.18692): one
 * thread per routed token computes the G logits W·k, its group g = argmax (ties to the lower
 * group: a group wins only with a strictly higher logit) and its gate p(g|k) = softmax(logits)_g
 * = 1 / Σ_j exp(l_j − l_g). The same kernel is the assignment step of the k-means that builds
 * the default router, whose centroids are unit vectors (spherical k-means), so the router's
 * argmax is exactly the k-means assignment.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Threads per workgroup (one token each). */
export const ROUTER_WORKGROUP = 64;

/** Group 0 layout: keys, router, assignment, gate, params. */
export const ROUTER_BINDINGS = [
  { name: "keys", kind: "read", type: "array<vec4<Stored>>" },
  { name: "router", kind: "read", type: "array<vec4<f32>>" },
  { name: "assignment", kind: "read_write", type: "array<u32>" },
  { name: "gate", kind: "read_write", type: "array<f32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** The router kernel for `groups` rows of `headDim` (a multiple of 4) columns. */
export function routerLogitsWgsl(
  config: { headDim: number; precision: "f32" | "f16"; groups: number },
): string {
  const { headDim, precision, groups } = config;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${headDim / 4}u;
const GROUPS: u32 = ${groups}u;

struct Params { count: u32, rowOffset: u32, dispatchWidth: u32, _pad: u32 }

${bindingsWgsl(ROUTER_BINDINGS)}

@compute @workgroup_size(${ROUTER_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let token = gid.x + gid.y * params.dispatchWidth * ${ROUTER_WORKGROUP}u;
  if (token >= params.count) {
    return;
  }
  let keyBase = (params.rowOffset + token) * D4;
  var key: array<vec4<f32>, D4>;
  for (var j = 0u; j < D4; j++) {
    key[j] = vec4<f32>(keys[keyBase + j]);
  }
  var logits: array<f32, GROUPS>;
  var best = 0u;
  for (var g = 0u; g < GROUPS; g++) {
    var logit = 0.0;
    for (var j = 0u; j < D4; j++) {
      logit += dot(key[j], router[g * D4 + j]);
    }
    logits[g] = logit;
    if (logit > logits[best]) {
      best = g;
    }
  }
  var sum = 0.0;
  for (var g = 0u; g < GROUPS; g++) {
    sum += exp(logits[g] - logits[best]);
  }
  assignment[token] = best;
  gate[token] = 1.0 / sum;
}
`;
}

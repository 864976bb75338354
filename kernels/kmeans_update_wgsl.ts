/**
 * WGSL of the centroids of MoGA's default router, spherical k-means on the keys (docs/methods.md,
 * "Mixture-of-Groups Attention"), one workgroup per (group, head), every head in one dispatch:
 * 1. init: a group's centroid is its seed token's key scaled to unit length (a zero key gives a
 *    zero row);
 * 2. update: a group's centroid is the sum of the per-block partial sums the router kernel's
 *    `accumulate` variant wrote (kernels/router_logits_wgsl.ts), in block order, scaled to unit
 *    length; a group with no token, or a zero sum, keeps its previous row.
 * Threads are (row, column) pairs: a column is a vec4 of the head dimension, the rows split the
 * blocks (row r sums blocks r, r + rows, …) and are added in row order, so every run sums alike.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { perHeadAccessorWgsl, perHeadBindings } from "./head_bindings.ts";

/** Threads per workgroup of both kernels (a power of two: the norm is a tree reduction). */
export const KMEANS_WORKGROUP = 256;

/** Storage bindings of the init kernel besides the keys: seeds, router. */
export const KMEANS_INIT_OTHER_STORAGE = 2;

/** Group 0 layout of the init kernel for `heads` key buffers: keys0…, seeds, router, params. */
export function kmeansInitBindings(heads: number): Binding[] {
  return [
    ...perHeadBindings("keys", heads),
    { name: "seeds", kind: "read", type: "array<u32>" },
    { name: "router", kind: "read_write", type: "array<vec4<f32>>" },
    { name: "params", kind: "uniform", type: "Params" },
  ];
}

/** Group 0 layout of the update kernel: partials, router, params. */
export const KMEANS_UPDATE_BINDINGS = [
  { name: "partials", kind: "read", type: "array<vec4<f32>>" },
  { name: "router", kind: "read_write", type: "array<vec4<f32>>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Both kernels read `count` routed tokens from `rowOffset`, in `blocks` router blocks. */
const PARAMS = "struct Params { count: u32, rowOffset: u32, blocks: u32, _pad: u32 }";

/** The unit-length write shared by both kernels: `total` of thread `lid` is column `lid`. */
function normalizeWgsl(keepEmpty: boolean): string {
  return `  squares[lid.x] = select(0.0, dot(total, total), lid.x < D4);
  workgroupBarrier();
  for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
    if (lid.x < stride) {
      squares[lid.x] += squares[lid.x + stride];
    }
    workgroupBarrier();
  }
  let norm2 = squares[0];
  if (lid.x >= D4${keepEmpty ? " || norm2 == 0.0" : ""}) {
    return;
  }
  let at = (head * GROUPS + group) * D4 + lid.x;
  router[at] = select(total / sqrt(norm2), vec4<f32>(0.0), norm2 == 0.0);`;
}

/**
 * Kernel 1: router[head][group] = seed key / |seed key| (or the seed key itself when `unit` is
 * false: the start of a Euclidean k-means, kernels/svg2_routing.ts); grid (groups, heads).
 */
export function kmeansInitWgsl(
  config: {
    headDim: number;
    precision: "f32" | "f16";
    groups: number;
    heads: number;
    unit?: boolean;
  },
): string {
  const { headDim, precision, groups, heads, unit = true } = config;
  const write = unit ? normalizeWgsl(false) : `  if (lid.x < D4) {
    router[(head * GROUPS + group) * D4 + lid.x] = total;
  }`;
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${headDim / 4}u;
const GROUPS: u32 = ${groups}u;
const THREADS: u32 = ${KMEANS_WORKGROUP}u;

${PARAMS}

${bindingsWgsl(kmeansInitBindings(heads))}

${perHeadAccessorWgsl("keys", heads)}

var<workgroup> squares: array<f32, THREADS>;

@compute @workgroup_size(${KMEANS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  let head = wid.y;
  var total = vec4<f32>(0.0);
  if (lid.x < D4) {
    let seed = seeds[head * GROUPS + group];
    total = keysAt(head, (params.rowOffset + seed) * D4 + lid.x);
  }
${write}
}
`;
}

/** Kernel 2: router[head][group] = Σ block partials / |Σ|; grid (groups, heads). */
export function kmeansUpdateWgsl(config: { headDim: number; groups: number }): string {
  const { headDim, groups } = config;
  const columns = headDim / 4;
  if (columns > KMEANS_WORKGROUP) {
    throw new RangeError(`moga: head dimension ${headDim} must be ≤ ${4 * KMEANS_WORKGROUP}`);
  }
  const rows = Math.floor(KMEANS_WORKGROUP / columns);
  return /* wgsl */ `
const D4: u32 = ${columns}u;
const GROUPS: u32 = ${groups}u;
const THREADS: u32 = ${KMEANS_WORKGROUP}u;
const ROWS: u32 = ${rows}u;

${PARAMS}

${bindingsWgsl(KMEANS_UPDATE_BINDINGS)}

var<workgroup> rowSums: array<vec4<f32>, ROWS * D4>;
var<workgroup> squares: array<f32, THREADS>;

@compute @workgroup_size(${KMEANS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  let head = wid.y;
  let row = lid.x / D4;
  let column = lid.x % D4;
  if (row < ROWS) {
    var sum = vec4<f32>(0.0);
    for (var block = row; block < params.blocks; block += ROWS) {
      sum += partials[((head * params.blocks + block) * GROUPS + group) * D4 + column];
    }
    rowSums[lid.x] = sum;
  }
  workgroupBarrier();
  var total = vec4<f32>(0.0);
  if (lid.x < D4) {
    for (var r = 0u; r < ROWS; r++) {
      total += rowSums[r * D4 + lid.x];
    }
  }
${normalizeWgsl(true)}
}
`;
}

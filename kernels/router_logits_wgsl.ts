/**
 * WGSL of MoGA's router (docs/methods.md, "Mixture-of-Groups Attention"; arXiv 2510.18692), one
 * workgroup per block of {@link ROUTE_BLOCK} routed tokens of one head, every head in one
 * dispatch (kernels/head_bindings.ts). Each thread computes its token's G logits W·k and group
 * g = argmax (ties to the lower group: a group wins only with a strictly higher logit); the
 * workgroup then ranks each token among the block's earlier tokens of its group (the stable
 * order). The router rows are staged in workgroup memory (8 KiB at a time where the device has
 * room) and read from there by every thread; the rank is a count of set bits in per-group
 * membership words where they fit, else a count over the block's earlier tokens
 * ({@link routerMemoryPlan}). On the H200 the staged rows and the whole rework were measured
 * against the plain forms (tools/router_probe.ts, docs/results/routing.md). Three variants:
 * - `route` also writes the gate p(g|k) = softmax(logits)_g = 1 / Σ_j exp(l_j − l_g), the rank
 *   and the block's count per group (the input of the counting sort, kernels/group_sort_wgsl.ts);
 * - `accumulate` is the assignment step of the spherical k-means that builds the default router:
 *   it orders the block's tokens by group (stable) and writes the block's per-group key sums
 *   (partials, summed over blocks by kernels/kmeans_update_wgsl.ts), so a k-means round needs no
 *   global sort. The centroids are unit vectors, so the router's argmax is the k-means assignment;
 * - `nearest` is the assignment step of a Euclidean k-means (Sparse-VideoGen 2's clusters,
 *   kernels/svg2_routing.ts): the logit of centroid c is 2·k·c − ‖c‖² (the norms computed once a
 *   workgroup), so the argmax is the nearest centroid (ties to the lower one); it writes the
 *   group, the rank and the block's counts like `route`, without a gate.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { perHeadAccessorWgsl, perHeadBindings, perHeadLoadsWgsl } from "./head_bindings.ts";

/** Routed tokens per workgroup (one thread each); also the block of the counting sort. */
export const ROUTE_BLOCK = 256;

/** Which outputs the router kernel writes. */
export type RouterVariant = "route" | "accumulate" | "nearest";

/** Storage bindings besides the keys: router plus the variant's outputs. */
export const ROUTER_OTHER_STORAGE: Readonly<Record<RouterVariant, number>> = {
  route: 5,
  accumulate: 2,
  nearest: 4,
};

/** Group 0 layout of `variant` for `heads` key buffers: keys0…, router, outputs, params. */
export function routerBindings(variant: RouterVariant, heads: number): Binding[] {
  const outputs: Binding[] = variant === "accumulate"
    ? [{ name: "partials", kind: "read_write", type: "array<vec4<f32>>" }]
    : [
      { name: "assignment", kind: "read_write", type: "array<u32>" },
      ...(variant === "route"
        ? [{ name: "gate", kind: "read_write", type: "array<f32>" } as const]
        : []),
      { name: "ranks", kind: "read_write", type: "array<u32>" },
      { name: "counts", kind: "read_write", type: "array<u32>" },
    ];
  return [
    ...perHeadBindings("keys", heads),
    { name: "router", kind: "read", type: "array<vec4<f32>>" },
    ...outputs,
    { name: "params", kind: "uniform", type: "Params" },
  ];
}

/** What the router kernel is compiled for. */
export interface RouterKernelConfig {
  /** Which outputs it writes. */
  variant: RouterVariant;
  /** Head dimension d (a multiple of 4). */
  headDim: number;
  /** Key storage precision. */
  precision: "f32" | "f16";
  /** Groups G. */
  groups: number;
  /** Key buffers bound (heads of one dispatch). */
  heads: number;
  /**
   * The device's workgroup memory limit (maxComputeWorkgroupStorageSize), which the kernel's
   * layout is fitted to ({@link routerMemoryPlan}).
   */
  workgroupLimit: number;
}

/** How the router kernel of a config lays out its workgroup memory. */
export interface RouterMemoryPlan {
  /** Groups whose router rows are staged in workgroup memory at a time (≥ 1). */
  chunk: number;
  /** Whether the ranks come from membership bits (else a count token by token). */
  bits: boolean;
  /** Workgroup memory the kernel declares, bytes (each variable rounded up to 16, as WebGPU counts). */
  bytes: number;
}

/**
 * The router kernel's workgroup memory within `config.workgroupLimit`: the router rows staged 8 KiB
 * at a time where they fit (fewer rows a chunk where they do not), and the membership bits where
 * they fit beside them (the H200 measurements behind both: tools/router_probe.ts,
 * docs/results/routing.md). {@link checkRouterFits} says when even one staged row does not fit.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { routerMemoryPlan } from "./router_logits_wgsl.ts";
 * const route = { variant: "route" as const, headDim: 128, precision: "f32" as const, groups: 16,
 *   heads: 8 };
 * // groupOf 1,024 + counts 64 + membership bits 512 + 16 router rows of d = 128 (8,192).
 * deepEqual(routerMemoryPlan({ ...route, workgroupLimit: 16_384 }),
 *   { chunk: 16, bits: true, bytes: 9_792 });
 * // Less room: no bits, and 12 router rows a chunk.
 * deepEqual(routerMemoryPlan({ ...route, workgroupLimit: 7_300 }),
 *   { chunk: 12, bits: false, bytes: 7_232 });
 * ```
 */
export function routerMemoryPlan(config: RouterKernelConfig): RouterMemoryPlan {
  const { variant, headDim, groups, workgroupLimit } = config;
  const columns = headDim / 4;
  const rows = Math.floor(ROUTE_BLOCK / columns);
  const base = padded(4 * ROUTE_BLOCK) + padded(4 * groups) +
    (variant === "nearest" ? padded(4 * groups) : 0) +
    (variant === "accumulate"
      ? padded(4 * (groups + 1)) + padded(4 * ROUTE_BLOCK) + padded(16 * rows * 2 * columns)
      : 0);
  const rowBytes = 16 * columns;
  const fullChunk = Math.max(1, Math.min(groups, Math.floor(ROUTER_STAGE_VEC4S / columns)));
  const bitsBytes = padded(4 * groups * (ROUTE_BLOCK / 32));
  const bits = base + fullChunk * rowBytes + bitsBytes <= workgroupLimit;
  const room = workgroupLimit - base - (bits ? bitsBytes : 0);
  const chunk = Math.max(1, Math.min(fullChunk, Math.floor(room / rowBytes)));
  return { chunk, bits, bytes: base + (bits ? bitsBytes : 0) + chunk * rowBytes };
}

/** `bytes` rounded up to a multiple of 16 (WebGPU's count of a workgroup variable). */
function padded(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** Throws a RangeError naming G, d and the limit when the router kernel cannot fit the device. */
export function checkRouterFits(config: RouterKernelConfig): void {
  const { bytes } = routerMemoryPlan(config);
  if (bytes > config.workgroupLimit) {
    throw new RangeError(
      `router kernel (${config.variant}, ${config.groups} groups, d = ${config.headDim}) needs ` +
        `${bytes} bytes of workgroup memory, over this device's ${config.workgroupLimit}; use ` +
        "fewer groups or a smaller head dimension",
    );
  }
}

/** The router kernel: grid (blocks, heads). */
export function routerLogitsWgsl(config: RouterKernelConfig): string {
  const { variant, headDim, precision, groups, heads } = config;
  const route = variant === "route";
  const sorted = variant !== "accumulate";
  const nearest = variant === "nearest";
  const { chunk, bits } = routerMemoryPlan(config);
  return /* wgsl */ `
${precision === "f16" ? "enable f16;" : ""}
alias Stored = ${precision};
const D4: u32 = ${headDim / 4}u;
const GROUPS: u32 = ${groups}u;
const BLOCK: u32 = ${ROUTE_BLOCK}u;
const WORDS: u32 = ${ROUTE_BLOCK / 32}u;
const CHUNK: u32 = ${chunk}u;
const NO_GROUP: u32 = 0xffffffffu;

// routerStride: vec4s between two heads' router rows (0 when every head shares one router).
struct Params { count: u32, rowOffset: u32, blocks: u32, routerStride: u32 }

${bindingsWgsl(routerBindings(variant, heads))}

${perHeadAccessorWgsl("keys", heads)}

var<workgroup> groupOf: array<u32, BLOCK>;
var<workgroup> members: array<atomic<u32>, GROUPS>;
${bits ? MEMBER_BITS_DECLARATION : ""}
var<workgroup> routerRows: array<vec4<f32>, CHUNK * D4>;
${nearest ? "var<workgroup> norms: array<f32, GROUPS>;" : ""}
${sorted ? "" : accumulateDeclarations(headDim)}

@compute @workgroup_size(${ROUTE_BLOCK})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wid.x;
  let head = wid.y;
  let token = block * BLOCK + lid.x;
  for (var g = lid.x; g < GROUPS; g += BLOCK) {
    atomicStore(&members[g], 0u);
  }
${bits ? MEMBER_BITS_CLEAR : ""}
${nearest ? NORMS_WGSL : ""}
  // Every thread computes (a token past the end reads the last one) so that all of them take
  // part in staging the router rows; only routed tokens join a group.
  let keyBase = (params.rowOffset + min(token, params.count - 1u)) * D4;
${keyRegistersWgsl(headDim, heads)}
  let routerBase = head * params.routerStride;
  var best = 0u;
  var bestLogit = 0.0;
${route ? "  var expSum = 0.0;" : ""}
  for (var first = 0u; first < GROUPS; first += CHUNK) {
    let chunk = min(CHUNK, GROUPS - first);
    workgroupBarrier();
    for (var i = lid.x; i < chunk * D4; i += BLOCK) {
      routerRows[i] = router[routerBase + first * D4 + i];
    }
    workgroupBarrier();
    for (var c = 0u; c < chunk; c++) {
      let g = first + c;
      let row = c * D4;
      var logit = ${keyDotWgsl(headDim)};
${nearest ? "      logit = 2.0 * logit - norms[g];" : ""}
${
    route
      ? `      // Σ exp(l − max) kept against the running max (online softmax): no array of logits.
      if (g == 0u) {
        expSum = 1.0;
      } else if (logit > bestLogit) {
        expSum = expSum * exp(bestLogit - logit) + 1.0;
      } else {
        expSum += exp(logit - bestLogit);
      }`
      : ""
  }
      if (g == 0u || logit > bestLogit) {
        best = g;
        bestLogit = logit;
      }
    }
  }
  if (token >= params.count) {
    best = NO_GROUP;
  }
${
    route
      ? `  if (best != NO_GROUP) {
    gate[head * params.count + token] = 1.0 / expSum;
  }`
      : ""
  }
  groupOf[lid.x] = best;
  if (best != NO_GROUP) {
    atomicAdd(&members[best], 1u);
${bits ? "    atomicOr(&memberBits[best * WORDS + lid.x / 32u], 1u << (lid.x % 32u));" : ""}
  }
  workgroupBarrier();
  // The rank is the stable order: the block's earlier tokens of the same group.
  var tokenRank = 0u;
  if (best != NO_GROUP) {
${bits ? RANK_FROM_BITS : RANK_BY_WALK}
  }
${sorted ? routeTail() : accumulateTail()}
}
`;
}

/**
 * The token's key as one variable a vec4 (`k0` … `k{d/4 − 1}`), all loaded under one switch on
 * the head: named values can stay in registers, where a private array indexed in a loop may be
 * put in local memory by the GPU compiler (docs/results/routing.md compares the two on the H200).
 */
function keyRegistersWgsl(headDim: number, heads: number): string {
  return perHeadLoadsWgsl(
    "keys",
    heads,
    Array.from(
      { length: headDim / 4 },
      (_, j) => ({ variable: `k${j}`, index: `keyBase + ${j}u` }),
    ),
  );
}

/** k · staged router row `row`, summed a vec4 at a time in column order. */
function keyDotWgsl(headDim: number): string {
  return Array.from({ length: headDim / 4 }, (_, j) => `dot(k${j}, routerRows[row + ${j}u])`)
    .join(" + ");
}

// Bit t of word (g · WORDS + t / 32) is set when token t of the block joins group g.
const MEMBER_BITS_DECLARATION = "var<workgroup> memberBits: array<atomic<u32>, GROUPS * WORDS>;";

const MEMBER_BITS_CLEAR = `  for (var w = lid.x; w < GROUPS * WORDS; w += BLOCK) {
    atomicStore(&memberBits[w], 0u);
  }`;

/** The rank as the count of the group's set bits before the token's own. */
const RANK_FROM_BITS = `    let word = lid.x / 32u;
    for (var w = 0u; w < word; w++) {
      tokenRank += countOneBits(atomicLoad(&memberBits[best * WORDS + w]));
    }
    let before = (1u << (lid.x % 32u)) - 1u;
    tokenRank += countOneBits(atomicLoad(&memberBits[best * WORDS + word]) & before);`;

/** The rank as a walk over the block's earlier tokens. */
const RANK_BY_WALK = `    for (var s = 0u; s < lid.x; s++) {
      tokenRank += select(0u, 1u, groupOf[s] == best);
    }`;

/** Router rows (vec4s) staged in workgroup memory at a time, where they fit: 8 KiB. */
const ROUTER_STAGE_VEC4S = 512;

/** Nearest's prologue: every centroid's squared norm in workgroup memory, then a barrier. */
const NORMS_WGSL = `  for (var g = lid.x; g < GROUPS; g += BLOCK) {
    var norm = 0.0;
    for (var j = 0u; j < D4; j++) {
      let centroid = router[head * params.routerStride + g * D4 + j];
      norm += dot(centroid, centroid);
    }
    norms[g] = norm;
  }
  workgroupBarrier();`;

/** Accumulate's workgroup memory and the helper that says whether a group stays in one row. */
function accumulateDeclarations(headDim: number): string {
  const columns = headDim / 4;
  if (columns > ROUTE_BLOCK) {
    throw new RangeError(`moga: head dimension ${headDim} must be ≤ ${4 * ROUTE_BLOCK}`);
  }
  const rows = Math.floor(ROUTE_BLOCK / columns);
  return `const ROWS: u32 = ${rows}u;
const SPAN: u32 = ${Math.ceil(ROUTE_BLOCK / rows)}u;
var<workgroup> groupStart: array<u32, GROUPS + 1u>;
var<workgroup> byGroup: array<u32, BLOCK>;
// The run of each row's first group (slot 0) and last group (slot 1), per column.
var<workgroup> runs: array<vec4<f32>, ROWS * 2u * D4>;

const PREFETCH: u32 = 4u;

// One column of the key at sorted position s of the block (zero at or past end).
fn sortedKey(head: u32, firstRow: u32, s: u32, end: u32, column: u32) -> vec4<f32> {
  if (s >= end) {
    return vec4<f32>(0.0);
  }
  return keysAt(head, (firstRow + byGroup[s]) * D4 + column);
}

fn inOneRow(g: u32) -> bool {
  return groupStart[g] / SPAN == (groupStart[g + 1u] - 1u) / SPAN;
}`;
}

/** Route and nearest: the group and rank of each token and the block's count per group. */
function routeTail(): string {
  return `  if (best != NO_GROUP) {
    assignment[head * params.count + token] = best;
    ranks[head * params.count + token] = tokenRank;
  }
  for (var g = lid.x; g < GROUPS; g += BLOCK) {
    counts[(head * params.blocks + block) * GROUPS + g] = atomicLoad(&members[g]);
  }`;
}

/**
 * Accumulate: the block's tokens ordered by group (stable), then key sums per (group, column).
 * Threads are (row, column) pairs; row r walks the sorted positions [r·P, (r + 1)·P) and sums
 * runs of one group. A group inside one row's span is written by that row; a group that spans
 * rows is written in a second step as the sum of its rows' runs in row order (each row keeps the
 * run of its first group and of its last group), so no thread walks more than P tokens.
 */
function accumulateTail(): string {
  return `  if (lid.x == 0u) {
    var running = 0u;
    for (var g = 0u; g < GROUPS; g++) {
      groupStart[g] = running;
      running += atomicLoad(&members[g]);
    }
    groupStart[GROUPS] = running;
  }
  workgroupBarrier();
  if (best != NO_GROUP) {
    byGroup[groupStart[best] + tokenRank] = lid.x;
  }
  workgroupBarrier();
  let firstRow = params.rowOffset + block * BLOCK;
  let routed = groupStart[GROUPS];
  let partialBase = (head * params.blocks + block) * GROUPS;
  let row = lid.x / D4;
  let column = lid.x % D4;
  if (row < ROWS) {
    let first = row * SPAN;
    let end = min(first + SPAN, routed);
    var sum = vec4<f32>(0.0);
    // The walk keeps the next PREFETCH keys in flight (n0 … n3): each load is issued PREFETCH
    // steps before its sum, so the loop does not wait on one load at a time.
    var n0 = sortedKey(head, firstRow, first, end, column);
    var n1 = sortedKey(head, firstRow, first + 1u, end, column);
    var n2 = sortedKey(head, firstRow, first + 2u, end, column);
    var n3 = sortedKey(head, firstRow, first + 3u, end, column);
    for (var s = first; s < end; s++) {
      let member = byGroup[s];
      sum += n0;
      n0 = n1;
      n1 = n2;
      n2 = n3;
      n3 = sortedKey(head, firstRow, s + PREFETCH, end, column);
      let g = groupOf[member];
      if (s + 1u == end || groupOf[byGroup[s + 1u]] != g) {
        if (inOneRow(g)) {
          partials[(partialBase + g) * D4 + column] = sum;
        } else {
          let slot = select(1u, 0u, groupStart[g] <= first);
          runs[(row * 2u + slot) * D4 + column] = sum;
        }
        sum = vec4<f32>(0.0);
      }
    }
  }
  workgroupBarrier();
  for (var pair = lid.x; pair < GROUPS * D4; pair += BLOCK) {
    let g = pair / D4;
    let c = pair % D4;
    if (groupStart[g] == groupStart[g + 1u]) {
      partials[(partialBase + g) * D4 + c] = vec4<f32>(0.0);
    } else if (!inOneRow(g)) {
      let lastRow = (groupStart[g + 1u] - 1u) / SPAN;
      var total = vec4<f32>(0.0);
      for (var r = groupStart[g] / SPAN; r <= lastRow; r++) {
        let slot = select(1u, 0u, groupStart[g] <= r * SPAN);
        total += runs[(r * 2u + slot) * D4 + c];
      }
      partials[(partialBase + g) * D4 + c] = total;
    }
  }`;
}

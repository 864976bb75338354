/**
 * WGSL of the stable counting sort by group that gives MoGA's token order (docs/methods.md,
 * "Mixture-of-Groups Attention"), every head in one dispatch. Its input is the router kernel's
 * `route` variant (kernels/router_logits_wgsl.ts): each token's group and rank among its block's
 * earlier tokens of that group, and each block's count per group. Two kernels:
 * 1. block scan: one workgroup per (group, head) turns the group's counts over the blocks into
 *    exclusive bases (a run of blocks a thread, then a workgroup scan of the run totals) and
 *    writes the group's total;
 * 2. scatter: one thread per token writes it to
 *    `groupOffset[g] + base[block][g] + rank` (the group offsets are scanned from the totals by
 *    each workgroup; the first writes them out), so tokens keep their original order inside a
 *    group.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";
import { ROUTE_BLOCK } from "./router_logits_wgsl.ts";

/** Threads of each block-scan workgroup (a power of two). */
export const SCAN_WORKGROUP = 256;

/** Group 0 layout of the block-scan kernel: counts, groupTotals, params. */
export const GROUP_BLOCK_SCAN_BINDINGS = [
  { name: "counts", kind: "read_write", type: "array<u32>" },
  { name: "groupTotals", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 layout of the scatter kernel: the route outputs, bases, totals, offsets, permutation. */
export const GROUP_SCATTER_BINDINGS = [
  { name: "assignment", kind: "read", type: "array<u32>" },
  { name: "ranks", kind: "read", type: "array<u32>" },
  { name: "counts", kind: "read", type: "array<u32>" },
  { name: "groupTotals", kind: "read", type: "array<u32>" },
  { name: "offsets", kind: "read_write", type: "array<u32>" },
  { name: "permutation", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

function header(groups: number): string {
  return `
const GROUPS: u32 = ${groups}u;
const BLOCK: u32 = ${ROUTE_BLOCK}u;

struct Params { count: u32, blocks: u32, _pad0: u32, _pad1: u32 }
`;
}

/** Kernel 1: exclusive bases over the blocks and the group's total; grid (groups, heads). */
export function groupBlockScanWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
const THREADS: u32 = ${SCAN_WORKGROUP}u;

${bindingsWgsl(GROUP_BLOCK_SCAN_BINDINGS)}

var<workgroup> scanned: array<u32, THREADS>;

@compute @workgroup_size(${SCAN_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  let head = wid.y;
  let base = head * params.blocks * GROUPS + group;
  let perThread = (params.blocks + THREADS - 1u) / THREADS;
  let first = min(lid.x * perThread, params.blocks);
  let last = min(first + perThread, params.blocks);
  var total = 0u;
  for (var b = first; b < last; b++) {
    total += counts[base + b * GROUPS];
  }
  scanned[lid.x] = total;
  workgroupBarrier();
  for (var stride = 1u; stride < THREADS; stride *= 2u) {
    var left = 0u;
    if (lid.x >= stride) {
      left = scanned[lid.x - stride];
    }
    workgroupBarrier();
    scanned[lid.x] += left;
    workgroupBarrier();
  }
  var running = scanned[lid.x] - total;
  for (var b = first; b < last; b++) {
    let count = counts[base + b * GROUPS];
    counts[base + b * GROUPS] = running;
    running += count;
  }
  if (lid.x == THREADS - 1u) {
    groupTotals[head * GROUPS + group] = scanned[lid.x];
  }
}
`;
}

/** Kernel 2: stable scatter and the G + 1 group offsets of every head; grid (blocks, heads). */
export function groupScatterWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
${bindingsWgsl(GROUP_SCATTER_BINDINGS)}

var<workgroup> groupOffset: array<u32, GROUPS + 1u>;

@compute @workgroup_size(${ROUTE_BLOCK})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wid.x;
  let head = wid.y;
  for (var g = lid.x; g < GROUPS; g += BLOCK) {
    groupOffset[g + 1u] = groupTotals[head * GROUPS + g];
  }
  workgroupBarrier();
  if (lid.x == 0u) {
    groupOffset[0] = 0u;
    for (var g = 1u; g <= GROUPS; g++) {
      groupOffset[g] += groupOffset[g - 1u];
    }
  }
  workgroupBarrier();
  if (block == 0u) {
    for (var g = lid.x; g <= GROUPS; g += BLOCK) {
      offsets[head * (GROUPS + 1u) + g] = groupOffset[g];
    }
  }
  let token = block * BLOCK + lid.x;
  if (token >= params.count) {
    return;
  }
  let at = head * params.count + token;
  let group = assignment[at];
  let base = counts[(head * params.blocks + block) * GROUPS + group];
  permutation[head * params.count + groupOffset[group] + base + ranks[at]] = token;
}
`;
}

/**
 * WGSL of the stable counting sort by group that gives MoGA's token order (docs/methods.md,
 * "Mixture-of-Groups Attention"): four kernels over blocks of {@link SORT_BLOCK} tokens.
 * 1. histogram: one thread per block counts its tokens per group;
 * 2. block scan: one workgroup per group turns the group's counts over the blocks into exclusive
 *    bases (a chunk of blocks a thread, then a workgroup scan of the chunk totals) and writes the
 *    group's total;
 * 3. group offsets: one thread scans the G totals into the G + 1 group offsets;
 * 4. scatter: one thread per block walks its tokens in order and writes each to its group's next
 *    slot, so tokens keep their original order inside a group (stable).
 * The counts buffer holds the counts after (1) and the running bases after (2) and (4).
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Tokens per block (one thread of the histogram and scatter kernels each). */
export const SORT_BLOCK = 256;

/** Threads per workgroup of the histogram and scatter kernels. */
export const SORT_WORKGROUP = 64;

/** Threads of each block-scan workgroup (a power of two). */
export const SCAN_WORKGROUP = 256;

/** Group 0 layout of the histogram kernel: assignment, counts, params. */
export const GROUP_HISTOGRAM_BINDINGS = [
  { name: "assignment", kind: "read", type: "array<u32>" },
  { name: "counts", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 layout of the block-scan kernel: counts, groupTotals, params. */
export const GROUP_BLOCK_SCAN_BINDINGS = [
  { name: "counts", kind: "read_write", type: "array<u32>" },
  { name: "groupTotals", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Group 0 layout of the group-offsets kernel: groupTotals, offsets. */
export const GROUP_OFFSETS_BINDINGS = [
  { name: "groupTotals", kind: "read", type: "array<u32>" },
  { name: "offsets", kind: "read_write", type: "array<u32>" },
] as const satisfies readonly Binding[];

/** Group 0 layout of the scatter kernel: assignment, counts, offsets, permutation, params. */
export const GROUP_SCATTER_BINDINGS = [
  { name: "assignment", kind: "read", type: "array<u32>" },
  { name: "counts", kind: "read_write", type: "array<u32>" },
  { name: "offsets", kind: "read", type: "array<u32>" },
  { name: "permutation", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

function header(groups: number): string {
  return `
const GROUPS: u32 = ${groups}u;
const SORT_BLOCK: u32 = ${SORT_BLOCK}u;

struct Params { count: u32, blocks: u32, _pad0: u32, _pad1: u32 }
`;
}

/** Kernel 1: per-block counts per group. */
export function groupHistogramWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
${bindingsWgsl(GROUP_HISTOGRAM_BINDINGS)}

@compute @workgroup_size(${SORT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let block = gid.x;
  if (block >= params.blocks) {
    return;
  }
  for (var g = 0u; g < GROUPS; g++) {
    counts[block * GROUPS + g] = 0u;
  }
  let end = min(params.count, (block + 1u) * SORT_BLOCK);
  for (var i = block * SORT_BLOCK; i < end; i++) {
    counts[block * GROUPS + assignment[i]] += 1u;
  }
}
`;
}

/** Kernel 2: one workgroup per group, exclusive bases over the blocks and the group's total. */
export function groupBlockScanWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
const THREADS: u32 = ${SCAN_WORKGROUP}u;

${bindingsWgsl(GROUP_BLOCK_SCAN_BINDINGS)}

var<workgroup> scanned: array<u32, THREADS>;

@compute @workgroup_size(${SCAN_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let group = wid.x;
  let perThread = (params.blocks + THREADS - 1u) / THREADS;
  let first = min(lid.x * perThread, params.blocks);
  let last = min(first + perThread, params.blocks);
  var total = 0u;
  for (var b = first; b < last; b++) {
    total += counts[b * GROUPS + group];
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
    let count = counts[b * GROUPS + group];
    counts[b * GROUPS + group] = running;
    running += count;
  }
  if (lid.x == THREADS - 1u) {
    groupTotals[group] = scanned[lid.x];
  }
}
`;
}

/** Kernel 3: the G + 1 group offsets from the group totals. */
export function groupOffsetsWgsl(groups: number): string {
  return /* wgsl */ `
const GROUPS: u32 = ${groups}u;

${bindingsWgsl(GROUP_OFFSETS_BINDINGS)}

@compute @workgroup_size(1)
fn main() {
  var running = 0u;
  for (var g = 0u; g < GROUPS; g++) {
    offsets[g] = running;
    running += groupTotals[g];
  }
  offsets[GROUPS] = running;
}
`;
}

/** Kernel 4: stable scatter, `permutation[offset + base] = token`. */
export function groupScatterWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
${bindingsWgsl(GROUP_SCATTER_BINDINGS)}

@compute @workgroup_size(${SORT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let block = gid.x;
  if (block >= params.blocks) {
    return;
  }
  let end = min(params.count, (block + 1u) * SORT_BLOCK);
  for (var i = block * SORT_BLOCK; i < end; i++) {
    let group = assignment[i];
    let slot = block * GROUPS + group;
    let base = counts[slot];
    counts[slot] = base + 1u;
    permutation[offsets[group] + base] = i;
  }
}
`;
}

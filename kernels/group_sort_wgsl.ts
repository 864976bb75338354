/**
 * WGSL of the stable counting sort by group that gives MoGA's token order (methods.md,
 * "Mixture-of-Groups Attention"): three kernels over blocks of {@link SORT_BLOCK} tokens.
 * 1. histogram: one thread per block counts its tokens per group;
 * 2. scan: one workgroup turns the counts, group-major then block, into exclusive bases and
 *    writes the group offsets (G + 1 words);
 * 3. scatter: one thread per block walks its tokens in order and writes each to its group's next
 *    slot, so tokens keep their original order inside a group (stable).
 * The counts buffer holds the counts after (1) and the running bases after (2) and (3).
 *
 * @module
 */
import type { BindingKind } from "../gpu/runtime.ts";

/** Tokens per block (one thread of the histogram and scatter kernels each). */
export const SORT_BLOCK = 256;

/** Threads per workgroup of the histogram and scatter kernels. */
export const SORT_WORKGROUP = 64;

/** Threads of the scan kernel's single workgroup. */
export const SCAN_WORKGROUP = 256;

/** Group 0 layout of the histogram kernel: assignment, counts, params. */
export const GROUP_HISTOGRAM_BINDINGS = [
  "read",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Group 0 layout of the scan kernel: counts, offsets, params. */
export const GROUP_SCAN_BINDINGS = [
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

/** Group 0 layout of the scatter kernel: assignment, counts, permutation, params. */
export const GROUP_SCATTER_BINDINGS = [
  "read",
  "read_write",
  "read_write",
  "uniform",
] as const satisfies readonly BindingKind[];

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
@group(0) @binding(0) var<storage, read> assignment: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

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

/** Kernel 2: exclusive bases (group-major, then block) and the group offsets. */
export function groupScanWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
@group(0) @binding(0) var<storage, read_write> counts: array<u32>;
@group(0) @binding(1) var<storage, read_write> offsets: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> starts: array<u32, GROUPS>;

@compute @workgroup_size(${SCAN_WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  for (var g = lid.x; g < GROUPS; g += ${SCAN_WORKGROUP}u) {
    var total = 0u;
    for (var b = 0u; b < params.blocks; b++) {
      total += counts[b * GROUPS + g];
    }
    starts[g] = total;
  }
  workgroupBarrier();
  if (lid.x == 0u) {
    var running = 0u;
    for (var g = 0u; g < GROUPS; g++) {
      let total = starts[g];
      starts[g] = running;
      offsets[g] = running;
      running += total;
    }
    offsets[GROUPS] = running;
  }
  workgroupBarrier();
  for (var g = lid.x; g < GROUPS; g += ${SCAN_WORKGROUP}u) {
    var running = starts[g];
    for (var b = 0u; b < params.blocks; b++) {
      let count = counts[b * GROUPS + g];
      counts[b * GROUPS + g] = running;
      running += count;
    }
  }
}
`;
}

/** Kernel 3: stable scatter, `permutation[slot] = token`. */
export function groupScatterWgsl(groups: number): string {
  return /* wgsl */ `${header(groups)}
@group(0) @binding(0) var<storage, read> assignment: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> permutation: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(${SORT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let block = gid.x;
  if (block >= params.blocks) {
    return;
  }
  let end = min(params.count, (block + 1u) * SORT_BLOCK);
  for (var i = block * SORT_BLOCK; i < end; i++) {
    let slot = block * GROUPS + assignment[i];
    let position = counts[slot];
    counts[slot] = position + 1u;
    permutation[position] = i;
  }
}
`;
}

/**
 * WGSL of VSA's coarse-stage selection (docs/methods.md, "Video Sparse Attention"): one workgroup
 * per query cube scores its pooled query against every pooled key (q̄·k̄, f32), sorts the (score,
 * cube) pairs in workgroup memory with a bitonic network (higher score first, ties to the lower
 * cube; `SORTED` = the next power of two ≥ C) and writes the first `k` cubes.
 *
 * @module
 */
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/**
 * Most threads a selection workgroup runs. Each bitonic stage walks the sorted entries in strides
 * of the thread count, so more threads mean fewer serial steps between barriers. On an H200
 * (moc-multi-shot, 3,136 cubes, 8 heads; docs/results/nvidia-h200/README.md, `vsa-selection-threads`)
 * the selection took 169.2 ms at 128 threads, 101.2 at 256, 75.4 at 512 and 64.0 at 1,024.
 */
export const MAX_CUBE_SCORES_THREADS = 1024;

/**
 * Threads of the selection workgroup for `cubes` cubes: the largest power of two within
 * {@link MAX_CUBE_SCORES_THREADS}, the device's workgroup limits and the sorted entries.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { cubeScoresThreads } from "./cube_scores_topk_wgsl.ts";
 * const h200 = { maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 };
 * equal(cubeScoresThreads(3136, h200), 1024);
 * equal(cubeScoresThreads(3136, { ...h200, maxComputeInvocationsPerWorkgroup: 256 }), 256);
 * equal(cubeScoresThreads(6, h200), 8); // the sorted entries: 8
 * ```
 */
export function cubeScoresThreads(
  cubes: number,
  limits: { maxComputeInvocationsPerWorkgroup: number; maxComputeWorkgroupSizeX: number },
): number {
  const cap = Math.min(
    MAX_CUBE_SCORES_THREADS,
    limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeWorkgroupSizeX,
    sortedEntries(cubes),
  );
  return 2 ** Math.floor(Math.log2(Math.max(1, cap)));
}

/** Group 0 layout: pooled queries, pooled keys, chosen cubes, params. */
export const CUBE_SCORES_BINDINGS = [
  { name: "queries", kind: "read", type: "array<f32>" },
  { name: "keys", kind: "read", type: "array<f32>" },
  { name: "chosen", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
] as const satisfies readonly Binding[];

/** Entries sorted per query cube: the next power of two ≥ `cubes`. */
export function sortedEntries(cubes: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, cubes)));
}

/** Workgroup bytes of the kernel for `cubes` cubes of `headDim` columns. */
export function cubeScoresWorkgroupBytes(cubes: number, headDim: number): number {
  return sortedEntries(cubes) * 8 + headDim * 4;
}

/**
 * The selection kernel for `cubes` pooled rows of `headDim` columns, `k` kept per query cube, on
 * workgroups of `threads` threads ({@link cubeScoresThreads}).
 */
export function cubeScoresTopkWgsl(
  config: { headDim: number; cubes: number; k: number; threads: number },
): string {
  const { headDim, cubes, k, threads } = config;
  const sorted = sortedEntries(cubes);
  return /* wgsl */ `
const D: u32 = ${headDim}u;
const C: u32 = ${cubes}u;
const K: u32 = ${k}u;
const SORTED: u32 = ${sorted}u;
const WG: u32 = ${threads}u;
const PADDING: u32 = 0xffffffffu;

struct Params { dispatchWidth: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

${bindingsWgsl(CUBE_SCORES_BINDINGS)}

var<workgroup> queryRow: array<f32, D>;
var<workgroup> score: array<f32, SORTED>;
var<workgroup> cube: array<u32, SORTED>;

// Whether entry i belongs before entry j: higher score, then lower cube; padding last.
fn before(i: u32, j: u32) -> bool {
  if (cube[i] == PADDING) {
    return false;
  }
  if (cube[j] == PADDING) {
    return true;
  }
  return score[i] > score[j] || (score[i] == score[j] && cube[i] < cube[j]);
}

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let query = wid.x + wid.y * params.dispatchWidth;
  if (query >= C) {
    return;
  }
  for (var j = lid.x; j < D; j += WG) {
    queryRow[j] = queries[query * D + j];
  }
  workgroupBarrier();
  for (var b = lid.x; b < SORTED; b += WG) {
    if (b < C) {
      var s = 0.0;
      for (var j = 0u; j < D; j++) {
        s += queryRow[j] * keys[b * D + j];
      }
      score[b] = s;
      cube[b] = b;
    } else {
      score[b] = 0.0;
      cube[b] = PADDING;
    }
  }
  workgroupBarrier();
  for (var size = 2u; size <= SORTED; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var i = lid.x; i < SORTED; i += WG) {
        let partner = i ^ stride;
        if (partner > i) {
          let forward = (i & size) == 0u;
          if (select(before(i, partner), before(partner, i), forward)) {
            let s = score[i];
            score[i] = score[partner];
            score[partner] = s;
            let c = cube[i];
            cube[i] = cube[partner];
            cube[partner] = c;
          }
        }
      }
      workgroupBarrier();
    }
  }
  for (var j = lid.x; j < K; j += WG) {
    chosen[query * K + j] = cube[j];
  }
}
`;
}

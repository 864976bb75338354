/**
 * Tilings of the two flash-attention kernels, the shapes the tuner (kernels/attention_tuner.ts)
 * chooses among:
 *
 * - the tile kernel (kernels/flash_attention_wgsl.ts, GEMM-structured): a workgroup owns
 *   `blockQ` query rows and steps over `blockK` keys at a time; each thread computes a
 *   `scoreRows × scoreKeys` micro-tile of S = QKᵀ and an `outRows × outDims` micro-tile of O. The
 *   two thread grids must hold the same number of threads, and the workgroup memory the tiling
 *   needs (Q resident, one K/V tile, P, row-max partials) must fit the device's limit. Written
 *   `64x32.s4x4.o8x8` (blockQ x blockK . score micro-tile . output micro-tile).
 * - the row kernel (kernels/flash_attention_rows_wgsl.ts): one thread per query row, `blockQ`
 *   rows a workgroup, `blockK` keys staged a step. Written `rows128x16`.
 * - the row-block kernel (kernels/flash_attention_row_blocks_wgsl.ts): `slices` threads share
 *   `rowsPerThread` query rows, each owning d / `slices` of their dims. Written
 *   `rows64x16.r2s4` (blockQ x blockK . rows a thread, slices a row group); a trailing `d`
 *   (`rows128x16.r1s2d`) double-buffers the K/V tiles, a `w` (`rows64x8.r2s4w`) puts a row
 *   group's slices in different warps, and `.p<rows>s<slices>`
 *   (`rows128x16.r1s2.p4s8`) maps P·V's threads apart from Q·Kᵀ's.
 *
 * The written form is what `--tiling` takes and every record names.
 *
 * @module
 */

/** A tiling of any of the three kernels. */
export type AttentionTiling = TileKernelTiling | RowKernelTiling | RowBlockTiling;

/** Row kernel: one thread per query row. */
export interface RowKernelTiling {
  /** Which kernel. */
  kernel: "rows";
  /** Query rows (threads) per workgroup. */
  blockQ: number;
  /** Keys staged in workgroup memory per step (unrolled). */
  blockK: number;
}

/** Row-block kernel: row groups of `slices` threads sharing `rowsPerThread` query rows. */
export interface RowBlockTiling {
  /** Which kernel. */
  kernel: "rowBlocks";
  /** Query rows per workgroup. */
  blockQ: number;
  /** Keys staged in workgroup memory per step (unrolled). */
  blockK: number;
  /** Query rows a thread owns (K/V loads from workgroup memory are shared by them). */
  rowsPerThread: number;
  /** Threads splitting a row group's head dim (partial scores summed in workgroup memory). */
  slices: number;
  /** Two K/V tiles, one stored while the other is used: one barrier fewer a key block. */
  doubleBuffer?: boolean;
  /** A row group's slices in different warps, so a warp's K/V loads share one address. */
  warpSlices?: boolean;
  /**
   * P·V's own mapping (f32 math): query rows a thread owns in P·V, where it reads its rows'
   * summed scores from workgroup memory. Absent: `rowsPerThread`.
   */
  pvRowsPerThread?: number;
  /** P·V's own mapping: threads splitting a row group's output dims. Absent: `slices`. */
  pvSlices?: number;
}

/** Tile kernel: block sizes and per-thread micro-tiles. */
export interface TileKernelTiling {
  /** Which kernel. */
  kernel: "tiles";
  /** Query rows per workgroup. */
  blockQ: number;
  /** Keys staged in workgroup memory per step. */
  blockK: number;
  /** Query rows of a thread's score micro-tile (4 or 8). */
  scoreRows: number;
  /** Keys of a thread's score micro-tile (4 or 8). */
  scoreKeys: number;
  /** Query rows of a thread's output micro-tile (4 or 8). */
  outRows: number;
  /** Head dims of a thread's output micro-tile (4, 8 or 16). */
  outDims: number;
}

/** Arithmetic of the kernel: f32, or f16 products with f32 softmax statistics and outputs. */
export type KernelMath = "f32" | "f16";

/**
 * f16 math: the most products summed in f16 before a score is flushed to f32. On the H200 (dense,
 * L 32,768, 8 heads, docs/results/nvidia-h200/kernel-v4.md) the row kernel ran 2–3 % faster at
 * 64 than at 32 with the same error against float64; at 128 (no flush within a d = 128 score)
 * another 2–3 % at 2.6× the error.
 */
export const F16_SCORE_CHUNK = 64;

/**
 * The default f16 score chunk at `headDim`: the largest multiple of 4 that divides the head dim
 * and is at most {@link F16_SCORE_CHUNK}.
 *
 * @example
 * ```ts
 * import { f16ScoreChunkFor } from "./attention_tiling.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual([128, 96, 64, 40, 16].map(f16ScoreChunkFor), [64, 48, 64, 40, 16]);
 * ```
 */
export function f16ScoreChunkFor(headDim: number): number {
  let chunk = Math.min(F16_SCORE_CHUNK, headDim - headDim % 4);
  while (chunk > 4 && headDim % chunk !== 0) chunk -= 4;
  return Math.max(chunk, 4);
}

/** Device limits a tiling must respect. */
export interface TilingLimits {
  /** Bytes of workgroup memory per workgroup. */
  maxComputeWorkgroupStorageSize: number;
  /** Threads per workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
}

const SCORE_SIZES = [4, 8];
const OUT_ROW_SIZES = [4, 8];
const OUT_DIM_SIZES = [4, 8, 16];
const TILE_PATTERN = /^(\d+)x(\d+)\.s(\d+)x(\d+)\.o(\d+)x(\d+)$/;
const ROW_PATTERN = /^rows(\d+)x(\d+)$/;
const ROW_BLOCK_PATTERN = /^rows(\d+)x(\d+)\.r(\d+)s(\d+)(d?)(w?)(?:\.p(\d+)s(\d+))?$/;

/** The tiling's name, e.g. `64x32.s4x4.o8x8`, `rows128x16` or `rows64x16.r2s4`. */
export function tilingName(t: AttentionTiling): string {
  switch (t.kernel) {
    case "rows":
      return `rows${t.blockQ}x${t.blockK}`;
    case "rowBlocks":
      return `rows${t.blockQ}x${t.blockK}.r${t.rowsPerThread}s${t.slices}${
        t.doubleBuffer ? "d" : ""
      }${t.warpSlices ? "w" : ""}${
        hasPvMapping(t) ? `.p${t.pvRowsPerThread ?? t.rowsPerThread}s${t.pvSlices ?? t.slices}` : ""
      }`;
    case "tiles":
      return `${t.blockQ}x${t.blockK}.s${t.scoreRows}x${t.scoreKeys}.o${t.outRows}x${t.outDims}`;
  }
}

/** Parses a tiling name; throws a RangeError naming the expected forms. */
export function parseTiling(name: string): AttentionTiling {
  const rows = ROW_PATTERN.exec(name.trim());
  if (rows) return { kernel: "rows", blockQ: Number(rows[1]), blockK: Number(rows[2]) };
  const blocks = ROW_BLOCK_PATTERN.exec(name.trim());
  if (blocks) {
    const [blockQ, blockK, rowsPerThread, slices] = blocks.slice(1, 5).map(Number);
    const tiling: RowBlockTiling = { kernel: "rowBlocks", blockQ, blockK, rowsPerThread, slices };
    if (blocks[5]) tiling.doubleBuffer = true;
    if (blocks[6]) tiling.warpSlices = true;
    if (blocks[7]) {
      tiling.pvRowsPerThread = Number(blocks[7]);
      tiling.pvSlices = Number(blocks[8]);
    }
    return tiling;
  }
  const m = TILE_PATTERN.exec(name.trim());
  if (!m) {
    throw new RangeError(
      `--tiling must be rows<blockQ>x<blockK> (e.g. rows128x16), ` +
        `rows<blockQ>x<blockK>.r<rows>s<slices>[d][w][.p<rows>s<slices>] (e.g. rows64x16.r2s4) or ` +
        `<blockQ>x<blockK>.s<rows>x<keys>.o<rows>x<dims> (e.g. 64x32.s4x4.o8x8), got "${name}"`,
    );
  }
  const [blockQ, blockK, scoreRows, scoreKeys, outRows, outDims] = m.slice(1).map(Number);
  return { kernel: "tiles", blockQ, blockK, scoreRows, scoreKeys, outRows, outDims };
}

/** Whether a row-block tiling maps P·V apart from Q·Kᵀ (`.p<rows>s<slices>`). */
export function hasPvMapping(tiling: RowBlockTiling): boolean {
  return (tiling.pvRowsPerThread !== undefined &&
    tiling.pvRowsPerThread !== tiling.rowsPerThread) ||
    (tiling.pvSlices !== undefined && tiling.pvSlices !== tiling.slices);
}

/** Threads per workgroup of `tiling` (tile kernel: the score grid; the output grid must match). */
export function tilingThreads(tiling: AttentionTiling): number {
  switch (tiling.kernel) {
    case "rows":
      return tiling.blockQ;
    case "rowBlocks":
      return (tiling.blockQ / tiling.rowsPerThread) * tiling.slices;
    case "tiles":
      return (tiling.blockQ / tiling.scoreRows) * (tiling.blockK / tiling.scoreKeys);
  }
}

/** Bytes of workgroup memory the kernel declares for `tiling`. */
export function workgroupBytes(tiling: AttentionTiling, headDim: number, math: KernelMath): number {
  const element = math === "f16" ? 2 : 4;
  if (tiling.kernel === "rows") return 2 * tiling.blockK * headDim * element; // K and V
  if (tiling.kernel === "rowBlocks") {
    const { blockQ, blockK, slices } = tiling;
    const partials = slices > 1 || hasPvMapping(tiling) ? blockQ * slices * blockK * 4 : 0; // f32
    const tiles = tiling.doubleBuffer ? 2 : 1;
    return 2 * tiles * blockK * headDim * element + partials;
  }
  const { blockQ, blockK, scoreKeys } = tiling;
  const tiles = headDim * blockQ + blockK * headDim + blockK * blockQ; // Q, K or V, P
  const rowStats = blockQ * (blockK / scoreKeys) + 2 * blockQ; // row-max partials, corr, max
  return tiles * element + rowStats * 4;
}

/** Why `tiling` cannot run at `headDim` on a device with `limits`, or null when it can. */
export function tilingProblem(
  tiling: AttentionTiling,
  headDim: number,
  math: KernelMath,
  limits: TilingLimits,
): string | null {
  const shape = shapeProblem(tiling, headDim);
  if (shape) return shape;
  const name = tilingName(tiling);
  if (tiling.kernel === "rowBlocks" && hasPvMapping(tiling) && math !== "f32") {
    return `tiling ${name}: a P·V mapping of its own needs f32 math`;
  }
  const threads = tilingThreads(tiling);
  if (threads > limits.maxComputeInvocationsPerWorkgroup) {
    return `tiling ${name}: ${threads} threads, over this device's ` +
      `${limits.maxComputeInvocationsPerWorkgroup}`;
  }
  const bytes = workgroupBytes(tiling, headDim, math);
  if (bytes > limits.maxComputeWorkgroupStorageSize) {
    return `tiling ${name}: ${bytes} bytes of workgroup memory at head dim ${headDim}, over ` +
      `this device's ${limits.maxComputeWorkgroupStorageSize}`;
  }
  return null;
}

/** Why `tiling`'s blocks and micro-tiles do not fit together at `headDim`, or null. */
function shapeProblem(tiling: AttentionTiling, headDim: number): string | null {
  const name = tilingName(tiling);
  if (tiling.kernel === "rows") {
    return headDim % 4 || tiling.blockK < 1 || tiling.blockQ < 1
      ? `tiling ${name}: needs a head dim that is a multiple of 4 and positive blocks`
      : null;
  }
  if (tiling.kernel === "rowBlocks") {
    const { blockQ, blockK, rowsPerThread, slices } = tiling;
    if (rowsPerThread < 1 || slices < 1 || blockQ % rowsPerThread || (headDim / 4) % slices) {
      return `tiling ${name}: rows a thread must divide blockQ and slices must divide ` +
        `d/4 = ${headDim / 4}`;
    }
    if (blockK < 1 || ((slices > 1 || hasPvMapping(tiling)) && blockK % 4)) {
      return `tiling ${name}: blockK must be positive, and a multiple of 4 when slices > 1 or ` +
        `P·V has its own mapping`;
    }
    const pvGroups = blockQ / (tiling.pvRowsPerThread ?? rowsPerThread);
    if (tiling.warpSlices && ((blockQ / rowsPerThread) % 32 || pvGroups % 32)) {
      return `tiling ${name}: slices across warps (w) need blockQ / rows a thread in ` +
        `multiples of 32`;
    }
    if (hasPvMapping(tiling)) {
      const { pvRowsPerThread: pvRows = 0, pvSlices = 0 } = tiling;
      if (
        pvRows < 1 || pvSlices < 1 || blockQ % pvRows || (headDim / 4) % pvSlices ||
        (blockQ / pvRows) * pvSlices !== tilingThreads(tiling)
      ) {
        return `tiling ${name}: P·V's rows a thread must divide blockQ, its slices d/4 = ` +
          `${headDim / 4}, and its threads must equal Q·Kᵀ's ${tilingThreads(tiling)}`;
      }
    }
    return null;
  }
  const { blockQ, blockK, scoreRows, scoreKeys, outRows, outDims } = tiling;
  if (!SCORE_SIZES.includes(scoreRows) || !SCORE_SIZES.includes(scoreKeys)) {
    return `tiling ${name}: score micro-tile sides must be 4 or 8`;
  }
  if (!OUT_ROW_SIZES.includes(outRows) || !OUT_DIM_SIZES.includes(outDims)) {
    return `tiling ${name}: output micro-tile must be (4 or 8) rows x (4, 8 or 16) dims`;
  }
  if (blockQ % scoreRows || blockQ % outRows || blockK % scoreKeys || headDim % outDims) {
    return `tiling ${name}: micro-tiles must divide blockQ, blockK and the head dim ${headDim}`;
  }
  const threads = tilingThreads(tiling);
  if ((blockQ / outRows) * (headDim / outDims) !== threads) {
    return `tiling ${name}: score grid (${threads} threads) and output grid ` +
      `(${(blockQ / outRows) * (headDim / outDims)}) differ at head dim ${headDim}`;
  }
  return null;
}

/**
 * Row-kernel shapes worth measuring (kernel v3's sweep on an H200: 128×16 fastest in f32;
 * 128×24 in f16 math at d = 128).
 */
const ROW_SHAPES = [[128, 16], [128, 24], [64, 16], [128, 8], [256, 8]];

/**
 * Row-block tilings worth measuring (H200 sweeps, docs/results/nvidia-h200/kernel-v4.md): the
 * f32 winners at d = 64 (`rows128x8.r2s2`) and d = 128 (`rows64x8.r2s4w`, slices across warps),
 * the f16-math winner at d = 128 (`rows128x8.r2s2d`, double-buffered) and their neighbours.
 */
const ROW_BLOCK_CANDIDATES = [
  "rows128x8.r2s2",
  "rows128x8.r2s2d",
  "rows128x8.r2s2dw",
  "rows256x8.r2s2",
  "rows128x16.r1s2",
  "rows128x8.r1s2",
  "rows128x8.r2s4",
  "rows128x16.r2s4",
  "rows128x8.r4s8",
  "rows64x8.r2s4w",
  "rows128x8.r2s4w",
  "rows128x16.r1s2.p2s4",
  "rows128x16.r1s2w.p2s4",
  "rows128x16.r1s2.p4s8",
];

/**
 * Values of q (and as many of the f32 output) a row-block thread may hold: more spill registers
 * on an H200 (the row kernel's 128 at d = 128 run at 0.74× its d = 64 speed). In f16 math q is
 * counted at half (its vec4s are f16; the output stays f32): an allowance set by measurement,
 * under which `rows128x8.r2s2` at d = 128 (128 values of q) ran fastest on the H200. A P·V
 * mapping of its own is held to the same number of output accumulators.
 */
const ROW_BLOCK_VALUES = 64;

/**
 * Every tiling of the three kernels that runs at `headDim` within `limits`: the row kernel's
 * shapes, the row-block shapes whose threads hold at most {@link ROW_BLOCK_VALUES} values of q
 * (f16 math: counted at half) and, where P·V is mapped apart, as many outputs there,
 * then tile-kernel shapes from a fixed grid (32 to 512 threads), largest workgroup tile first.
 */
export function candidateTilings(
  headDim: number,
  math: KernelMath,
  limits: TilingLimits,
): AttentionTiling[] {
  const found: AttentionTiling[] = [];
  for (const [blockQ, blockK] of ROW_SHAPES) {
    const tiling: AttentionTiling = { kernel: "rows", blockQ, blockK };
    if (tilingProblem(tiling, headDim, math, limits) === null) found.push(tiling);
  }
  const registersPerValue = math === "f16" ? 0.5 : 1;
  for (const name of ROW_BLOCK_CANDIDATES) {
    const tiling = parseTiling(name) as RowBlockTiling;
    const { rowsPerThread, slices, pvRowsPerThread = 0, pvSlices = 1 } = tiling;
    if (rowsPerThread * headDim / slices * registersPerValue > ROW_BLOCK_VALUES) continue;
    if (pvRowsPerThread * headDim / pvSlices > ROW_BLOCK_VALUES) continue; // P·V's outputs
    if (tilingProblem(tiling, headDim, math, limits) === null) found.push(tiling);
  }
  for (const blockQ of [128, 96, 64, 48, 32, 16]) {
    for (const blockK of [64, 32, 16, 8]) {
      for (const scoreRows of SCORE_SIZES) {
        for (const scoreKeys of SCORE_SIZES) {
          for (const outRows of OUT_ROW_SIZES) {
            for (const outDims of OUT_DIM_SIZES) {
              const tiling: TileKernelTiling = {
                kernel: "tiles",
                blockQ,
                blockK,
                scoreRows,
                scoreKeys,
                outRows,
                outDims,
              };
              const threads = tilingThreads(tiling);
              if (threads < 32 || threads > 512) continue;
              if (tilingProblem(tiling, headDim, math, limits) === null) found.push(tiling);
            }
          }
        }
      }
    }
  }
  return found;
}

/**
 * The tile-kernel tiling used without a measurement: on a software adapter the smallest
 * workgroup tile (fast to compile and to run on a CPU), else the largest workgroup tile whose
 * threads keep a 4×4 score tile and at most 64 output accumulators. Throws when none fits.
 */
export function fallbackTiling(
  headDim: number,
  math: KernelMath,
  limits: TilingLimits,
  software: boolean,
): TileKernelTiling {
  const all = candidateTilings(headDim, math, limits).filter((t): t is TileKernelTiling =>
    t.kernel === "tiles"
  );
  if (all.length === 0) {
    throw new RangeError(`no kernel tiling fits head dim ${headDim} on this device`);
  }
  const area = (t: AttentionTiling) => t.blockQ * t.blockK;
  if (software) {
    return all.reduce((best, t) =>
      area(t) < area(best) || (area(t) === area(best) && t.outRows * t.outDims >
            best.outRows * best.outDims)
        ? t
        : best
    );
  }
  const balanced = all.filter((t) =>
    t.scoreRows === 4 && t.scoreKeys === 4 && t.outRows * t.outDims <= 64
  );
  return (balanced.length ? balanced : all).reduce((best, t) => area(t) > area(best) ? t : best);
}

/**
 * WGSL of the row kernel, one of the two flash-attention kernels (FlashAttention-2 forward,
 * online softmax) that run every method; the tuner (kernels/attention_tuner.ts) picks between it
 * and the tile kernel (kernels/flash_attention_wgsl.ts) by measurement. A workgroup takes a sub-tile of at most `blockQ` query rows of one query tile of
 * the execution form (form/form.ts) and walks that tile's key ranges in blocks of `blockK`
 * keys staged in workgroup memory. Dense attention is the form with one range.
 *
 * One thread owns one query row, held in registers: the template unrolls the head dimension
 * into named vec4 variables (`q0…`, `acc0…`) and the key block into named scores (`s0…`),
 * because private arrays indexed in loops end up in local memory on some drivers, and a whole
 * block of scores gives the GPU independent work (one max and one rescale per block, as in
 * FlashAttention-2). Scores are pre-scaled by log2(e)/√d so the softmax uses exp2; the kernel
 * writes the output and the natural-log log-sum-exp of every row (or, for a part of a split
 * sub-tile, a partial output).
 *
 * With `math: "f16"` the query, the staged keys and values and both products are f16 (vec4<f16>
 * FMAs): a score's partial sums are flushed to f32 every `f16ScoreChunk` dims, and a block's PV
 * sum is added to the f32 output once per block; the softmax statistics stay f32.
 *
 * @module
 */

import type { KernelMath } from "./attention_tiling.ts";
import {
  flashAttentionHeaderWgsl,
  subTileMainWgsl,
  wgslFloat,
} from "./flash_attention_shared_wgsl.ts";

/** Compile-time shape of the row kernel. */
export interface RowKernelConfig {
  /** Head dimension d (multiple of 4). */
  headDim: number;
  /** Storage type of Q, K and V. */
  precision: "f32" | "f16";
  /** Arithmetic of the two products (softmax statistics and outputs are always f32). */
  math: KernelMath;
  /** f16 math: products summed in f16 before a score is flushed to f32 (divides headDim). */
  f16ScoreChunk: number;
  /** Query rows per workgroup. */
  blockQ: number;
  /** Keys staged in workgroup memory per step (unrolled). */
  blockK: number;
  /** Compile the row-mask path (forms with MASK_ROWS ranges, e.g. MoC). */
  rowMasks: boolean;
  /** Compile the per-key token-mask path (forms with MASK_TOKENS ranges). */
  tokenMasks: boolean;
  /** PV-skip threshold λ (form/form.ts `pvSkipThreshold`); absent or null: not compiled. */
  pvSkip?: number | null;
}

/**
 * The row kernel's WGSL for `config` (bindings: FLASH_ATTENTION_BINDINGS of
 * kernels/flash_attention_shared_wgsl.ts).
 */
export function rowKernelWgsl(config: RowKernelConfig): string {
  const { headDim, precision, math, blockQ, blockK, rowMasks, tokenMasks } = config;
  const pvSkip = config.pvSkip ?? null;
  const d4 = headDim / 4;
  const f16Math = math === "f16";
  const tile = f16Math ? "f16" : "f32"; // type of q, the staged tiles and the products
  const chunk4 = f16Math ? config.f16ScoreChunk / 4 : d4; // vec4s summed before a flush
  if (d4 % chunk4 !== 0) {
    throw new RangeError(
      `f16ScoreChunk ${config.f16ScoreChunk} must divide the head dim ${headDim}`,
    );
  }
  const each = (count: number, line: (i: number) => string, sep = "\n    ") =>
    Array.from({ length: count }, (_, i) => line(i)).join(sep);
  const dims = (line: (i: number) => string) => each(d4, line);
  const keys = (line: (j: number) => string, sep?: string) => each(blockK, line, sep);
  const rowMaskCheck = rowMasks
    ? `if (range.w == ROW_MASK) {
        rowOn = rowOn && ((maskWords[range.z + tileRow / 32u] >> (tileRow % 32u)) & 1u) == 1u;
      }`
    : "";
  // A key is valid when it lies in the block and, for token masks, its bit is set.
  const keyValid = (j: number) =>
    tokenMasks
      ? `${j}u < n && (range.w != TOKEN_MASK || tokenBit(range, tileRow, rowWords, kb + ${j}u))`
      : `${j}u < n`;
  const scoreSum = f16Math
    ? each(d4 / chunk4, (c) =>
      `{
            var h = vec4<f16>(0.0);
            ${
        each(chunk4, (u) =>
          `h = fma(q${c * chunk4 + u}, kTile[kBase + ${c * chunk4 + u}u], h);`, "\n            ")
      }
            let pair = h.xy + h.zw;
            dotSum.x = dotSum.x + f32(pair.x) + f32(pair.y);
          }`, "\n          ")
    : dims((i) => `dotSum = fma(q${i}, kTile[kBase + ${i}u], dotSum);`);
  // f32: rescale, then one FMA per (key, dim vec4). f16: the block's P·V per dim vec4 is summed
  // in f16 (one temporary, keys inner) and added to the rescaled f32 output.
  const blockUpdate = f16Math
    ? `rowSum = rowSum * correction;
          ${keys((j) => `let p${j} = exp2(s${j} - newMax);\n          rowSum = rowSum + p${j};`)}
          ${keys((j) => `let ph${j} = vec4<f16>(f16(p${j}));`)}
          ${
      dims((i) =>
        `{
            var h = vec4<f16>(0.0);
            ${keys((j) => `h = fma(ph${j}, vTile[${j}u * D4 + ${i}u], h);`, "\n            ")}
            acc${i} = fma(acc${i}, vec4<f32>(correction), vec4<f32>(h));
          }`
      )
    }`
    : `${dims((i) => `acc${i} = acc${i} * correction;`)}
          rowSum = rowSum * correction;
          ${
      keys((j) =>
        `{
            let p = exp2(s${j} - newMax);
            rowSum = rowSum + p;
            let pv = vec4<f32>(p);
            let vBase = ${j}u * D4;
            ${dims((i) => `acc${i} = fma(pv, vTile[vBase + ${i}u], acc${i});`)}
          }`
      )
    }`;
  const blockMaxExpression = Array.from({ length: blockK }, (_, j) => `s${j}`)
    .reduce((a, b) => `max(${a}, ${b})`);
  return /* wgsl */ `
${precision === "f16" || f16Math ? "enable f16;" : ""}

const D4: u32 = ${d4}u;          // head dim in vec4s
const BLOCK_Q: u32 = ${blockQ}u; // query rows per workgroup (= threads)
const BLOCK_K: u32 = ${blockK}u; // keys staged per step
${
    pvSkip === null
      ? ""
      : `const PV_SKIP: f32 = ${wgslFloat(pvSkip)}; // a step this far below the row max is skipped`
  }
${flashAttentionHeaderWgsl(precision)}

var<workgroup> kTile: array<vec4<${tile}>, ${blockK * d4}>;
var<workgroup> vTile: array<vec4<${tile}>, ${blockK * d4}>;

fn tokenBit(range: vec4<u32>, tileRow: u32, rowWords: u32, key: u32) -> bool {
  let rel = key - range.x;
  return ((maskWords[range.z + tileRow * rowWords + rel / 32u] >> (rel % 32u)) & 1u) == 1u;
}

${subTileMainWgsl(blockQ)}
  let row = st.rowStart + lid;
  let rowActive = row < st.rowEnd;
  let tileRow = row - st.tileStart;

  ${dims((i) => `var q${i} = vec4<${tile}>(0.0);\n    var acc${i} = vec4<f32>(0.0);`)}
  if (rowActive) {
    let qBase = row * D4;
    ${dims((i) => `q${i} = vec4<${tile}>(vec4<f32>(q[qBase + ${i}u]) * params.scaleLog2);`)}
  }
  var rowMax = EMPTY;
  var rowSum = 0.0;

  for (var r = st.rangeBegin; r < st.rangeEnd; r++) {
    let range = ranges[r];
    var rowOn = rowActive;
    ${rowMaskCheck}
    let rowWords = (range.y - range.x + 31u) / 32u;
    for (var kb = range.x; kb < range.y; kb += BLOCK_K) {
      let n = min(BLOCK_K, range.y - kb);
      workgroupBarrier();
      for (var i = lid; i < BLOCK_K * D4; i += BLOCK_Q) {
        if (i / D4 < n) {
          let src = kb * D4 + i;
          kTile[i] = vec4<${tile}>(k[src]);
          vTile[i] = vec4<${tile}>(v[src]);
        }
      }
      workgroupBarrier();
      ${keys((j) => `var s${j} = 0.0;`)}
      if (rowOn) {
        ${
    keys((j) =>
      `{
          let kBase = ${j}u * D4;
          var dotSum = vec4<f32>(0.0);
          ${scoreSum}
          s${j} = dotSum.x + dotSum.y + dotSum.z + dotSum.w;
        }`
    )
  }
      }
      if (rowOn) {
        ${keys((j) => `s${j} = select(EMPTY, s${j}, ${keyValid(j)});`)}
        let blockMax = ${blockMaxExpression};
        if (blockMax > EMPTY${pvSkip === null ? "" : " && blockMax - rowMax >= -PV_SKIP"}) {
          let newMax = max(rowMax, blockMax);
          let correction = exp2(rowMax - newMax);
          ${blockUpdate}
          rowMax = newMax;
        }
      }
    }
  }

  if (rowActive) {
    let inv = rowInverse(rowSum);
    let rowLse = logSumExp(rowMax, rowSum);
    if (st.partSlot == NO_PART) {
      let outBase = row * D4;
      ${dims((i) => `outRows[outBase + ${i}u] = acc${i} * inv;`)}
      lse[row] = rowLse;
    } else {
      let part = st.partSlot * BLOCK_Q + lid;
      let outBase = part * D4;
      ${dims((i) => `partialRows[outBase + ${i}u] = acc${i} * inv;`)}
      partialLse[part] = rowLse;
    }
  }
}
`;
}

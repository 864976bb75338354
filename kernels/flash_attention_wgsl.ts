/**
 * WGSL of the tile kernel, one of the two flash-attention kernels (FlashAttention-2 forward,
 * online softmax) that run every method (the tuner picks between it and the row kernel,
 * kernels/flash_attention_rows_wgsl.ts, by measurement), structured as two register-tiled GEMMs on CUDA cores, the way SIMT GEMM kernels
 * are: a workgroup takes a sub-tile of at most `blockQ` query rows of one query tile of the
 * execution form (form/form.ts), keeps those rows of Q in workgroup memory and walks the
 * tile's key ranges `blockK` keys at a time. Per step:
 *
 * 1. the K tile is staged transposed in workgroup memory (vec4 loads);
 * 2. each thread computes a `scoreRows × scoreKeys` micro-tile of S = QKᵀ as outer products of
 *    vec4 columns of Qᵀ and Kᵀ, masks it, and publishes its row maxima;
 * 3. the V tile replaces K; each thread reduces the row maxima of its rows, rescales, and writes
 *    its P = exp2(S − max) micro-tile to workgroup memory;
 * 4. each thread accumulates an `outRows × outDims` micro-tile of O += PV and the row sums of its
 *    rows (every thread of a row sees the same P, so no reduction is needed for them).
 *
 * Scores are pre-scaled by log2(e)/√d so the softmax uses exp2. With `math: "f16"` the tiles are
 * held in f16 and both products run in f16 arithmetic (vec4<f16> FMAs): score sums are flushed to
 * f32 every `f16ScoreChunk` dims and each step's PV sum is added to the f32 output once; the row
 * statistics stay in f32. The kernel writes the output and the natural-log log-sum-exp of every
 * row (or, for a part of a split sub-tile, a partial output).
 *
 * @module
 */

import { type KernelMath, type TileKernelTiling, tilingThreads } from "./attention_tiling.ts";
import {
  flashAttentionHeaderWgsl,
  subTileMainWgsl,
  wgslFloat,
} from "./flash_attention_shared_wgsl.ts";

/** Compile-time shape of the kernel. */
export interface FlashAttentionConfig {
  /** Head dimension d (multiple of 4). */
  headDim: number;
  /** Storage type of Q, K and V. */
  precision: "f32" | "f16";
  /** Arithmetic of the two products (softmax statistics and outputs are always f32). */
  math: KernelMath;
  /** f16 math: products summed in f16 before a score is flushed to f32 (divides headDim). */
  f16ScoreChunk: number;
  /** Block sizes and micro-tiles (kernels/attention_tiling.ts). */
  tiling: TileKernelTiling;
  /** Compile the row-mask path (forms with MASK_ROWS ranges, e.g. MoC). */
  rowMasks: boolean;
  /** Compile the per-key token-mask path (forms with MASK_TOKENS ranges). */
  tokenMasks: boolean;
  /** PV-skip threshold λ (form/form.ts `pvSkipThreshold`); absent or null: not compiled. */
  pvSkip?: number | null;
}

const LANES = ["x", "y", "z", "w"];

/** Lines `line(0…count−1)` joined for the template. */
function each(count: number, line: (i: number) => string, sep = "\n  "): string {
  return Array.from({ length: count }, (_, i) => line(i)).join(sep);
}

/**
 * The kernel's WGSL for `config` (bindings: FLASH_ATTENTION_BINDINGS of
 * kernels/flash_attention_shared_wgsl.ts).
 */
export function flashAttentionWgsl(config: FlashAttentionConfig): string {
  const { headDim, precision, math, tiling, rowMasks, tokenMasks } = config;
  const pvSkip = config.pvSkip ?? null;
  const { blockQ, blockK, scoreRows, scoreKeys, outRows, outDims } = tiling;
  const threads = tilingThreads(tiling);
  const d4 = headDim / 4;
  const scoreRowVecs = scoreRows / 4;
  const outRowVecs = outRows / 4;
  const outDimVecs = outDims / 4;
  const f16Math = math === "f16";
  const tile = f16Math ? "f16" : "f32"; // type of the staged tiles and the products
  const chunk = f16Math ? config.f16ScoreChunk : headDim;
  if (headDim % chunk !== 0) {
    throw new RangeError(`f16ScoreChunk ${chunk} must divide the head dim ${headDim}`);
  }
  const enableF16 = precision === "f16" || f16Math;

  // Score micro-tile: s{rv}_{j} holds key sk{j} of rows 4·sq{rv} + 0…3; while the dot
  // products run, a{rv}_{c}_{j} holds one (row, key) score.
  const sVars = (line: (rv: number, j: number) => string, sep?: string) =>
    each(scoreRowVecs * scoreKeys, (i) => line(Math.floor(i / scoreKeys), i % scoreKeys), sep);
  const aVars = (line: (rv: number, c: number, j: number) => string, sep?: string) =>
    each(scoreRows * scoreKeys, (i) => {
      const j = i % scoreKeys;
      const c = Math.floor(i / scoreKeys) % 4;
      return line(Math.floor(i / (4 * scoreKeys)), c, j);
    }, sep);
  // K rows are stored with their vec4s permuted (dv XOR key % KEY_SWIZZLE), so the threads of a
  // quarter-warp, reading the same dv of different keys, hit different banks.
  const keySwizzle = [8, 4, 2].find((w) => d4 % w === 0) ?? 1;
  // Output micro-tile: o{rv}_{c}_{dv} holds dims of vec4 od{dv} of row 4·oq{rv} + c.
  const oVars = (line: (rv: number, c: number, dv: number) => string, sep?: string) =>
    each(outRowVecs * 4 * outDimVecs, (i) => {
      const dv = i % outDimVecs;
      const c = Math.floor(i / outDimVecs) % 4;
      return line(Math.floor(i / (4 * outDimVecs)), c, dv);
    }, sep);

  const rowLoads = (indent: string) =>
    each(scoreRowVecs * 4, (i) => {
      const [rv, c] = [Math.floor(i / 4), i % 4];
      return `let q${rv}_${c} = qRows[(4u * sq${rv} + ${c}u) * D4 + dv];`;
    }, indent) + indent +
    each(scoreKeys, (j) => `let k${j} = kvTile[kRow${j} + (dv ^ kSwizzle${j})];`, indent);
  const scoreLoop = f16Math
    ? `for (var dv0 = 0u; dv0 < D4; dv0 += SCORE_CHUNK / 4u) {
        ${aVars((rv, c, j) => `var h${rv}_${c}_${j} = vec4<f16>(0.0);`, "\n        ")}
        for (var dv = dv0; dv < dv0 + SCORE_CHUNK / 4u; dv++) {
          ${rowLoads("\n          ")}
          ${
      aVars(
        (rv, c, j) => `h${rv}_${c}_${j} = fma(q${rv}_${c}, k${j}, h${rv}_${c}_${j});`,
        "\n          ",
      )
    }
        }
        ${
      aVars((rv, c, j) => {
        const h = `h${rv}_${c}_${j}`;
        return `{ let pair = ${h}.xy + ${h}.zw; a${rv}_${c}_${j} += f32(pair.x + pair.y); }`;
      }, "\n        ")
    }
      }`
    : `for (var dv = 0u; dv < D4; dv++) {
        ${rowLoads("\n        ")}
        ${
      aVars((rv, c, j) => {
        const a = `a${rv}_${c}_${j}`;
        return `${a} = fma(q${rv}_${c}.x, k${j}.x, fma(q${rv}_${c}.y, k${j}.y, ` +
          `fma(q${rv}_${c}.z, k${j}.z, fma(q${rv}_${c}.w, k${j}.w, ${a}))));`;
      }, "\n        ")
    }
      }`;

  /** Unrolled staging of `total` vec4s: every load is issued before the first store. */
  const stage = (
    total: number,
    parts: {
      valid: (i: string) => string;
      load: (i: string) => string;
      store: (i: string, x: string) => string;
    },
  ) => {
    const loads = Math.ceil(total / threads);
    const inRange = (u: number) => total % threads === 0 ? "" : `i${u} < ${total}u`;
    const guard = (u: number, extra: string) =>
      [inRange(u), extra].filter(Boolean).join(" && ") || "true";
    return `{
        ${
      each(loads, (u) =>
        `let i${u} = lid + ${u * threads}u;
        var x${u} = vec4<${tile}>(0.0);
        if (${guard(u, parts.valid(`i${u}`))}) {
          x${u} = ${parts.load(`i${u}`)};
        }`, "\n        ")
    }
        ${
      each(loads, (u) =>
        inRange(u)
          ? `if (${inRange(u)}) { ${parts.store(`i${u}`, `x${u}`)} }`
          : parts.store(`i${u}`, `x${u}`), "\n        ")
    }
      }`;
  };

  const rowMaskTerm = (rv: number) =>
    rowMasks
      ? ` & select(vec4<bool>(true), rowBits(range, tileRow0 + 4u * sq${rv}), range.w == ROW_MASK)`
      : "";
  const keyIndex = (j: number) => `sk${j}`;

  const pvProducts = (acc: string) =>
    each(outRowVecs, (rv) => `let p${rv} = pt[key * BLOCK_Q4 + oq${rv}];`, "\n        ") +
    "\n        " +
    each(outDimVecs, (dv) => `let vv${dv} = kvTile[key * D4 + od${dv}];`, "\n        ") +
    "\n        " +
    oVars(
      (rv, c, dv) =>
        `${acc}${rv}_${c}_${dv} = fma(vec4<${tile}>(p${rv}.${
          LANES[c]
        }), vv${dv}, ${acc}${rv}_${c}_${dv});`,
      "\n        ",
    ) +
    "\n        " +
    each(outRowVecs, (rv) => `l${rv} = l${rv} + vec4<f32>(p${rv});`, "\n        ");
  // PV skip: a thread whose rows all skip this step runs no P·V (their P is zero).
  const [pvOpen, pvClose] = pvSkip === null ? ["", ""] : [
    `if (${each(outRowVecs, (rv) => `any(rowSkips[oq${rv}] == vec4<u32>(0u))`, " || ")}) {\n`,
    "\n      }",
  ];
  const pvLoop = f16Math
    ? `${oVars((rv, c, dv) => `var h${rv}_${c}_${dv} = vec4<f16>(0.0);`, "\n      ")}
      ${pvOpen}for (var key = 0u; key < BLOCK_K; key++) {
        ${pvProducts("h")}
      }${pvClose}
      ${
      oVars((rv, c, dv) =>
        `o${rv}_${c}_${dv} = fma(o${rv}_${c}_${dv}, vec4<f32>(corr${rv}.${
          LANES[c]
        }), vec4<f32>(h${rv}_${c}_${dv}));`, "\n      ")
    }`
    : `${
      oVars((rv, c, dv) =>
        `o${rv}_${c}_${dv} = o${rv}_${c}_${dv} * corr${rv}.${LANES[c]};`, "\n      ")
    }
      ${pvOpen}for (var key = 0u; key < BLOCK_K; key++) {
        ${pvProducts("o")}
      }${pvClose}`;

  return /* wgsl */ `
${enableF16 ? "enable f16;" : ""}

const HEAD_DIM: u32 = ${headDim}u;
const D4: u32 = ${d4}u;                 // head dim in vec4s
const BLOCK_Q: u32 = ${blockQ}u;        // query rows per workgroup
const BLOCK_Q4: u32 = ${blockQ / 4}u;
const BLOCK_K: u32 = ${blockK}u;        // keys staged per step
const SCORE_KEY_GROUPS: u32 = ${blockK / scoreKeys}u; // threads sharing a score row
const SCORE_ROW_GROUPS: u32 = ${blockQ / scoreRows}u;
const OUT_DIM_GROUPS: u32 = ${headDim / outDims}u;    // threads sharing an output row
const OUT_ROW_GROUPS: u32 = ${blockQ / outRows}u;
const SCORE_CHUNK: u32 = ${chunk}u;        // f16 math: dims summed in f16 per flush
const KEY_SWIZZLE: u32 = ${keySwizzle}u;
${
    pvSkip === null
      ? ""
      : `const PV_SKIP: f32 = ${wgslFloat(pvSkip)}; // a step this far below the row max is skipped`
  }
${flashAttentionHeaderWgsl(precision)}

var<workgroup> qRows: array<vec4<${tile}>, ${headDim * blockQ / 4}>;  // Q: [row][dim/4]
var<workgroup> kvTile: array<vec4<${tile}>, ${blockK * d4}>;          // K, then V: [key][dim/4]
var<workgroup> pt: array<vec4<${tile}>, ${blockK * blockQ / 4}>;      // Pᵀ: [key][row/4]
var<workgroup> rowMaxParts: array<f32, ${blockQ * (blockK / scoreKeys)}>; // [row][key group]
var<workgroup> rowCorr: array<vec4<f32>, ${blockQ / 4}>;
var<workgroup> rowMaxes: array<vec4<f32>, ${blockQ / 4}>;
${
    pvSkip === null
      ? ""
      : `var<workgroup> rowSkips: array<vec4<u32>, ${blockQ / 4}>; // 1 = row skips the step`
  }

fn rowBits(range: vec4<u32>, tileRow: u32) -> vec4<bool> {
  var bits: vec4<bool>;
  for (var c = 0u; c < 4u; c++) {
    let row = tileRow + c;
    bits[c] = ((maskWords[range.z + row / 32u] >> (row % 32u)) & 1u) == 1u;
  }
  return bits;
}

fn tokenBits(range: vec4<u32>, tileRow: u32, rowWords: u32, key: u32) -> vec4<bool> {
  let rel = key - range.x;
  var bits: vec4<bool>;
  for (var c = 0u; c < 4u; c++) {
    let word = maskWords[range.z + (tileRow + c) * rowWords + rel / 32u];
    bits[c] = ((word >> (rel % 32u)) & 1u) == 1u;
  }
  return bits;
}

fn maxParts(row: u32) -> f32 {
  var m = EMPTY;
  for (var t = 0u; t < SCORE_KEY_GROUPS; t++) {
    m = max(m, rowMaxParts[row * SCORE_KEY_GROUPS + t]);
  }
  return m;
}

${subTileMainWgsl(threads)}
  let rowCount = st.rowEnd - st.rowStart;
  let tileRow0 = st.rowStart - st.tileStart;

  // Score grid: thread (ty, tx); output grid: thread (oy, ox).
  let tx = lid % SCORE_KEY_GROUPS;
  let ty = lid / SCORE_KEY_GROUPS;
  let ox = lid % OUT_DIM_GROUPS;
  let oy = lid / OUT_DIM_GROUPS;
  ${each(scoreRowVecs, (rv) => `let sq${rv} = ty + ${rv}u * SCORE_ROW_GROUPS;`)}
  ${each(scoreKeys, (j) => `let sk${j} = tx + ${j}u * SCORE_KEY_GROUPS;`)}
  ${each(scoreKeys, (j) => `let kRow${j} = sk${j} * D4;`)}
  ${each(scoreKeys, (j) => `let kSwizzle${j} = sk${j} % KEY_SWIZZLE;`)}
  ${each(outRowVecs, (rv) => `let oq${rv} = oy + ${rv}u * OUT_ROW_GROUPS;`)}
  ${each(outDimVecs, (dv) => `let od${dv} = ox + ${dv}u * OUT_DIM_GROUPS;`)}
  ${
    each(scoreRowVecs, (rv) =>
      `let rowActive${rv} = vec4<u32>(4u * sq${rv}) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(rowCount);`)
  }

  // Q rows, pre-scaled, resident for the whole sub-tile (rows past the end are zero).
  ${
    stage(blockQ * d4, {
      valid: (i) => `${i} / D4 < rowCount`,
      load: (i) => `vec4<${tile}>(vec4<f32>(q[st.rowStart * D4 + ${i}]) * params.scaleLog2)`,
      store: (i, x) => `qRows[${i}] = ${x};`,
    })
  }

  ${each(scoreRowVecs, (rv) => `var rowMax${rv} = vec4<f32>(EMPTY);`)}
  ${each(outRowVecs, (rv) => `var l${rv} = vec4<f32>(0.0);`)}
  ${oVars((rv, c, dv) => `var o${rv}_${c}_${dv} = vec4<f32>(0.0);`)}

  for (var r = st.rangeBegin; r < st.rangeEnd; r++) {
    let range = ranges[r];
    let rowWords = (range.y - range.x + 31u) / 32u;
    ${each(scoreRowVecs, (rv) => `let rowLive${rv} = rowActive${rv}${rowMaskTerm(rv)};`, "\n    ")}
    for (var kb = range.x; kb < range.y; kb += BLOCK_K) {
      let n = min(BLOCK_K, range.y - kb);
      // 1. K tile, swizzled (keys past the range are zero).
      ${
    stage(blockK * d4, {
      valid: (i) => `${i} / D4 < n`,
      load: (i) => `vec4<${tile}>(k[kb * D4 + ${i}])`,
      store: (i, x) =>
        `kvTile[${i} - ${i} % D4 + ((${i} % D4) ^ ((${i} / D4) % KEY_SWIZZLE))] = ${x};`,
    })
  }
      workgroupBarrier();

      // 2. S micro-tile, masked, and its row maxima.
      ${aVars((rv, c, j) => `var a${rv}_${c}_${j} = 0.0;`, "\n      ")}
      ${scoreLoop}
      ${
    sVars((rv, j) =>
      `var s${rv}_${j} = vec4<f32>(${
        [0, 1, 2, 3].map((c) => `a${rv}_${c}_${j}`).join(", ")
      });`, "\n      ")
  }
      ${
    sVars((rv, j) =>
      `s${rv}_${j} = select(vec4<f32>(EMPTY), s${rv}_${j}, rowLive${rv} & vec4<bool>(${
        keyIndex(j)
      } < n));`, "\n      ")
  }
      ${
    tokenMasks
      ? `if (range.w == TOKEN_MASK) {
        ${
        sVars((rv, j) =>
          `s${rv}_${j} = select(vec4<f32>(EMPTY), s${rv}_${j}, tokenBits(range, tileRow0 + 4u * sq${rv}, rowWords, kb + ${
            keyIndex(j)
          }));`, "\n        ")
      }
      }`
      : ""
  }
      ${
    each(scoreRowVecs, (rv) => {
      const maxExpr = Array.from({ length: scoreKeys }, (_, j) => `s${rv}_${j}`)
        .reduce((a, b) => `max(${a}, ${b})`);
      return `{
        let m = ${maxExpr};
        ${
        each(
          4,
          (c) => `rowMaxParts[(4u * sq${rv} + ${c}u) * SCORE_KEY_GROUPS + tx] = m.${LANES[c]};`,
          "\n        ",
        )
      }
      }`;
    }, "\n      ")
  }
      workgroupBarrier();

      // 3. V tile in place of Kᵀ; new row maxima; P micro-tile.
      ${
    stage(blockK * d4, {
      valid: (i) => `${i} / D4 < n`,
      load: (i) => `vec4<${tile}>(v[kb * D4 + ${i}])`,
      store: (i, x) => `kvTile[${i}] = ${x};`,
    })
  }
      ${
    each(scoreRowVecs, (rv) =>
      `{
        let row = 4u * sq${rv};
        let blockMax = vec4<f32>(maxParts(row), maxParts(row + 1u), maxParts(row + 2u), maxParts(row + 3u));
        let newMax = max(rowMax${rv}, blockMax);${
        pvSkip === null ? "" : `
        let skipped = blockMax - rowMax${rv} < vec4<f32>(-PV_SKIP);`
      }
        if (tx == 0u) {
          rowCorr[sq${rv}] = exp2(rowMax${rv} - newMax);
          rowMaxes[sq${rv}] = newMax;${
        pvSkip === null ? "" : `
          rowSkips[sq${rv}] = select(vec4<u32>(0u), vec4<u32>(1u), skipped | (blockMax <= vec4<f32>(EMPTY)));`
      }
        }
        rowMax${rv} = newMax;
        ${
        each(
          scoreKeys,
          (j) =>
            `pt[(${
              keyIndex(j)
            }) * BLOCK_Q4 + sq${rv}] = vec4<${tile}>(select(vec4<f32>(0.0), exp2(s${rv}_${j} - newMax), s${rv}_${j} > vec4<f32>(EMPTY)${
              pvSkip === null ? "" : " & !skipped"
            }));`,
          "\n        ",
        )
      }
      }`, "\n      ")
  }
      workgroupBarrier();

      // 4. O micro-tile += P·V, row sums.
      ${each(outRowVecs, (rv) => `let corr${rv} = rowCorr[oq${rv}];`, "\n      ")}
      ${each(outRowVecs, (rv) => `l${rv} = l${rv} * corr${rv};`, "\n      ")}
      ${pvLoop}
      workgroupBarrier();
    }
  }

  ${
    each(
      outRowVecs,
      (rv) =>
        `{
    let finalMax = rowMaxes[oq${rv}];
    ${
          each(4, (c) =>
            `{
      let subRow = 4u * oq${rv} + ${c}u;
      let sum = l${rv}.${LANES[c]};
      if (subRow < rowCount) {
        let inv = rowInverse(sum);
        let rowLse = logSumExp(finalMax.${LANES[c]}, sum);
        var outBase = (st.rowStart + subRow) * D4;
        if (st.partSlot != NO_PART) {
          outBase = (st.partSlot * BLOCK_Q + subRow) * D4;
        }
        ${
              each(outDimVecs, (dv) => `let out${dv} = o${rv}_${c}_${dv} * inv;`, "\n        ")
            }
        if (st.partSlot == NO_PART) {
          ${each(outDimVecs, (dv) => `outRows[outBase + od${dv}] = out${dv};`, "\n          ")}
          if (ox == 0u) {
            lse[st.rowStart + subRow] = rowLse;
          }
        } else {
          ${each(outDimVecs, (dv) => `partialRows[outBase + od${dv}] = out${dv};`, "\n          ")}
          if (ox == 0u) {
            partialLse[st.partSlot * BLOCK_Q + subRow] = rowLse;
          }
        }
      }
    }`, "\n    ")
        }
  }`,
      "\n  ",
    )
  }
}
`;
}

/**
 * WGSL of the row-block kernel, the register-blocked member of the row-kernel family
 * (kernels/flash_attention_rows_wgsl.ts; FlashAttention-2 forward, online softmax). The row
 * kernel gives a thread one query row and all its dims, so every K or V vec4 it loads from
 * workgroup memory feeds 4 FMAs, and at d = 128 it holds 2 × 128 f32 of q and output. Here
 * `slices` threads share `rowsPerThread` query rows:
 *
 * - register blocking: a thread owns `rowsPerThread` rows, so each K/V vec4 it loads feeds
 *   4 × `rowsPerThread` FMAs;
 * - split head dim: each of the `slices` threads of a row group owns every `slices`-th vec4 of
 *   the head dim of q and of the output, which keeps q and the accumulators at
 *   `rowsPerThread × d / slices` values a thread. K and V are staged in their natural order,
 *   declared as [key · d/4/slices + vec4][slice] (V with P·V's slices when it is mapped apart;
 *   units of two vec4s in place of vec4s in f16 math, below) so every workgroup-memory index but
 *   the slice is a constant (the bounds clamp WGSL puts on a dynamic index is then computed once).
 *   The partial dot products are summed through workgroup memory once per key block; every
 *   thread of a group then reads the same partials in the same order, so the group's softmax
 *   statistics are bit-identical and need no further exchange.
 * - slices across warps (`warpSlices`): the threads of a row group sit 32 apart, so all of a
 *   warp's threads own the same dims and every K or V load of a warp reads one address. On the
 *   H200 this took `rows64x8.r2s4` at d = 128 from 25.4 to 31.4 TFLOP/s
 *   (docs/results/nvidia-h200/kernel-v4.md, "Fifth pass").
 * - P·V mapped apart (f32 math, `pvRowsPerThread` × `pvSlices`): the same threads own other
 *   rows and dims in P·V (e.g. 4 rows × 1/8 of the dims, where Q·Kᵀ had 1 row × 1/2), so each
 *   V vec4 feeds more rows than each K vec4. A thread reads its P·V rows' summed scores from the
 *   partials every thread published, and computes their softmax; V is staged for that mapping.
 *
 * The next K and V block is loaded into registers while the kernel computes on the staged one
 * (the key index clamped to the block, keys past its end masked). With `doubleBuffer` there are
 * two K/V tiles: the kernel stores the next block into the other tile after it has used the
 * current one, so a key block takes one barrier fewer (one with one slice and no P·V mapping of
 * its own, else two),
 * and a range one more (its first block is stored before its walk). Scores are pre-scaled by
 * log2(e)/√d so the softmax uses exp2; with `math: "f16"` q, the staged tiles and both products
 * are f16 (vec4<f16> FMAs; where a thread owns an even number of vec4s the tiles hold units of
 * 8 halves, a mat2x4<f16>, so one 16-byte workgroup load feeds two of them; score partial sums
 * flushed to f32 every `f16ScoreChunk` dims or the
 * largest divisor of a thread's share below it, a block's P·V added to the f32 output once),
 * the softmax statistics stay f32. The kernel writes the output and the
 * natural-log log-sum-exp of every row (or, for a part of a split sub-tile, a partial output).
 *
 * @module
 */

import type { KernelMath } from "./attention_tiling.ts";
import {
  flashAttentionHeaderWgsl,
  subTileMainWgsl,
  wgslFloat,
} from "./flash_attention_shared_wgsl.ts";

/** Compile-time shape of the row-block kernel. */
export interface RowBlockKernelConfig {
  /** Head dimension d (multiple of 4 · `slices`, and of 4 · `pvSlices` when given). */
  headDim: number;
  /** Storage type of Q, K and V. */
  precision: "f32" | "f16";
  /** Arithmetic of the two products (softmax statistics and outputs are always f32). */
  math: KernelMath;
  /** f16 math: dims summed in f16 before a score's partial sum is flushed to f32. */
  f16ScoreChunk: number;
  /** Query rows per workgroup. */
  blockQ: number;
  /**
   * Keys staged in workgroup memory per step (unrolled; a multiple of 4 when `slices` > 1 or
   * P·V is mapped apart).
   */
  blockK: number;
  /** Query rows a thread owns (divides `blockQ`). */
  rowsPerThread: number;
  /** Threads sharing a row group's head dim (divides d / 4). */
  slices: number;
  /** Compile the row-mask path (forms with MASK_ROWS ranges, e.g. MoC). */
  rowMasks: boolean;
  /** Compile the per-key token-mask path (forms with MASK_TOKENS ranges). */
  tokenMasks: boolean;
  /** PV-skip threshold λ (form/form.ts `pvSkipThreshold`); absent or null: not compiled. */
  pvSkip?: number | null;
  /** Two K/V tiles: the next block is stored in one while the kernel computes on the other. */
  doubleBuffer?: boolean;
  /**
   * The slices of a row group sit in different warps (32 threads of one slice, 32 row groups,
   * a warp), so a warp's K and V loads all read one address; needs row groups in multiples of 32.
   */
  warpSlices?: boolean;
  /** P·V mapping, f32 math only: query rows a thread owns there (default `rowsPerThread`). */
  pvRowsPerThread?: number;
  /** P·V mapping: threads sharing a row group's output dims (default `slices`). */
  pvSlices?: number;
}

/** Lines `line(0…count−1)` joined for the template. */
function each(count: number, line: (i: number) => string, sep = "\n      "): string {
  return Array.from({ length: count }, (_, i) => line(i)).join(sep);
}

/** Threads of a row-block workgroup: `blockQ / rowsPerThread` row groups of `slices` threads. */
export function rowBlockThreads(shape: { blockQ: number; rowsPerThread: number; slices: number }) {
  return (shape.blockQ / shape.rowsPerThread) * shape.slices;
}

/**
 * The row-block kernel's WGSL for `config` (bindings: FLASH_ATTENTION_BINDINGS of
 * kernels/flash_attention_shared_wgsl.ts).
 */
export function rowBlockKernelWgsl(config: RowBlockKernelConfig): string {
  const { headDim, precision, math, blockQ, blockK, rowMasks, tokenMasks } = config;
  const { rowsPerThread: rows, slices } = config;
  const pvSkip = config.pvSkip ?? null;
  const d4 = headDim / 4;
  const own4 = d4 / slices; // vec4s of the head dim a thread owns
  const threads = rowBlockThreads(config);
  const groups = blockQ / rows;
  if (!Number.isInteger(own4) || !Number.isInteger(groups) || (slices > 1 && blockK % 4)) {
    throw new RangeError(
      `row-block kernel: slices ${slices} must divide d/4 = ${d4}, rowsPerThread ${rows} must ` +
        `divide blockQ ${blockQ}, and blockK ${blockK} must be a multiple of 4 when slices > 1`,
    );
  }
  const f16Math = math === "f16";
  const double = config.doubleBuffer ?? false;
  // P·V may map threads to rows and dims apart from Q·Kᵀ (`split`): a thread then reads the
  // summed scores of its P·V rows from the partials every thread published.
  const pvRows = config.pvRowsPerThread ?? rows;
  const pvSlices = config.pvSlices ?? slices;
  const split = pvRows !== rows || pvSlices !== slices;
  const pvOwn4 = d4 / pvSlices;
  const pvGroups = blockQ / pvRows;
  if (
    split && (f16Math || !Number.isInteger(pvOwn4) || !Number.isInteger(pvGroups) ||
      pvGroups * pvSlices !== threads || blockK % 4)
  ) {
    throw new RangeError(
      `row-block kernel: a P·V mapping of ${pvRows} rows × ${pvSlices} slices needs f32 math, ` +
        `the workgroup's ${threads} threads, slices dividing d/4 = ${d4} and blockK ${blockK} a ` +
        `multiple of 4`,
    );
  }
  const exchange = slices > 1 || split; // partial scores go through workgroup memory
  if (config.warpSlices && (groups % 32 || pvGroups % 32)) {
    throw new RangeError(
      `row-block kernel: slices across warps need row groups in multiples of 32 (got ${groups}` +
        `${split ? ` and ${pvGroups}` : ""})`,
    );
  }
  // f16 math with an even share: K and V are staged as mat2x4<f16>, 8 halves a unit, and a
  // thread owns pairs of neighbouring vec4s (`unit` = 2), so one 16-byte workgroup load feeds
  // two vec4<f16>; single vec4<f16> loads left half the load width unused.
  const unit = f16Math && own4 % 2 === 0 ? 2 : 1;
  const ownUnits = own4 / unit;
  const arith = f16Math ? "f16" : "f32"; // q and the products
  const tileElement = unit === 2 ? "mat2x4<f16>" : `vec4<${arith}>`; // a staged unit
  // A staged unit: the only dynamic indices are the tile in use (double buffer) and the slice.
  const staged = (name: string, index: number, slice = "slice") =>
    double ? `${name}[buf][${index}u][${slice}]` : `${name}[${index}u][${slice}]`;
  const pvSlice = split ? "pvSlice" : "slice"; // the P·V mapping's slice and group
  const pvGroup = split ? "pvGroup" : "group";
  // The thread's vec4s of staged unit `m` of key `j` of K (Q·Kᵀ's mapping) or V (P·V's), as
  // `let k<i> = …` or `let v<i> = …`.
  const unpack = (name: "k" | "v", j: number, m: number) => {
    const at = name === "k"
      ? staged("kTile", j * ownUnits + m)
      : staged("vTile", j * (pvOwn4 / unit) + m, pvSlice);
    return unit === 2
      ? `let ${name}w${m} = ${at};
        let ${name}${2 * m} = ${name}w${m}[0];
        let ${name}${2 * m + 1} = ${name}w${m}[1];`
      : `let ${name}${m} = ${at};`;
  };
  // f16 math: vec4s summed before a flush, at most the chunk and a divisor of the thread's share.
  let chunk4 = f16Math ? Math.max(1, Math.min(Math.floor(config.f16ScoreChunk / 4), own4)) : own4;
  while (own4 % chunk4 !== 0) chunk4--;
  const perRow = (line: (r: number) => string, sep?: string) => each(rows, line, sep);
  const perKey = (line: (j: number) => string, sep?: string) => each(blockK, line, sep);
  const perDim = (line: (i: number) => string, sep?: string) => each(own4, line, sep);
  // The P·V mapping's rows and output vec4s (the Q·Kᵀ mapping's unless `split`).
  const pvPerRow = (line: (r: number) => string, sep?: string) => each(pvRows, line, sep);
  const pvPerDim = (line: (i: number) => string, sep?: string) => each(pvOwn4, line, sep);
  const pvBoth = (line: (r: number, i: number) => string) =>
    pvPerRow((r) => pvPerDim((i) => line(r, i)));
  // Offset of the thread's i-th vec4 from its first, `slice · unit`, with `n` slices.
  const dim = (i: number, n = slices) => `${Math.floor(i / unit) * n * unit + (i % unit)}u`;
  // Q·Kᵀ rows: the P·V rows unless `split`.
  const qRow = (r: number) => split ? `qRow${r}` : `row${r}`;
  const keys4 = blockK / 4;
  const units = blockK * (d4 / unit); // staged units of a key block
  const stageSteps = Math.ceil(units / threads);

  const rowMaskCheck = (r: number) =>
    rowMasks
      ? `if (range.w == ROW_MASK) {
        on${r} = on${r} && ((maskWords[range.z + tileRow${r} / 32u] >> (tileRow${r} % 32u)) & 1u) == 1u;
      }`
      : "";
  const keyValid = (r: number, j: number) =>
    tokenMasks
      ? `on${r} && ${j}u < n && (range.w != TOKEN_MASK || tokenBit(range, tileRow${r}, rowWords, kb + ${j}u))`
      : `on${r} && ${j}u < n`;
  // The block at `start` loaded into registers (kIn*, vIn*), every load issued before any use:
  // the loop loads the next block while it computes on the staged one.
  const prefetch = (start: string) =>
    `{
        let last = min(BLOCK_K, range.y - ${start}) * ${d4 / unit}u - 1u;
        ${
      each(stageSteps, (u) =>
        `let src${u} = ${start} * D4 + min(lid + ${u * threads}u, last) * ${unit}u;
        ${
          each(unit, (h) =>
            `kIn${u}_${h} = k[src${u} + ${h}u];
        vIn${u}_${h} = v[src${u} + ${h}u];`, "\n        ")
        }`, "\n        ")
    }
      }`;
  // Flat unit index f = key · d / (4 · unit) + c, with c = m · SLICES + slice, is
  // [f / SLICES][slice] in K (and [f / PV_SLICES][pvSlice] in V).
  const stagedValue = (name: string, u: number) =>
    unit === 2
      ? `mat2x4<f16>(vec4<f16>(${name}${u}_0), vec4<f16>(${name}${u}_1))`
      : `vec4<${arith}>(${name}${u}_0)`;
  const staging = (into: string) =>
    each(stageSteps, (u) => {
      const store = `{
        let f = lid + ${u * threads}u;
        kTile${into}[f / SLICES][f % SLICES] = ${stagedValue("kIn", u)};
        vTile${into}[f / PV_SLICES][f % PV_SLICES] = ${stagedValue("vIn", u)};
      }`;
      return (u + 1) * threads <= units ? store : `if (lid + ${u * threads}u < ${units}u) ${store}`;
    });
  // One key: its K vec4s loaded once and dotted with every owned row.
  const scoreOfKey = (j: number) => {
    const loads = each(ownUnits, (m) => unpack("k", j, m), "\n        ");
    const sums = f16Math
      ? perRow((r) =>
        `var d${r} = 0.0;
        ${
          each(
            own4 / chunk4,
            (c) =>
              `{
          var h = vec4<${arith}>(0.0);
          ${each(chunk4, (u) => `h = fma(q${r}_${c * chunk4 + u}, k${c * chunk4 + u}, h);`, " ")}
          let pair = h.xy + h.zw;
          d${r} = d${r} + f32(pair.x) + f32(pair.y);
        }`,
            "\n        ",
          )
        }
        s${r}_${j} = d${r};`, "\n        ")
      : perRow((r) =>
        `var d${r} = vec4<f32>(0.0);
        ${perDim((i) => `d${r} = fma(q${r}_${i}, k${i}, d${r});`, " ")}
        s${r}_${j} = d${r}.x + d${r}.y + d${r}.z + d${r}.w;`, "\n        ");
    return `{
        ${loads}
        ${sums}
      }`;
  };
  // Partial scores of every (row, 4 keys) as one vec4: [slice][row, keys][group], so a warp's
  // reads of one slice's partials are consecutive.
  const partialIndex = (r: number, j4: number) => `${r * keys4 + j4}u`;
  const publish = exchange
    ? perRow(
      (r) =>
        each(keys4, (j4) =>
          `partials[slice][${partialIndex(r, j4)}][group] = vec4<f32>(${
            [0, 1, 2, 3].map((x) =>
              `s${r}_${4 * j4 + x}`
            ).join(", ")
          });`),
      "\n        ",
    )
    : "";
  // The summed scores of P·V row r, 4 keys at a time: of Q·Kᵀ row slot `r` and group `group`
  // unless `split`, else of the slot and group that own the same row of the block (`pvSrc`).
  const gather = pvPerRow((r) =>
    each(keys4, (j4) =>
      `{
          let sum = ${
        each(
          slices,
          (t) =>
            split
              ? `partials[${t}u][pvSlot${r} * ${keys4}u + ${j4}u][pvSrc${r}]`
              : `partials[${t}u][${partialIndex(r, j4)}][group]`,
          " + ",
        )
      };
          ${[0, 1, 2, 3].map((x) => `s${r}_${4 * j4 + x} = sum.${"xyzw"[x]};`).join(" ")}
        }`, "\n        "), "\n        ");
  const softmax = pvPerRow(
    (r) =>
      `${perKey((j) => `s${r}_${j} = select(EMPTY, s${r}_${j}, ${keyValid(r, j)});`, "\n        ")}
        let blockMax${r} = ${
        Array.from({ length: blockK }, (_, j) => `s${r}_${j}`).reduce((a, b) => `max(${a}, ${b})`)
      };
        let newMax${r} = max(rowMax${r}, blockMax${r});${
        pvSkip === null ? "" : `
        let skip${r} = blockMax${r} - rowMax${r} < -PV_SKIP; // nothing of this step is added`
      }
        let correction${r} = exp2(rowMax${r} - newMax${r});
        let pMax${r} = select(0.0, newMax${r}, newMax${r} > EMPTY); // all masked: p = 0
        rowSum${r} = rowSum${r} * correction${r};
        ${
        perKey((j) =>
          `let p${r}_${j} = ${
            pvSkip === null
              ? `exp2(s${r}_${j} - pMax${r})`
              : `select(exp2(s${r}_${j} - pMax${r}), 0.0, skip${r})`
          };
        rowSum${r} = rowSum${r} + p${r}_${j};`, "\n        ")
      }
        rowMax${r} = newMax${r};`,
    "\n        ",
  );
  // f32: rescale, then one FMA per (key, row, owned vec4). f16: per owned vec4 the block's P·V
  // is summed in f16 (keys inner) and added to the rescaled f32 output.
  const pv = f16Math
    ? `${pvPerRow((r) => perKey((j) => `let ph${r}_${j} = vec4<f16>(f16(p${r}_${j}));`, " "))}
        ${
      each(pvOwn4 / unit, (m) =>
        `{
          ${pvPerRow((r) => each(unit, (h) => `var h${r}_${h} = vec4<f16>(0.0);`, " "), " ")}
          ${
          perKey((j) =>
            `{
            ${unpack("v", j, m)}
            ${
              pvPerRow(
                (r) =>
                  each(
                    unit,
                    (h) => `h${r}_${h} = fma(ph${r}_${j}, v${m * unit + h}, h${r}_${h});`,
                    " ",
                  ),
                " ",
              )
            }
          }`, "\n          ")
        }
          ${
          pvPerRow(
            (r) =>
              each(unit, (h) => {
                const i = m * unit + h;
                return `acc${r}_${i} = fma(acc${r}_${i}, vec4<f32>(correction${r}), vec4<f32>(h${r}_${h}));`;
              }, " "),
            " ",
          )
        }
        }`, "\n        ")
    }`
    : `${pvBoth((r, i) => `acc${r}_${i} = acc${r}_${i} * correction${r};`)}
        ${
      perKey((j) =>
        `{
          ${pvPerRow((r) => `let pv${r} = vec4<f32>(p${r}_${j});`, " ")}
          ${
          pvPerDim((i) =>
            `{
            ${unpack("v", j, i)}
            ${pvPerRow((r) => `acc${r}_${i} = fma(pv${r}, v${i}, acc${r}_${i});`, " ")}
          }`, "\n          ")
        }
        }`, "\n        ")
    }`;
  const zeroScoresOf = (rowsOf: typeof perRow) =>
    rowsOf((r) => perKey((j) => `var s${r}_${j} = 0.0;`, " "), "\n      ");
  const zeroScores = split ? "" : zeroScoresOf(perRow);
  const pvStep = pvSkip === null ? pv : `if (!(${pvPerRow((r) => `skip${r}`, " && ")})) {
        ${pv}
        }`;
  // `split`: each mapping's scores live in their own block.
  const scoring = split
    ? `if (${perRow((r) => `qActive${r}`, " || ")}) {
        ${zeroScoresOf(perRow)}
        ${perKey(scoreOfKey, "\n      ")}
        ${publish}
      }
      workgroupBarrier();
      if (anyOn) {
        ${zeroScoresOf(pvPerRow)}
        ${gather}
        ${softmax}
        ${pvStep}
      }`
    : `if (anyOn) {
        ${perKey(scoreOfKey, "\n      ")}
        ${publish}
      }
      ${exchange ? "workgroupBarrier();" : ""}
      if (anyOn) {
        ${exchange ? gather : ""}
        ${softmax}
        ${pvStep}
      }`;
  // One tile: a barrier before the block is stored (the last block's readers are done) and one
  // after (it is complete), then the next block's loads are issued.
  const singleBufferedWalk = `if (range.x < range.y) ${prefetch("range.x")}
    for (var kb = range.x; kb < range.y; kb += BLOCK_K) {
      let n = min(BLOCK_K, range.y - kb);
      workgroupBarrier();
      ${staging("")}
      workgroupBarrier();
      if (kb + BLOCK_K < range.y) ${prefetch("(kb + BLOCK_K)")}
      ${zeroScores}
      ${scoring}
    }`;
  // Two tiles: the range's first block is stored into tile 0 (every step of the previous range
  // ended with a barrier, so nobody reads a tile then); each step issues the next block's loads,
  // computes on tile `buf`, stores the next block into the other tile and ends with the one
  // barrier that makes it complete.
  const doubleBufferedWalk = `if (range.x < range.y) {
      ${prefetch("range.x")}
      ${staging("[0]")}
    }
    workgroupBarrier();
    var buf = 0u;
    for (var kb = range.x; kb < range.y; kb += BLOCK_K) {
      let n = min(BLOCK_K, range.y - kb);
      let more = kb + BLOCK_K < range.y;
      if (more) ${prefetch("(kb + BLOCK_K)")}
      ${zeroScores}
      ${scoring}
      if (more) {
        ${staging("[1u - buf]")}
      }
      workgroupBarrier();
      buf = 1u - buf;
    }`;
  const epilogue = pvPerRow((r) =>
    `if (active${r}) {
    let inv = rowInverse(rowSum${r});
    let rowLse = logSumExp(rowMax${r}, rowSum${r});
    let localRow = ${pvGroup} + ${r * pvGroups}u;
    let dest = select(st.partSlot * BLOCK_Q + localRow, row${r}, st.partSlot == NO_PART);
    let outBase = dest * D4 + ${pvSlice} * ${unit}u;
    if (st.partSlot == NO_PART) {
      ${pvPerDim((i) => `outRows[outBase + ${dim(i, pvSlices)}] = acc${r}_${i} * inv;`, "\n      ")}
      if (${pvSlice} == 0u) {
        lse[dest] = rowLse;
      }
    } else {
      ${
      pvPerDim(
        (i) => `partialRows[outBase + ${dim(i, pvSlices)}] = acc${r}_${i} * inv;`,
        "\n      ",
      )
    }
      if (${pvSlice} == 0u) {
        partialLse[dest] = rowLse;
      }
    }
  }`, "\n  ");
  // A thread's slice and row group: neighbours share a row group, or with `warpSlices` a warp
  // holds one slice of 32 row groups.
  const sliceAndGroup = (slice: string, group: string, count: string) =>
    config.warpSlices
      ? `let ${slice} = (lid / 32u) % ${count};
  let ${group} = lid % 32u + lid / (32u * ${count}) * 32u;`
      : `let ${slice} = lid % ${count};
  let ${group} = lid / ${count};`;
  // A P·V row's index, flags and statistics; its output accumulators; a Q·Kᵀ row's q.
  const rowHead = (r: number) =>
    `let row${r} = st.rowStart + ${pvGroup} + ${r * pvGroups}u;
  let active${r} = row${r} < st.rowEnd;
  let tileRow${r} = row${r} - st.tileStart;
  var rowMax${r} = EMPTY;
  var rowSum${r} = 0.0;`;
  const accs = (r: number) => pvPerDim((i) => `var acc${r}_${i} = vec4<f32>(0.0);`, " ");
  const qs = (r: number) => perDim((i) => `var q${r}_${i} = vec4<${arith}>(0.0);`, " ");
  const qLoad = (r: number) =>
    `if (${split ? `qActive${r}` : `active${r}`}) {
    let qBase = ${qRow(r)} * D4 + slice * ${unit}u;
    ${
      perDim(
        (i) => `q${r}_${i} = vec4<${arith}>(vec4<f32>(q[qBase + ${dim(i)}]) * params.scaleLog2);`,
        "\n    ",
      )
    }
  }`;
  return /* wgsl */ `
${precision === "f16" || f16Math ? "enable f16;" : ""}

const D4: u32 = ${d4}u;            // head dim in vec4s
const BLOCK_Q: u32 = ${blockQ}u;   // query rows per workgroup
const BLOCK_K: u32 = ${blockK}u;   // keys staged per step
${
    pvSkip === null
      ? ""
      : `const PV_SKIP: f32 = ${wgslFloat(pvSkip)}; // a step this far below the row max is skipped`
  }
const SLICES: u32 = ${slices}u;    // threads sharing a row group's head dim in Q·Kᵀ
const PV_SLICES: u32 = ${pvSlices}u; // and in P·V
${flashAttentionHeaderWgsl(precision)}

${
    ["kTile", "vTile"].map((name) => {
      const [n, units] = name === "kTile" ? ["SLICES", ownUnits] : ["PV_SLICES", pvOwn4 / unit];
      const one = `array<array<${tileElement}, ${n}>, ${blockK * units}>`;
      return `var<workgroup> ${name}: ${double ? `array<${one}, 2>` : one};`;
    }).join("\n")
  }
${
    exchange
      ? `var<workgroup> partials: array<array<array<vec4<f32>, ${groups}>, ${
        rows * keys4
      }>, SLICES>;`
      : ""
  }

fn tokenBit(range: vec4<u32>, tileRow: u32, rowWords: u32, key: u32) -> bool {
  let rel = key - range.x;
  return ((maskWords[range.z + tileRow * rowWords + rel / 32u] >> (rel % 32u)) & 1u) == 1u;
}

${subTileMainWgsl(threads)}
  ${sliceAndGroup("slice", "group", "SLICES")}
  ${
    split
      ? `${sliceAndGroup("pvSlice", "pvGroup", "PV_SLICES")}
  ${
        pvPerRow((r) =>
          `let pvSlot${r} = (pvGroup + ${
            r * pvGroups
          }u) / ${groups}u; // its Q·Kᵀ row slot and group
  let pvSrc${r} = (pvGroup + ${r * pvGroups}u) % ${groups}u;`, "\n  ")
      }
  ${
        perRow((r) =>
          `let qRow${r} = st.rowStart + group + ${r * groups}u;
  let qActive${r} = qRow${r} < st.rowEnd;`, "\n  ")
      }`
      : ""
  }
  ${
    split
      ? `${pvPerRow((r) => `${rowHead(r)}\n  ${accs(r)}`, "\n  ")}
  ${perRow((r) => `${qs(r)}\n  ${qLoad(r)}`, "\n  ")}`
      : perRow((r) => `${rowHead(r)}\n  ${qs(r)}\n  ${accs(r)}\n  ${qLoad(r)}`, "\n  ")
  }

  for (var r = st.rangeBegin; r < st.rangeEnd; r++) {
    let range = ranges[r];
    ${pvPerRow((i) => `var on${i} = active${i};\n    ${rowMaskCheck(i)}`, "\n    ")}
    let anyOn = ${pvPerRow((i) => `on${i}`, " || ")};
    let rowWords = (range.y - range.x + 31u) / 32u;
    ${
    each(
      stageSteps * unit,
      (x) => {
        const name = `${Math.floor(x / unit)}_${x % unit}`;
        return `var kIn${name}: vec4<Stored>;\n    var vIn${name}: vec4<Stored>;`;
      },
      "\n    ",
    )
  }
    ${double ? doubleBufferedWalk : singleBufferedWalk}
  }

  ${epilogue}
}
`;
}

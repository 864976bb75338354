/**
 * The kernel's row block fitted to the forms it runs (docs/metrics.md, "Kernel efficiency"). A
 * workgroup's rows walk one key list together, so a tile shorter than the tiling's `blockQ` (or
 * a tile's last, partial block) leaves rows idle while the others compute: VSA's 64-query cubes
 * in 128-row workgroups idle half of every workgroup, SVG2's variable clusters idle the tail of
 * each cluster. The tiling (tuned, cached or given) is narrowed to a row block that fits:
 *
 * - the row blocks a form may ask for are blockQ, blockQ/2, … down to {@link MIN_ROW_BLOCK} rows,
 *   and only those that divide its query block (`ExecutionForm.queryBlock`) where it states one
 *   and any of them does;
 * - of those it asks for the widest at which its row efficiency (executed pairs / pairs at that
 *   row block, {@link rowEfficiency}) reaches {@link MIN_ROW_EFFICIENCY}, else the narrowest;
 * - the narrowest block any form of the program asks for wins;
 * - a tuned tiling is then weighed against the tunings at each narrower row block down to that
 *   one, by time ({@link quickestForForms}): the narrower block is kept only where it saves time.
 *
 * Forms whose tiles already fit (dense, STA's and Radial's long tiles) keep the tiling as it is.
 *
 * @module
 */
import { attendedPairs, executedPairs, type ExecutionForm, tiledPairs } from "../form/form.ts";
import {
  type AttentionTiling,
  type KernelMath,
  type TilingLimits,
  tilingProblem,
} from "./attention_tiling.ts";
import type { TilingChoice } from "./attention_tuner.ts";

/** Row efficiency the forms must reach at a row block before it is narrowed further. */
export const MIN_ROW_EFFICIENCY = 0.9;

/**
 * The narrowest row block narrowing goes to: the row kernels' workgroups stay at least a 32-lane
 * warp wide, and K/V staged in workgroup memory is shared by at least 32 rows.
 */
export const MIN_ROW_BLOCK = 32;

/** blockQ, blockQ/2, … while whole and at least {@link MIN_ROW_BLOCK} (blockQ itself always). */
function halvings(blockQ: number): number[] {
  const blocks = [blockQ];
  for (let b = blockQ / 2; Number.isInteger(b) && b >= MIN_ROW_BLOCK; b /= 2) blocks.push(b);
  return blocks;
}

/**
 * Executed pairs of `form` over the pairs a kernel of `rowBlock` rows runs: 1 when no row idles.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { FormBuilder } from "../form/form.ts";
 * import { rowEfficiency } from "./row_block.ts";
 * const form = new FormBuilder(64, 64).range(0, 64).endTile(64).build();
 * equal(rowEfficiency(form, 128), 0.5);
 * equal(rowEfficiency(form, 64), 1);
 * ```
 */
export function rowEfficiency(form: ExecutionForm, rowBlock: number): number {
  const tiled = tiledPairs(form, rowBlock);
  return tiled === 0 ? 1 : executedPairs(form) / tiled;
}

/** The row block one form asks of a kernel whose tiling has `blockQ` rows (see module doc). */
function formRowBlock(form: ExecutionForm, blockQ: number): number {
  const blocks = halvings(blockQ);
  const queryBlock = form.queryBlock ?? null;
  const dividing = queryBlock === null ? [] : blocks.filter((b) => queryBlock % b === 0);
  const candidates = dividing.length ? dividing : blocks;
  return candidates.find((b) => rowEfficiency(form, b) >= MIN_ROW_EFFICIENCY) ??
    candidates[candidates.length - 1];
}

/**
 * The row block `forms` ask of a kernel whose tiling has `blockQ` rows: the narrowest any of
 * them asks for (see module doc).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { denseForm, FormBuilder } from "../form/form.ts";
 * import { rowBlockFor } from "./row_block.ts";
 * const cubes = new FormBuilder(128, 64).range(0, 64).endTile(64).range(64, 128).endTile(128)
 *   .build();
 * equal(rowBlockFor([denseForm(4096)], 128), 128);
 * equal(rowBlockFor([{ ...cubes, queryBlock: 64 }], 128), 64);
 * ```
 */
export function rowBlockFor(forms: ExecutionForm[], blockQ: number): number {
  return Math.min(...forms.map((form) => formRowBlock(form, blockQ)));
}

/**
 * `tiling` with its row block narrowed to what `forms` ask for ({@link rowBlockFor}); where the
 * narrowed tiling cannot run (`kernel`'s head dim, arithmetic and device limits), the next wider
 * one that can; `tiling` itself when none can or none is asked for.
 */
export function fitTilingToForms(
  tiling: AttentionTiling,
  forms: ExecutionForm[],
  kernel: { headDim: number; math: KernelMath; limits: TilingLimits },
): AttentionTiling {
  const want = rowBlockFor(forms, tiling.blockQ);
  for (const blockQ of halvings(tiling.blockQ).filter((b) => b >= want).reverse()) {
    if (blockQ === tiling.blockQ) break;
    const narrowed = { ...tiling, blockQ } as AttentionTiling;
    if (tilingProblem(narrowed, kernel.headDim, kernel.math, kernel.limits) === null) {
      return narrowed;
    }
  }
  return tiling;
}

/**
 * Of `choices` (tilings with their time on the tuner's dense problem, ms), the one that runs
 * `forms` in the least time: dense time × the pairs the forms run at its row block
 * ({@link tiledPairs}: idle rows included). The first of equal ones. A narrower row block idles
 * fewer rows but may run each pair slower (on an H200 at d = 128, 32-row tilings took 1.27× the
 * time of 64-row ones: docs/results/nvidia-h200/kernel-v4.md), so the rows are weighed by time.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { FormBuilder } from "../form/form.ts";
 * import { parseTiling } from "./attention_tiling.ts";
 * import { quickestForForms } from "./row_block.ts";
 * const wide = { tiling: parseTiling("rows64x8.r2s4w"), denseMs: 70 };
 * const narrow = { tiling: parseTiling("rows32x8.r1s2"), denseMs: 89 };
 * const tile30 = new FormBuilder(30, 30).range(0, 30).endTile(30).build();
 * const tile100 = new FormBuilder(100, 100).range(0, 100).endTile(100).build();
 * equal(quickestForForms([wide, narrow], [tile30]), narrow); // 64·30·70 > 32·30·89
 * equal(quickestForForms([wide, narrow], [tile100]), wide); // 128·100·70 < 128·100·89
 * ```
 */
export function quickestForForms<T extends { tiling: AttentionTiling; denseMs: number }>(
  choices: T[],
  forms: ExecutionForm[],
): T {
  if (!choices.length) throw new RangeError("quickestForForms: no tilings to choose from");
  const times = choices.map((choice) =>
    choice.denseMs * forms.reduce((sum, form) => sum + tiledPairs(form, choice.tiling.blockQ), 0)
  );
  return choices[times.indexOf(Math.min(...times))];
}

/**
 * The tuned `chosen` tiling, or one tuned apart at a narrower row block (`tuneWithin(rows)` for
 * rows = chosen's blockQ / 2, / 4, … down to `maxRows`), whichever runs `forms` in the least time
 * ({@link quickestForForms}; tunings without a measured time are left out). A narrower winner
 * names `chosen` as the tiling it was narrowed from.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { FormBuilder } from "../form/form.ts";
 * import { parseTiling } from "./attention_tiling.ts";
 * import { quickestRowBlock } from "./row_block.ts";
 * const tuned = { tiling: parseTiling("rows64x8.r2s4w"), source: "tuned" as const, denseMs: 70 };
 * const at32 = { tiling: parseTiling("rows32x8.r1s2"), source: "tuned" as const, denseMs: 89 };
 * const short = new FormBuilder(30, 30).range(0, 30).endTile(30).build(); // 64·70 > 32·89
 * const choice = await quickestRowBlock(tuned, { forms: [short], maxRows: 32 }, () =>
 *   Promise.resolve(at32));
 * equal(choice.tiling, at32.tiling);
 * equal(choice.narrowedFrom, tuned.tiling);
 * ```
 */
export async function quickestRowBlock(
  chosen: TilingChoice & { denseMs: number },
  target: { forms: ExecutionForm[]; maxRows: number },
  tuneWithin: (rows: number) => Promise<TilingChoice>,
): Promise<TilingChoice> {
  const timed = [chosen];
  const narrower = halvings(chosen.tiling.blockQ).slice(1).filter((b) => b >= target.maxRows);
  for (const rows of narrower) {
    const within = await tuneWithin(rows);
    if (within.denseMs !== undefined) timed.push({ ...within, denseMs: within.denseMs });
  }
  const quickest = quickestForForms(timed, target.forms);
  return quickest === chosen ? chosen : { ...quickest, narrowedFrom: chosen.tiling };
}

/** The forms of one kernel program and the row block it ran them at. */
export interface TiledForms {
  /** One form for all heads, or one per head. */
  forms: ExecutionForm[];
  /** The program's row block (its tiling's `blockQ`). */
  rowBlock: number;
}

/**
 * Kernel efficiency of a case: attended pairs over the pairs its kernels run at their row blocks
 * ({@link tiledPairs}), all heads and branches (a single form counts once per head).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { FormBuilder } from "../form/form.ts";
 * import { kernelEfficiency } from "./row_block.ts";
 * const cube = new FormBuilder(64, 64).range(0, 64).endTile(64).build();
 * equal(kernelEfficiency([{ forms: [cube], rowBlock: 128 }], 8), 0.5);
 * ```
 */
export function kernelEfficiency(programs: TiledForms[], heads: number): number {
  let attended = 0;
  let tiled = 0;
  for (const { forms, rowBlock } of programs) {
    const weight = forms.length === 1 ? heads : 1;
    for (const form of forms) {
      attended += attendedPairs(form) * weight;
      tiled += tiledPairs(form, rowBlock) * weight;
    }
  }
  return tiled === 0 ? 1 : attended / tiled;
}

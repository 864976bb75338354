/**
 * VSA's execution forms (docs/methods.md, "Video Sparse Attention"): the fine branch in
 * cube-major order — a query tile per cube attending the key cubes its routing chose plus all
 * text, text queries attending everything — and the coarse branch, dense attention over the cube
 * means (a pooled branch, form/pooling.ts).
 *
 * @module
 */
import { denseForm, type ExecutionForm, FormBuilder } from "../form/form.ts";
import { VSA_PERMUTATION, type VsaCubes } from "./vsa_cubes.ts";
import type { VsaSelection } from "./routing/vsa_reference.ts";

/** Sorted [start, end) ranges with touching ones merged. */
function mergedRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last && last[1] === start) last[1] = end;
    else merged.push([start, end]);
  }
  return merged;
}

/** Adds text query tiles of at most `rows` queries over [start, end), each attending all L. */
function addTextTiles(builder: FormBuilder, text: [number, number], rows: number, L: number) {
  for (let t0 = text[0]; t0 < text[1]; t0 += rows) {
    builder.range(0, L).endTile(Math.min(text[1], t0 + rows));
  }
}

/**
 * The fine branch of one head: a tile per query cube over its chosen cubes and the text, text
 * tiles of `blockSize` queries; the form's query block is `blockSize` (the cube's volume).
 */
export function vsaFineForm(
  cubes: VsaCubes,
  selection: VsaSelection,
  blockSize: number,
): ExecutionForm {
  const L = cubes.tokens;
  const { cubeStart, text } = cubes;
  const builder = new FormBuilder(L, blockSize);
  if (text[0] === 0) addTextTiles(builder, text, blockSize, L);
  for (let c = 0; c < cubes.cubes; c++) {
    const ranges: [number, number][] = [];
    for (let j = 0; j < selection.k; j++) {
      const key = selection.chosen[c * selection.k + j];
      ranges.push([cubeStart[key], cubeStart[key + 1]]);
    }
    if (text[1] > text[0]) ranges.push([text[0], text[1]]);
    for (const [start, end] of mergedRanges(ranges)) builder.range(start, end);
    builder.endTile(cubeStart[c + 1]);
  }
  if (text[0] > 0) addTextTiles(builder, text, blockSize, L);
  // Whole cubes and text tiles hold `blockSize` (the cube's volume) rows: the kernel's row block.
  return { ...builder.build(cubes.permutation, VSA_PERMUTATION), queryBlock: blockSize };
}

/** The coarse branch: every cube mean attends every cube mean (C pooled tokens). */
export function vsaCoarseForm(cubes: VsaCubes, blockSize: number): ExecutionForm {
  return denseForm(cubes.cubes, blockSize);
}

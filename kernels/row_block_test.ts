import assert from "node:assert/strict";
import { denseForm, type ExecutionForm, FormBuilder, validateForm } from "../form/form.ts";
import { parseTiling, tilingName } from "./attention_tiling.ts";
import {
  fitTilingToForms,
  kernelEfficiency,
  MIN_ROW_BLOCK,
  MIN_ROW_EFFICIENCY,
  rowBlockFor,
  rowEfficiency,
} from "./row_block.ts";

const KERNEL = {
  headDim: 128,
  math: "f32" as const,
  limits: { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024 },
};

/** Tiles of the given row counts, each attending its own rows as keys (a block diagonal). */
function tilesOf(rows: number[]): ExecutionForm {
  const tokens = rows.reduce((a, b) => a + b, 0);
  const builder = new FormBuilder(tokens, 64);
  let start = 0;
  for (const n of rows) {
    builder.range(start, start + n).endTile(start + n);
    start += n;
  }
  return validateForm(builder.build());
}

Deno.test("row block: long or aligned tiles keep the tiling's rows", () => {
  assert.equal(rowBlockFor([denseForm(4096)], 128), 128);
  assert.equal(rowBlockFor([tilesOf([384, 384, 256])], 128), 128); // STA-like tiles
  const tiling = parseTiling("rows128x16.r1s2");
  assert.equal(fitTilingToForms(tiling, [denseForm(4096)], KERNEL), tiling);
});

Deno.test("row block: a stated query block is divided, whatever the efficiency rule says", () => {
  // 288-row tiles (9 × 32): at 64 rows the efficiency is exactly 0.9, which the rule accepts …
  const tiles = tilesOf([288, 288, 288]);
  assert.equal(rowEfficiency(tiles, 64), MIN_ROW_EFFICIENCY);
  assert.equal(rowBlockFor([tiles], 128), 64);
  // … but a form that states 32-row blocks gets a row block dividing them.
  assert.equal(rowBlockFor([{ ...tiles, queryBlock: 32 }], 128), 32);
  // A query block no halving divides falls back to the efficiency rule.
  assert.equal(rowBlockFor([{ ...tiles, queryBlock: 27 }], 128), 64);
});

Deno.test("row block: variable tiles narrow until idle rows are at most a tenth", () => {
  const clusters = tilesOf([200, 70, 333, 90, 150, 41]);
  const block = rowBlockFor([clusters], 128);
  assert.ok(rowEfficiency(clusters, block) >= MIN_ROW_EFFICIENCY);
  assert.ok(rowEfficiency(clusters, 2 * block) < MIN_ROW_EFFICIENCY);
  // Never below MIN_ROW_BLOCK, even when tiles are tiny.
  assert.equal(rowBlockFor([tilesOf([3, 5, 7, 2])], 128), MIN_ROW_BLOCK);
  // The narrowest form of a program wins.
  assert.equal(rowBlockFor([denseForm(4096), { ...tilesOf([64, 64]), queryBlock: 64 }], 128), 64);
});

Deno.test("fitTilingToForms narrows every kernel's tiling, or keeps it where it cannot run so", () => {
  const cubes = { ...tilesOf([64, 64, 64, 64]), queryBlock: 64 };
  for (
    const [name, narrowed, headDim] of [
      ["rows128x16.r1s2", "rows64x16.r1s2", 128],
      ["rows128x16", "rows64x16", 128],
      ["128x8.s4x4.o8x16", "64x8.s4x4.o8x16", 64],
    ] as const
  ) {
    const fitted = fitTilingToForms(parseTiling(name), [cubes], { ...KERNEL, headDim });
    assert.equal(tilingName(fitted), narrowed);
  }
  // 32 rows a thread: no narrower row block of 96 (48) holds whole threads, so it stays.
  const wide = parseTiling("rows96x16.r32s1");
  assert.equal(fitTilingToForms(wide, [cubes], KERNEL), wide);
});

Deno.test("kernel efficiency: attended pairs over pairs at each program's row block", () => {
  const cube = tilesOf([64]);
  const text = denseForm(64);
  assert.equal(kernelEfficiency([{ forms: [cube], rowBlock: 128 }], 4), 0.5);
  assert.equal(kernelEfficiency([{ forms: [cube], rowBlock: 64 }], 4), 1);
  // One form counts once per head; per-head forms once each.
  const twoPrograms = kernelEfficiency([
    { forms: [cube], rowBlock: 64 },
    { forms: [text, text], rowBlock: 128 },
  ], 2);
  assert.equal(twoPrograms, (2 * 64 * 64 + 2 * 64 * 64) / (2 * 64 * 64 + 2 * 128 * 64));
});

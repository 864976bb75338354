import assert from "node:assert/strict";
import { denseForm, type ExecutionForm, FormBuilder, validateForm } from "../form/form.ts";
import { parseTiling, tilingName } from "./attention_tiling.ts";
import {
  fitTilingToForms,
  kernelEfficiency,
  MIN_ROW_BLOCK,
  MIN_ROW_EFFICIENCY,
  quickestForForms,
  quickestRowBlock,
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

Deno.test("quickestForForms: least dense time × rows run, idle rows counted, on random tiles", () => {
  let seed = 7;
  const next = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  for (let trial = 0; trial < 50; trial++) {
    const rows = Array.from({ length: 1 + next(12) }, () => 1 + next(300));
    const choices = [128, 64, 32].map((blockQ) => ({
      tiling: parseTiling(`rows${blockQ}x8.r1s2`),
      denseMs: 50 + next(60),
    }));
    // Independently of tiledPairs: each tile of n rows attends n keys and runs ⌈n/b⌉·b rows.
    const time = (c: (typeof choices)[number]) =>
      c.denseMs *
      rows.reduce((t, n) => t + Math.ceil(n / c.tiling.blockQ) * c.tiling.blockQ * n, 0);
    const least = Math.min(...choices.map(time));
    const picked = quickestForForms(choices, [tilesOf(rows)]);
    assert.equal(time(picked), least, `rows ${rows}`);
    assert.equal(picked, choices.find((c) => time(c) === least)); // the first of equal ones
  }
  // At equal dense time the narrowest block wins where tiles are short, the widest never loses.
  const equalMs = [128, 32].map((b) => ({ tiling: parseTiling(`rows${b}x8.r1s2`), denseMs: 1 }));
  assert.equal(quickestForForms(equalMs, [tilesOf([40, 40])]).tiling.blockQ, 32);
  assert.equal(quickestForForms(equalMs, [denseForm(4096)]).tiling.blockQ, 128);
});

Deno.test("quickestRowBlock tunes each narrower row block and keeps the one that saves time", async () => {
  const tuned = { tiling: parseTiling("rows128x8.r2s2"), source: "tuned" as const, denseMs: 60 };
  const asked: number[] = [];
  const tunings: Record<number, number | undefined> = { 64: 70, 32: 89 };
  const tuneWithin = (rows: number) => {
    asked.push(rows);
    const denseMs = tunings[rows];
    return Promise.resolve({
      tiling: parseTiling(`rows${rows}x8.r1s2`),
      source: "cached" as const,
      denseMs,
    });
  };
  const target = (rows: number[]) => ({ forms: [tilesOf(rows)], maxRows: 32 });
  // 100-row tiles: 128·60 < 128·70 < 128·89 per key, the tuned tiling stays.
  assert.equal(await quickestRowBlock(tuned, target([100, 100]), tuneWithin), tuned);
  assert.deepEqual(asked, [64, 32]);
  // 60-row tiles: 128·60 = 7680 > 64·70 = 4480 < 64·89: the 64-row tuning, narrowed from the tuned.
  const at64 = await quickestRowBlock(tuned, target([60, 60]), tuneWithin);
  assert.equal(tilingName(at64.tiling), "rows64x8.r1s2");
  assert.equal(at64.narrowedFrom, tuned.tiling);
  // 30-row tiles: 32·89 = 2848 is least.
  assert.equal((await quickestRowBlock(tuned, target([30, 30]), tuneWithin)).tiling.blockQ, 32);
  // A tuning with no measured time is left out.
  tunings[32] = undefined;
  assert.equal((await quickestRowBlock(tuned, target([30, 30]), tuneWithin)).tiling.blockQ, 64);
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

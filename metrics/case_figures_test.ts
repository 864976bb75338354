import assert from "node:assert/strict";
import { denseForm, FormBuilder } from "../form/form.ts";
import { branchedFigures } from "./case_figures.ts";

Deno.test("branched figures: FLOPs summed over branches, sparsity from the summed pairs", () => {
  // L = 8, d = 4, 2 heads. Branch A: dense (64 pairs); branch B: two diagonal 4×4 blocks (32).
  const halves = new FormBuilder(8, 4).range(0, 4).endTile(4).range(4, 8).endTile(8).build();
  const figures = branchedFigures([[denseForm(8, 4)], [halves]], {
    tokens: 8,
    headDim: 4,
    heads: 2,
  });
  assert.equal(figures.flops, 4 * 4 * (64 + 32) * 2);
  assert.equal(figures.executedFlops, figures.flops);
  // 96 of 64 pairs, block densities 1 (dense) + 0.5 (two of four 4×4 blocks): both clamped at 0.
  assert.equal(figures.tokenSparsity, 0);
  assert.equal(figures.blockSparsity, 0);
  const halvesTwice = branchedFigures([[halves], [halves]], { tokens: 8, headDim: 4, heads: 2 });
  assert.equal(halvesTwice.flops, 4 * 4 * 64 * 2);
  assert.equal(halvesTwice.tokenSparsity, 0);
  const halvesOnce = branchedFigures([[halves]], { tokens: 8, headDim: 4, heads: 2 });
  assert.equal(halvesOnce.tokenSparsity, 0.5);
  assert.equal(halvesOnce.blockSparsity, 0.5);
});

Deno.test("branched figures: a pooled branch's block density counts at (its tokens / L)²", () => {
  // L = 16, blocks of 4: the main branch keeps 4 of 16 blocks (query block 0 × key block 0, query
  // blocks 1-3 × key block 1: density 1/4); a pooled branch of 4 tokens is dense (one 4×4 block,
  // density 1), which covers (4/16)² = 1/16 of an L × L grid.
  const diagonal = new FormBuilder(16, 4).range(0, 4).endTile(4).range(4, 8).endTile(16).build();
  const figures = branchedFigures([[diagonal], [denseForm(4, 4)]], {
    tokens: 16,
    headDim: 4,
    heads: 1,
  });
  assert.equal(figures.blockSparsity, 1 - (4 / 16 + 1 / 16));
  assert.equal(figures.flops, 4 * 4 * (4 * 4 + 12 * 4 + 16));
});

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  countedFlops,
  denseMask,
  type ExecutionForm,
  tileCount,
  validateForm,
} from "../form/form.ts";
import { Prng } from "../scenarios/prng.ts";
import { sparge } from "./sparge.ts";
import { spargeForm, spargeRoutingFlops } from "./sparge_form.ts";
import { pvSkippedSteps } from "./sparge_pv_skip.ts";
import { spargeRoutingReference } from "./routing/sparge_reference.ts";
import type { SpargeRoutingOptions } from "../kernels/sparge_selection.ts";

/**
 * Q and K made of runs of 13 tokens that share a direction (strength varying by run) plus
 * noise, so some blocks are self-similar and others are not, and pooled scores differ.
 */
function clusteredTensors(tokens: number, headDim: number, seed: number) {
  const prng = new Prng(seed, 0, 0);
  const make = () => {
    const x = new Float32Array(tokens * headDim);
    let direction = new Float64Array(headDim);
    let strength = 0;
    for (let t = 0; t < tokens; t++) {
      if (t % 13 === 0) {
        direction = Float64Array.from({ length: headDim }, () => prng.normal());
        strength = 3 * prng.uniform();
      }
      for (let c = 0; c < headDim; c++) {
        x[t * headDim + c] = strength * direction[c] + prng.normal();
      }
    }
    return x;
  };
  return { q: make(), k: make() };
}

/**
 * The definition written out plainly: pooled means, the mean of all pairwise cosine
 * similarities (an explicit double loop), softmax over the self-similar key blocks, the largest
 * probabilities kept while their running sum is ≤ the threshold (at least one), every key
 * block kept for a non-similar query block and every non-similar key block kept; the result as
 * an L×L byte mask.
 */
function definitionMask(
  tensors: { q: Float32Array; k: Float32Array },
  o: SpargeRoutingOptions,
): Uint8Array {
  const d = o.headDim;
  const L = tensors.q.length / d;
  const rowsOf = (x: ArrayLike<number>) =>
    Array.from({ length: L }, (_, t) => {
      return Array.from({ length: d }, (_, c) => x[t * d + c]);
    });
  const qRows = rowsOf(tensors.q);
  let kRows = rowsOf(tensors.k);
  if (o.smoothK) {
    const mean = Array.from({ length: d }, (_, c) => kRows.reduce((s, r) => s + r[c], 0) / L);
    kRows = kRows.map((r) => r.map((x, c) => x - mean[c]));
  }
  const blocksOf = (rows: number[][], size: number) => {
    const blocks: number[][][] = [];
    for (let t = 0; t < L; t += size) blocks.push(rows.slice(t, t + size));
    return blocks;
  };
  const mean = (block: number[][]) =>
    Array.from({ length: d }, (_, c) => block.reduce((s, r) => s + r[c], 0) / block.length);
  const cosine = (a: number[], b: number[]) => {
    const dot = a.reduce((s, x, c) => s + x * b[c], 0);
    const na = Math.hypot(...a);
    const nb = Math.hypot(...b);
    return dot / (na * nb);
  };
  const selfSimilar = (block: number[][]) => {
    let total = 0;
    for (const a of block) for (const b of block) total += cosine(a, b);
    return total / block.length ** 2 > o.simThreshold;
  };
  const qBlocks = blocksOf(qRows, o.blockQ);
  const kBlocks = blocksOf(kRows, o.blockK);
  const kSimilar = kBlocks.map(selfSimilar);
  const mask = new Uint8Array(L * L);
  qBlocks.forEach((qBlock, i) => {
    const keep = new Set<number>();
    kSimilar.forEach((similar, j) => similar || keep.add(j));
    if (!selfSimilar(qBlock)) kBlocks.forEach((_, j) => keep.add(j));
    else if (kSimilar.some(Boolean)) {
      const qMean = mean(qBlock);
      const scored = kBlocks.flatMap((kBlock, j) => {
        if (!kSimilar[j]) return [];
        const kMean = mean(kBlock);
        return [{ j, s: qMean.reduce((s, x, c) => s + x * kMean[c], 0) / Math.sqrt(d) }];
      });
      const top = Math.max(...scored.map((e) => e.s));
      const z = scored.reduce((s, e) => s + Math.exp(e.s - top), 0);
      const ranked = scored.map((e) => ({ j: e.j, p: Math.exp(e.s - top) / z }))
        .sort((a, b) => b.p - a.p || a.j - b.j);
      let cumulative = 0;
      ranked.forEach((e, n) => {
        cumulative += e.p;
        if (n === 0 || cumulative <= o.cdfThreshold) keep.add(e.j);
      });
    }
    for (let qt = i * o.blockQ; qt < Math.min(L, (i + 1) * o.blockQ); qt++) {
      for (const j of keep) {
        for (let kt = j * o.blockK; kt < Math.min(L, (j + 1) * o.blockK); kt++) {
          mask[qt * L + kt] = 1;
        }
      }
    }
  });
  return mask;
}

const OPTIONS: SpargeRoutingOptions = {
  headDim: 8,
  blockQ: 16,
  blockK: 8,
  simThreshold: 0.3,
  cdfThreshold: 0.9,
  smoothK: true,
};

function formOf(tensors: { q: Float32Array; k: Float32Array }, o: SpargeRoutingOptions) {
  const tokens = tensors.q.length / o.headDim;
  return validateForm(spargeForm(spargeRoutingReference(tensors, o), {
    tokens,
    blockQ: o.blockQ,
    blockK: o.blockK,
    pvThreshold: 50,
  }));
}

Deno.test("sparge layout = the definition written out plainly (L not a multiple of a block)", () => {
  const keyBlockKinds = new Set<number>();
  const keptKinds = new Set<number>();
  for (
    const [tokens, seed, overrides] of [
      [101, 1, {}],
      [77, 2, { smoothK: false }],
      [130, 3, { cdfThreshold: 0.5, simThreshold: 0.2 }],
      [45, 4, { simThreshold: 0.9 }],
    ] as const
  ) {
    const o = { ...OPTIONS, ...overrides };
    const tensors = clusteredTensors(tokens, o.headDim, seed);
    const selection = spargeRoutingReference(tensors, o);
    selection.kept.forEach((bit) => keptKinds.add(bit));
    selection.keyBlockSimilar.forEach((bit) => keyBlockKinds.add(bit));
    assert.deepEqual(denseMask(formOf(tensors, o)), definitionMask(tensors, o), `L=${tokens}`);
  }
  assert.deepEqual([...keyBlockKinds].sort(), [0, 1], "similar and non-similar key blocks occur");
  assert.deepEqual([...keptKinds].sort(), [0, 1], "kept and skipped block pairs occur");
});

Deno.test("sparge: a smaller CDF threshold keeps a subset; every query attends; no key twice", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 20, max: 90 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      (tokens, seed, a, b) => {
        const tensors = clusteredTensors(tokens, OPTIONS.headDim, seed);
        const [low, high] = [Math.min(a, b), Math.max(a, b)];
        const sparse = formOf(tensors, { ...OPTIONS, cdfThreshold: low });
        const dense = formOf(tensors, { ...OPTIONS, cdfThreshold: high });
        const sparseMask = denseMask(sparse);
        const denserMask = denseMask(dense);
        sparseMask.forEach((bit, i) => assert.ok(bit <= denserMask[i]));
        for (let q = 0; q < tokens; q++) {
          assert.ok(sparseMask.subarray(q * tokens, (q + 1) * tokens).includes(1));
        }
        validateForm(sparse); // throws when a tile's ranges overlap
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("sparge counted and routing FLOPs match hand arithmetic on a tiny case", () => {
  // L = 10, query blocks of 4, key blocks of 4: blocks {0,1,2} × {0,1,2} with 3 kept pairs.
  const selection = {
    queryBlocks: 3,
    keyBlocks: 3,
    kept: Uint8Array.from([1, 0, 1, 0, 1, 0, 0, 0, 1]),
    queryBlockSimilar: new Uint8Array(3).fill(1),
    keyBlockSimilar: new Uint8Array(3).fill(1),
  };
  const form: ExecutionForm = spargeForm(selection, {
    tokens: 10,
    blockQ: 4,
    blockK: 4,
    pvThreshold: 50,
  });
  assert.equal(tileCount(form), 3);
  // Pairs: 4·(4 + 2) + 4·4 + 2·2 = 44; FLOPs 4·d·pairs with d = 8.
  assert.equal(countedFlops(form, 8), 4 * 8 * 44);
  // 10·L·d + pairs·(2d + 5 + ⌈log2 3⌉) = 10·10·8 + 9·(16 + 5 + 2).
  assert.equal(spargeRoutingFlops({ tokens: 10, headDim: 8, blockQ: 4, blockK: 4 }), 800 + 207);
});

Deno.test("sparge PV-skip count follows the rule on a hand case", () => {
  // One query row, d = 4, q = (1,0,0,0)·√4/log2(e): base-2 scores equal k's first entry.
  const scale = 2 / Math.LOG2E;
  const q = Float32Array.from([scale, 0, 0, 0]);
  const firsts = [5, 4, 0.5, 6, 2.9, 3.1]; // steps of 1 key; running max 5, 5, 5, 6, 6, 6
  const k = Float32Array.from(firsts.flatMap((x) => [x, 0, 0, 0]));
  const form = {
    ...spargeForm({
      queryBlocks: 1,
      keyBlocks: 6,
      kept: new Uint8Array(6).fill(1),
      queryBlockSimilar: Uint8Array.of(1),
      keyBlockSimilar: new Uint8Array(6).fill(1),
    }, { tokens: 6, blockQ: 6, blockK: 1, pvThreshold: 3 }),
  };
  const qAll = new Float32Array(24);
  for (let t = 0; t < 6; t++) qAll.set(q, t * 4);
  // Skipped: 0.5 (5 − 0.5 > 3) and 2.9 (6 − 2.9 > 3); 3.1 is within 3 of 6.
  assert.deepEqual(
    pvSkippedSteps(form, { q: qAll, k }, { headDim: 4, step: 1, threshold: 3, rows: 1 }),
    { skipped: 2, steps: 6 },
  );
});

Deno.test("sparge parameters: defaults are the official ones, bad values name the field", () => {
  assert.deepEqual(sparge.defaults, {
    cdf: 0.98,
    sim: 0.6,
    pv: 50,
    blockQ: 128,
    blockK: 64,
    smoothK: true,
  });
  assert.throws(() => sparge.create({ cdf: 0 }), /"cdf" must be in \(0, 1\] \(got 0\)/);
  assert.throws(() => sparge.create({ pv: -1 }), /"pv" must be a finite number ≥ 0/);
  assert.throws(() => sparge.create({ sim: 2 }), /"sim" must be in \[-1, 1\]/);
  assert.throws(() => sparge.create({ blockK: 0 }), /"blockK" must be a positive integer/);
});

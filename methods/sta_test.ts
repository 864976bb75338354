import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { attendedPairs, denseMask, tileCount } from "../form/form.ts";
import { UnsupportedScenarioError } from "./method.ts";
import {
  sta,
  STA_PERMUTATION,
  staForm,
  tileAttends,
  tileGrid,
  tileMajorOrder,
  type Triple,
  UNIFORM_WINDOW_NOTE,
} from "./sta.ts";
import type { Scenario, TextPosition } from "../scenarios/scenario.ts";

function scenario(latent: Triple, text: number, position: TextPosition): Scenario {
  const tokens = position === "none" ? 0 : text;
  return {
    name: "test",
    latent,
    text: { tokens, position },
    shots: [latent[0]],
    textSegments: [tokens],
    heads: 2,
    headDim: 64,
    modelType: "hunyuan",
  };
}

/**
 * docs/methods.md's STA text read literally, over ORIGINAL token indices: tile coordinates of each
 * video token, the border-shifted window, and the text rules.
 */
function directPredicate(s: Scenario, tile: Triple, window: Triple) {
  const [T, H, W] = s.latent;
  const video = T * H * W;
  const text = s.text.position === "none" ? 0 : s.text.tokens;
  const videoStart = s.text.position === "prefix" ? text : 0;
  const grid = [T / tile[0], H / tile[1], W / tile[2]];
  const tileCoords = (token: number) => {
    const v = token - videoStart;
    if (v < 0 || v >= video) return null;
    const t = Math.floor(v / (H * W));
    const h = Math.floor(v / W) % H;
    const w = v % W;
    return [Math.floor(t / tile[0]), Math.floor(h / tile[1]), Math.floor(w / tile[2])];
  };
  return (q: number, k: number): boolean => {
    const qc = tileCoords(q);
    const kc = tileCoords(k);
    if (!qc || !kc) return true;
    for (let axis = 0; axis < 3; axis++) {
      const size = window[axis];
      const left = Math.floor(size / 2);
      const right = Math.floor(size / 2) - (size % 2 === 0 ? 1 : 0);
      // torch.clamp(x, min, max) = min(max(x, min), max).
      const centre = Math.min(Math.max(qc[axis], left), grid[axis] - 1 - right);
      if (!(centre - left <= kc[axis] && kc[axis] <= centre + right)) return false;
    }
    return true;
  };
}

Deno.test("sta reproduces the docs/methods.md check: 27 of 300 tiles, video density 0.09", () => {
  const s = scenario([30, 48, 80], 0, "none");
  const form = staForm(s, [6, 8, 8], [3, 3, 3]);
  equal(form.permutationName, STA_PERMUTATION);
  equal(form.blockSize, 384);
  equal(tileCount(form), 300);
  const grid = tileGrid(s.latent, [6, 8, 8]);
  deepEqual(grid.tiles, [5, 6, 10]);
  for (let q = 0; q < 300; q++) {
    let seen = 0;
    for (let k = 0; k < 300; k++) seen += tileAttends(grid, [3, 3, 3], q, k) ? 1 : 0;
    equal(seen, 27);
  }
  equal(attendedPairs(form) / form.tokens ** 2, 27 / 300);
  equal((attendedPairs(form) / form.tokens ** 2).toFixed(2), "0.09");
});

Deno.test("sta border tiles shift their window inward: every query tile sees the same count", () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({
          min: 1,
          max: 7,
        }),
      ),
      fc.tuple(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({
          min: 1,
          max: 9,
        }),
      ),
      (tiles, window) => {
        const grid = tileGrid(tiles as Triple, [1, 1, 1]);
        const want = tiles.reduce((acc, n, axis) => acc * Math.min(n, window[axis]), 1);
        const count = tiles[0] * tiles[1] * tiles[2];
        for (let q = 0; q < count; q++) {
          let seen = 0;
          for (let k = 0; k < count; k++) seen += tileAttends(grid, window, q, k) ? 1 : 0;
          equal(seen, want);
        }
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("sta tile-major order is a permutation with tiles contiguous", () => {
  const latent: Triple = [12, 16, 24];
  const grid = tileGrid(latent, [6, 8, 8]);
  const order = tileMajorOrder(latent, grid);
  const sorted = Array.from(order).sort((a, b) => a - b);
  deepEqual(sorted, Array.from({ length: order.length }, (_, i) => i));
  // Position p = tile·384 + (dt·8 + dh)·8 + dw holds frame-major ((t·H + h)·W + w).
  const [tileT, tileH, tileW] = [1, 0, 2];
  const [dt, dh, dw] = [5, 3, 7];
  const tileId = (tileT * 2 + tileH) * 3 + tileW;
  const t = tileT * 6 + dt;
  const h = tileH * 8 + dh;
  const w = tileW * 8 + dw;
  equal(order[tileId * 384 + (dt * 8 + dh) * 8 + dw], (t * 16 + h) * 24 + w);
});

Deno.test("sta form attends exactly the pairs of the spec's predicate", () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({
          min: 1,
          max: 3,
        }),
      ),
      fc.tuple(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({
          min: 1,
          max: 4,
        }),
      ),
      fc.tuple(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({
          min: 1,
          max: 5,
        }),
      ),
      fc.constantFrom<TextPosition>("suffix", "prefix", "none"),
      fc.integer({ min: 1, max: 30 }),
      (tile, tiles, window, position, text) => {
        const latent = tile.map((n, axis) => n * tiles[axis]) as Triple;
        const s = scenario(latent, text, position);
        const form = staForm(s, tile, window);
        const mask = denseMask(form);
        const attends = directPredicate(s, tile, window);
        const L = form.tokens;
        let pairs = 0;
        for (let q = 0; q < L; q++) {
          for (let k = 0; k < L; k++) {
            const want = attends(q, k) ? 1 : 0;
            pairs += want;
            if (mask[q * L + k] !== want) throw new Error(`pair (${q}, ${k}) differs`);
          }
        }
        equal(attendedPairs(form), pairs);
        // Text keeps its place at the start (prefix) or the end (suffix) of the permuted order.
        const perm = form.permutation!;
        const textStart = position === "prefix" ? 0 : L - (position === "none" ? 0 : text);
        for (let p = textStart; p < textStart + (position === "none" ? 0 : text); p++) {
          equal(perm[p], p);
        }
      },
    ),
    { numRuns: 80 },
  );
});

Deno.test("sta refuses a canvas that is not whole tiles, naming latent and tile", () => {
  const method = sta.create({});
  throws(() => method.layout(scenario([21, 45, 80], 0, "none"), {}), (e: Error) => {
    ok(e instanceof UnsupportedScenarioError);
    ok(e.message.includes("21x45x80") && e.message.includes("6x8x8"), e.message);
    ok(e.message.includes("T, H"), e.message);
    return true;
  });
});

Deno.test("sta parameters: TxHxW lists, with clear errors", () => {
  deepEqual(sta.create({ window: [3, 6, 10] }).params.window, [3, 6, 10]);
  throws(() => sta.create({ window: 3 }), /"window" must be three integers/);
  throws(() => sta.create({ tile: [6, 8] }), /"tile" must be three integers/);
  throws(() => sta.create({ block: 128 }), /unknown parameter "block"/);
});

Deno.test("sta analytic FLOPs equal the counted ones when the window fits the grid", () => {
  const s = scenario([12, 16, 16], 40, "suffix");
  const method = sta.create({ window: [1, 2, 1] });
  const layout = method.layout(s, {});
  if (layout instanceof Promise) throw new Error("sta is synchronous");
  equal(method.analyticFlops!(s), 4 * s.headDim * s.heads * attendedPairs(layout.forms[0]));
});

Deno.test("sta analytic FLOPs clamp a window wider than the grid to the canvas", () => {
  // Grid 1×2×3 tiles of 384 tokens, window 3×1×5 → 1·1·3 tiles = 1,152 keys for each of the
  // 2,304 video queries; 2 heads of d = 64: 4·64·2·2,304·1,152.
  const narrow = scenario([6, 16, 24], 0, "none");
  equal(sta.create({ window: [3, 1, 5] }).analyticFlops!(narrow), 4 * 64 * 2 * 2304 * 1152);
  // Grid 2×2×2 under a 3×3×3 window: every tile sees all 8, so STA is dense attention — with 40
  // suffix text tokens, 4·64·2·3,112².
  const small = scenario([12, 16, 16], 40, "suffix");
  equal(sta.create({ window: [3, 3, 3] }).analyticFlops!(small), 4 * 64 * 2 * 3112 * 3112);
  // And the clamped figure is what the execution form counts.
  const method = sta.create({ window: [5, 1, 4] });
  const layout = method.layout(small, {});
  if (layout instanceof Promise) throw new Error("sta is synchronous");
  equal(method.analyticFlops!(small), 4 * 64 * 2 * attendedPairs(layout.forms[0]));
});

Deno.test("sta records say which paper setting they run: one window for every head, or per head", async () => {
  const s = scenario([6, 8, 16], 0, "none");
  const uniform = await sta.create({}).layout(s, {});
  deepEqual(uniform.notes, [UNIFORM_WINDOW_NOTE]);
  ok(uniform.notes![0].includes("one window for every head"));
  const perHead = await sta.create({ windows: "1x1x1/1x1x2" }).layout(s, {});
  ok(!perHead.notes!.includes(UNIFORM_WINDOW_NOTE), "per-head windows are not one window");
});

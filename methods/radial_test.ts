import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { attendedPairs, type BlockGrid, denseMask } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { bitLength, radial, radialBlockMask, type RadialMaskOptions } from "./radial.ts";
import type { ModelType, Scenario, TextPosition } from "../scenarios/scenario.ts";

function onBlocks(grid: BlockGrid): number {
  return grid.bits.reduce((a, b) => a + b, 0);
}

/**
 * docs/methods.md's Radial steps 1–5 taken literally: every frame pair's P×P token mask is built,
 * placed on its offset canvas and shrunk block by block.
 */
function naiveRadialMask(o: RadialMaskOptions): BlockGrid {
  const { frames: F, tokensPerFrame: P, blockSize: B } = o;
  const N = F * P;
  const blocks = Math.ceil(N / B);
  const bits = new Uint8Array(blocks * blocks);
  for (let r = 0; r < blocks; r++) {
    for (let c = 0; c < blocks; c++) {
      if (r >= Math.floor(N / B) || c >= Math.floor(N / B)) bits[r * blocks + c] = 1;
    }
  }
  const n = Math.ceil(P / B);
  for (let i = 0; i < F; i++) {
    for (let j = 0; j < F; j++) {
      const dist = Math.abs(i - j);
      const local = new Uint8Array(P * P);
      if (o.modelType === "wan" && j === 0) {
        local.fill(1);
      } else {
        const w = dist <= 1 ? P : Math.max(2 ** bitLength(P) / 2 ** bitLength(dist) * o.decay, B);
        for (let r = 0; r < P; r++) {
          for (let c = 0; c < P; c++) local[r * P + c] = Math.abs(c - r) <= w ? 1 : 0;
        }
        const s = 2 ** bitLength(P) / 2 ** bitLength(dist);
        if (s < 128 && dist % Math.floor(128 / s) !== 0) local.fill(0);
      }
      const ro = (i * P) % B;
      const co = (j * P) % B;
      const m = Math.floor((ro + n * B) / B);
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) {
          let nonZero = 0;
          let high = 0;
          for (let x = b * B; x < (b + 1) * B; x++) {
            let on = 0;
            for (let y = a * B; y < (a + 1) * B; y++) {
              const r = y - ro;
              const c = x - co;
              if (r >= 0 && r < P && c >= 0 && c < P) on += local[r * P + c];
            }
            if (on / B > 0) nonZero++;
            if (on / B > 1 / 3) high++;
          }
          const row = Math.floor((i * P) / B) + a;
          const col = Math.floor((j * P) / B) + b;
          if (nonZero > 0 && high / nonZero > 0.6 && row < blocks && col < blocks) {
            bits[row * blocks + col] = 1;
          }
        }
      }
    }
  }
  return { blockSize: B, blocks, bits };
}

function scenario(
  latent: [number, number, number],
  text: number,
  position: TextPosition,
  modelType: ModelType = "hunyuan",
): Scenario {
  return {
    name: "test",
    latent,
    text: { tokens: position === "none" ? 0 : text, position },
    shots: [latent[0]],
    textSegments: [position === "none" ? 0 : text],
    heads: 2,
    headDim: 64,
    modelType,
  };
}

Deno.test("radial reproduces the docs/methods.md check: 64×64 blocks, 3,232 on", () => {
  const grid = radialBlockMask({
    frames: 8,
    tokensPerFrame: 1024,
    blockSize: 128,
    decay: 1,
    modelType: "hunyuan",
  });
  equal(grid.blocks, 64);
  equal(onBlocks(grid), 3232);
  equal((onBlocks(grid) / grid.bits.length).toFixed(4), "0.7891");
});

Deno.test("radial block mask equals the literal token-mask construction", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 300 }),
      fc.constantFrom(16, 32, 64, 128),
      fc.constantFrom(0.2, 0.5, 0.95, 1, 1.7),
      fc.constantFrom<ModelType>("hunyuan", "wan"),
      (frames, tokensPerFrame, blockSize, decay, modelType) => {
        const options = { frames, tokensPerFrame, blockSize, decay, modelType };
        deepEqual(radialBlockMask(options).bits, naiveRadialMask(options).bits);
      },
    ),
    // The example sits exactly on the 60% edge of the shrink rule (strictly more is required).
    { numRuns: 60, examples: [[5, 294, 64, 0.95, "hunyuan"]] },
  );
});

Deno.test("radial wan: the first frame is an attention sink for every query frame", () => {
  const base = { frames: 16, tokensPerFrame: 1024, blockSize: 128, decay: 1 };
  const wan = radialBlockMask({ ...base, modelType: "wan" });
  const hunyuan = radialBlockMask({ ...base, modelType: "hunyuan" });
  const frameBlocks = 1024 / 128;
  for (let row = 0; row < wan.blocks; row++) {
    for (let col = 0; col < frameBlocks; col++) equal(wan.bits[row * wan.blocks + col], 1);
  }
  // The sink only adds blocks, and hunyuan has none of it far from frame 0.
  for (let i = 0; i < wan.bits.length; i++) ok(wan.bits[i] >= hunyuan.bits[i]);
  ok(onBlocks(wan) > onBlocks(hunyuan));
});

Deno.test("radial on-blocks grow like n log n, not n²", () => {
  const counts = [8, 16, 32, 64, 128].map((frames) =>
    onBlocks(radialBlockMask({
      frames,
      tokensPerFrame: 1024,
      blockSize: 128,
      decay: 1,
      modelType: "hunyuan",
    }))
  );
  const ratios = counts.slice(1).map((c, i) => c / counts[i]);
  for (let i = 1; i < ratios.length; i++) ok(ratios[i] < ratios[i - 1], `ratios ${ratios}`);
  // Doubling the frames: 4× for a quadratic mask, 2·(1 + 1/log n) for n log n.
  ok(ratios[ratios.length - 1] < 2.6, `ratios ${ratios}`);
});

Deno.test("radial form attends exactly the block mask, text rows and columns in full", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 14 }),
      fc.constantFrom<TextPosition>("suffix", "prefix", "none"),
      fc.integer({ min: 1, max: 150 }),
      fc.constantFrom(64, 128),
      fc.constantFrom<ModelType>("hunyuan", "wan"),
      (frames, h, w, position, text, block, modelType) => {
        const s = scenario([frames, h, w], text, position, modelType);
        const layout = radial.create({ block, decay: 0.5 }).layout(s, {});
        if (layout instanceof Promise) throw new Error("radial is synchronous");
        const form = layout.forms[0];
        const grid = radialBlockMask({
          frames,
          tokensPerFrame: h * w,
          blockSize: block,
          decay: 0.5,
          modelType,
        });
        const video = frames * h * w;
        const textCount = position === "none" ? 0 : text;
        const videoStart = position === "prefix" ? textCount : 0;
        const L = video + textCount;
        equal(form.tokens, L);
        const blockOf = (t: number) => {
          const v = t - videoStart;
          return v >= 0 && v < video ? Math.floor(v / block) : -1;
        };
        const mask = denseMask(form);
        let pairs = 0;
        for (let q = 0; q < L; q++) {
          for (let k = 0; k < L; k++) {
            const qb = blockOf(q);
            const kb = blockOf(k);
            const want = qb < 0 || kb < 0 || grid.bits[qb * grid.blocks + kb] === 1 ? 1 : 0;
            pairs += want;
            if (mask[q * L + k] !== want) throw new Error(`pair (${q}, ${k}) differs`);
          }
        }
        equal(attendedPairs(form), pairs);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("radial resolves decay per model type and records it", () => {
  const method = radial.create({});
  equal(method.params.decay, "auto");
  const hunyuan = method.layout(scenario([4, 8, 16], 16, "suffix"), {});
  const wan = method.layout(scenario([4, 8, 16], 0, "none", "wan"), {});
  if (hunyuan instanceof Promise || wan instanceof Promise) throw new Error("synchronous");
  equal(hunyuan.params?.decay, 0.95);
  equal(wan.params?.decay, 0.2);
  const given = radial.create({ decay: 0.5 }).layout(scenario([4, 8, 16], 0, "none", "wan"), {});
  if (given instanceof Promise) throw new Error("synchronous");
  equal(given.params?.decay, 0.5);
});

Deno.test("radial rejects other block sizes and bad decays with the allowed values", () => {
  throws(() => radial.create({ block: 96 }), (e: Error) => {
    ok(e instanceof MethodSpecError);
    ok(/block.*128, 64.*96/.test(e.message), e.message);
    return true;
  });
  throws(() => radial.create({ decay: -1 }), /decay.*> 0 or auto/);
  throws(() => radial.create({ decay: "fast" }), /decay.*> 0 or auto/);
  throws(() => radial.create({ window: 3 }), /unknown parameter "window"/);
});

Deno.test("bitLength follows Python's int.bit_length", () => {
  deepEqual([0, 1, 2, 3, 4, 1023, 1024].map(bitLength), [0, 1, 2, 2, 3, 10, 11]);
});

Deno.test("radial per-head decays: head h runs exactly the mask of decay h", () => {
  const s = { ...scenario([8, 32, 32], 16, "suffix"), heads: 3 };
  const perHead = radial.create({ decays: "0.25/4/0.25" });
  deepEqual(perHead.params, { block: 128, decays: "0.25/4/0.25" }, "decay leaves the params");
  const layout = perHead.layout(s, {});
  if (layout instanceof Promise) throw new Error("radial is synchronous");
  equal(layout.forms.length, 3);
  [0.25, 4, 0.25].forEach((decay, h) => {
    const uniform = radial.create({ decay }).layout(s, {});
    if (uniform instanceof Promise) throw new Error("radial is synchronous");
    deepEqual(layout.forms[h], uniform.forms[0], `head ${h}`);
  });
  ok(attendedPairs(layout.forms[1]) > attendedPairs(layout.forms[0]), "decay 4 is denser");
  ok(layout.notes?.some((n) => n.includes("per-head decays 0.25/4/0.25")));
  // One head: the command line gives a plain number.
  const one = radial.create({ decays: 0.5 }).layout({ ...s, heads: 1 }, {});
  if (one instanceof Promise) throw new Error("radial is synchronous");
  equal(one.forms.length, 1);
});

Deno.test("radial per-head decays: bad lists, a wrong count and both forms are refused", () => {
  throws(() => radial.create({ decays: "0.5/x" }), /"decays" must be one decay > 0 a head/);
  throws(() => radial.create({ decays: "0.5/0" }), /"decays" must be one decay > 0 a head/);
  throws(() => radial.create({ decay: 1, decays: "1/1" }), /give "decay" or per-head "decays"/);
  const s = { ...scenario([4, 8, 16], 0, "none"), heads: 2 };
  throws(
    () => radial.create({ decays: "1/1/1" }).layout(s, {}),
    /one decay for each of the 2 heads \(got 3\)/,
  );
});

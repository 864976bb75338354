import assert from "node:assert/strict";
import fc from "fast-check";
import type { Scenario } from "../scenarios/scenario.ts";
import { frameOfToken, shotOfFrames, totalTokens } from "../scenarios/scenario.ts";
import { attendedPairs, denseMask, executedPairs, MASK_ROWS } from "../form/form.ts";
import { mocAttendedPairs } from "./moc_flops.ts";
import { MOC_TILE_ROWS, mocForm } from "./moc_form.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import { mocChunks, NO_CHUNK } from "../kernels/moc_chunks.ts";
import { mocRoutingReference } from "./routing/moc_reference.ts";

/** A random small scenario: shots of 1–4 frames, 1–70 tokens a frame, text anywhere. */
const scenarioArbitrary = fc.record({
  shots: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
  rows: fc.integer({ min: 1, max: 7 }),
  columns: fc.integer({ min: 1, max: 10 }),
  textPerShot: fc.integer({ min: 0, max: 5 }),
  position: fc.constantFrom("suffix" as const, "prefix" as const),
  k: fc.integer({ min: 1, max: 6 }),
  intraShot: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
}).map((r) => {
  const text = r.textPerShot * r.shots.length;
  const scenario: Scenario = {
    name: "moc-property",
    latent: [r.shots.reduce((a, b) => a + b, 0), r.rows, r.columns],
    text: { tokens: text, position: text > 0 ? r.position : "none" },
    shots: r.shots,
    textSegments: r.shots.map(() => r.textPerShot),
    heads: 1,
    headDim: 64,
    modelType: "hunyuan",
  };
  return { scenario, k: r.k, intraShot: r.intraShot, seed: r.seed };
});

Deno.test("moc form: causal, anchors present, k respected, pairs match the structure", () => {
  fc.assert(
    fc.property(scenarioArbitrary, ({ scenario, k, intraShot, seed }) => {
      const L = totalTokens(scenario);
      const chunks = mocChunks(scenario, { intraShot });
      const source = seededQkv({ tokens: L, heads: 1, headDim: 64 }, { seed, quantized: false });
      const selection = mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k });
      const form = mocForm(chunks, { selection, blockSize: 16 });
      const mask = denseMask(form);
      const P = chunks.tokensPerFrame;
      const shotOf = shotOfFrames(scenario);
      for (let query = 0; query < L; query++) {
        const frame = frameOfToken(scenario, query);
        const row = mask.subarray(query * L, (query + 1) * L);
        if (frame < 0) {
          assert.ok(row.every((b) => b === 1), `text query ${query} attends densely`);
          continue;
        }
        const routedFrames = new Set<number>();
        for (let key = 0; key < L; key++) {
          const keyFrame = frameOfToken(scenario, key);
          const anchored = keyFrame < 0 || keyFrame === frame ||
            (intraShot && shotOf[keyFrame] === shotOf[frame]);
          if (anchored) {
            assert.equal(row[key], 1, `query ${query} misses anchor key ${key}`);
          } else if (row[key] === 1) {
            assert.ok(
              keyFrame < frame,
              `query ${query} (frame ${frame}) routed to frame ${keyFrame}`,
            );
            routedFrames.add(keyFrame);
          }
        }
        const candidates = chunks.candidateEnd[frame];
        assert.equal(routedFrames.size, Math.min(k, candidates), `query ${query} routes min(k, c)`);
        for (const f of routedFrames) {
          for (let t = 0; t < P; t++) assert.equal(row[chunks.videoStart + f * P + t], 1);
        }
      }
      assert.equal(attendedPairs(form), mocAttendedPairs(chunks, { k }));
      assert.ok(executedPairs(form) >= attendedPairs(form));
    }),
    { numRuns: 60 },
  );
});

Deno.test("moc form: tiles hold ≤ MOC_TILE_ROWS queries of one frame; rows of a masked range chose it", () => {
  const scenario: Scenario = {
    name: "tiles",
    latent: [5, 10, 13],
    text: { tokens: 70, position: "suffix" },
    shots: [5],
    textSegments: [70],
    heads: 1,
    headDim: 64,
    modelType: "hunyuan",
  };
  const chunks = mocChunks(scenario, { intraShot: false });
  const source = seededQkv({ tokens: totalTokens(scenario), heads: 1, headDim: 64 }, {
    seed: 9,
    quantized: false,
  });
  const k = 2;
  const selection = mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k });
  const form = mocForm(chunks, { selection, blockSize: 64 });
  let masked = 0;
  for (let t = 0; t + 1 < form.tileBounds.length; t++) {
    const [t0, t1] = [form.tileBounds[t], form.tileBounds[t + 1]];
    assert.ok(t1 - t0 <= MOC_TILE_ROWS);
    if (t0 >= chunks.frames * chunks.tokensPerFrame) continue;
    assert.equal(Math.floor(t0 / 130), Math.floor((t1 - 1) / 130), `tile ${t} stays in one frame`);
    for (let p = t0; p < t1; p++) {
      assert.equal(
        Math.floor(form.permutation![p] / 130),
        Math.floor(t0 / 130),
        "reordered in its frame",
      );
    }
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      if (form.rangeMaskKinds[r] !== MASK_ROWS) continue;
      masked++;
      const words = form.maskWords.subarray(
        form.rangeMaskOffsets[r],
        form.rangeMaskOffsets[r] + Math.ceil(MOC_TILE_ROWS / 32),
      );
      const first = (form.rangeStarts[r] - chunks.videoStart) / chunks.tokensPerFrame;
      const last = (form.rangeEnds[r] - chunks.videoStart) / chunks.tokensPerFrame;
      for (let row = 0; row < t1 - t0; row++) {
        const on = ((words[row >>> 5] >>> (row & 31)) & 1) === 1;
        const query = form.permutation![t0 + row] - chunks.videoStart;
        const picks = selection.chosen.subarray(query * k, (query + 1) * k);
        for (let c = first; c < last; c++) assert.equal(picks.includes(c), on);
      }
    }
  }
  assert.ok(masked > 0, "the test exercises row masks");
});

Deno.test("moc form: degenerate inputs behave as documented", () => {
  const base: Scenario = {
    name: "degenerate",
    latent: [4, 2, 3],
    text: { tokens: 0, position: "none" },
    shots: [4],
    textSegments: [0],
    heads: 1,
    headDim: 64,
    modelType: "wan",
  };
  const L = totalTokens(base);
  const source = seededQkv({ tokens: L, heads: 1, headDim: 64 }, { seed: 1, quantized: false });
  // k ≥ chunks, one shot: every query takes every earlier frame, i.e. frame-causal attention.
  const chunks = mocChunks(base, { intraShot: false });
  const all = mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k: 10 });
  const mask = denseMask(mocForm(chunks, { selection: all, blockSize: 8 }));
  for (let q = 0; q < L; q++) {
    for (let key = 0; key < L; key++) {
      assert.equal(mask[q * L + key], Math.floor(key / 6) <= Math.floor(q / 6) ? 1 : 0);
    }
  }
  assert.equal(all.chosen[0], NO_CHUNK, "frame 0 has no candidate");
  // intraShot on a single shot: the anchor is every video token, nothing is routed.
  const oneShot = mocChunks(base, { intraShot: true });
  assert.ok(oneShot.candidateEnd.every((c) => c === 0));
  const none = mocRoutingReference(source.tensors[0], { chunks: oneShot, headDim: 64, k: 3 });
  assert.ok(none.chosen.every((c) => c === NO_CHUNK));
  assert.equal(attendedPairs(mocForm(oneShot, { selection: none, blockSize: 8 })), L * L);
  // Shots of one frame each with intraShot: the own shot is the own frame; all earlier frames
  // are candidates.
  const single = { ...base, shots: [1, 1, 1, 1] };
  const singles = mocChunks(single, { intraShot: true });
  assert.deepEqual([...singles.candidateEnd], [0, 1, 2, 3]);
  assert.deepEqual([...singles.anchorEnd].map((e, f) => e - singles.anchorStart[f]), [6, 6, 6, 6]);
});

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Scenario } from "../scenarios/scenario.ts";
import { frameOfToken, shotOfFrames, totalTokens } from "../scenarios/scenario.ts";
import { attendedPairs, denseMask, executedPairs, MASK_ROWS } from "../form/form.ts";
import { mocAttendedPairs } from "./moc_flops.ts";
import { MOC_TILE_ROWS, mocForm } from "./moc_form.ts";
import { mocAnchorForm, mocChoiceForm } from "./moc_chunk_major_form.ts";
import { seededQkv } from "../tests/random_qkv.ts";
import { mocChunks, mocVideoTokens, NO_CHUNK } from "../kernels/moc_chunks.ts";
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
  causal: fc.boolean(),
  chunking: fc.oneof(
    fc.constantFrom("frame" as const, "shot" as const),
    fc.integer({ min: 1, max: 90 }),
  ),
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
  const options = { intraShot: r.intraShot, causal: r.causal, chunking: r.chunking };
  return { scenario, k: r.k, options, seed: r.seed };
});

/** The chunks of a drawn case and its float64 routing of random Q/K (d = 64). */
function routed(
  drawn: { scenario: Scenario; k: number; options: Parameters<typeof mocChunks>[1]; seed: number },
) {
  const { scenario, k, options, seed } = drawn;
  const L = totalTokens(scenario);
  const chunks = mocChunks(scenario, options);
  const source = seededQkv({ tokens: L, heads: 1, headDim: 64 }, { seed, quantized: false });
  return {
    L,
    chunks,
    selection: mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k }),
  };
}

Deno.test("moc form: anchors present, candidates only, k respected, pairs match the selection", () => {
  fc.assert(
    fc.property(scenarioArbitrary, ({ scenario, k, options, seed }) => {
      const { L, chunks, selection } = routed({ scenario, k, options, seed });
      const form = mocForm(chunks, { selection, blockSize: 16 });
      const mask = denseMask(form);
      const shotOf = shotOfFrames(scenario);
      const P = scenario.latent[1] * scenario.latent[2];
      // The chunk of each video token, rebuilt here from the chunking rule.
      const chunkOf: number[] = [];
      let shotFirstToken = 0;
      for (const frames of scenario.shots) {
        const length = frames * P;
        const step = options.chunking === "frame"
          ? P
          : options.chunking === "shot"
          ? length
          : options.chunking;
        const base = chunkOf.length === 0 ? 0 : chunkOf[chunkOf.length - 1] + 1;
        for (let t = 0; t < length; t++) chunkOf.push(base + Math.floor(t / step));
        shotFirstToken += length;
      }
      assert.equal(shotFirstToken, chunkOf.length);
      const v0 = chunks.videoStart;
      for (let query = 0; query < L; query++) {
        const frame = frameOfToken(scenario, query);
        const row = mask.subarray(query * L, (query + 1) * L);
        if (frame < 0) {
          assert.ok(row.every((b) => b === 1), `text query ${query} attends densely`);
          continue;
        }
        const own = chunkOf[query - v0];
        const anchoredChunk = (c: number) =>
          c === own || (options.intraShot && shotOf[frameOfChunk(c)] === shotOf[frame]);
        const frameOfChunk = (c: number) => Math.floor(chunkOf.indexOf(c) / P);
        const routed = new Set<number>();
        for (let key = 0; key < L; key++) {
          const keyFrame = frameOfToken(scenario, key);
          if (keyFrame < 0 || anchoredChunk(chunkOf[key - v0])) {
            assert.equal(row[key], 1, `query ${query} misses anchor key ${key}`);
          } else if (row[key] === 1) routed.add(chunkOf[key - v0]);
        }
        const candidates = new Set<number>();
        for (let c = 0; c <= chunkOf[chunkOf.length - 1]; c++) {
          const anchored = anchoredChunk(c);
          const before = chunkOf.indexOf(c) < chunkOf.indexOf(own) &&
            (!options.intraShot || shotOf[frameOfChunk(c)] < shotOf[frame]);
          if (!anchored && (!options.causal || before)) candidates.add(c);
        }
        for (const c of routed) assert.ok(candidates.has(c), `query ${query} routed to ${c}`);
        assert.equal(routed.size, Math.min(k, candidates.size), `query ${query} routes min(k, c)`);
        for (const c of routed) {
          chunkOf.forEach((chunk, t) => {
            if (chunk === c) assert.equal(row[v0 + t], 1, "a routed chunk is attended whole");
          });
        }
      }
      assert.equal(attendedPairs(form), mocAttendedPairs(chunks, selection));
      assert.ok(executedPairs(form) >= attendedPairs(form));
    }),
    { numRuns: 60 },
  );
});

Deno.test("moc chunk-major branches: disjoint, their union is the attended set, no masks, no mixed tiles", () => {
  fc.assert(
    fc.property(scenarioArbitrary, ({ scenario, k, options, seed }) => {
      const { L, chunks, selection } = routed({ scenario, k, options, seed });
      // The query-tile form's mask is checked against the definition by the test above.
      const expected = denseMask(mocForm(chunks, { selection, blockSize: 16 }));
      const branches = [
        mocAnchorForm(chunks, { blockSize: 16 }),
        // One slot past k: an empty branch (heads of a smaller k run with the largest k's slots).
        ...Array.from(
          { length: k + 1 },
          (_, slot) => mocChoiceForm(chunks, { selection, slot, blockSize: 16 }),
        ),
      ];
      const union = new Uint8Array(L * L);
      for (const form of branches) {
        const mask = denseMask(form);
        mask.forEach((bit, i) => union[i] += bit);
        assert.equal(executedPairs(form), attendedPairs(form), "no masked pairs");
        for (let t = 0; t + 1 < form.tileBounds.length; t++) {
          const rows = form.tileBounds[t + 1] - form.tileBounds[t];
          const ranges = form.rangeOffsets[t + 1] - form.rangeOffsets[t];
          if (form !== branches[0] && ranges > 0) {
            assert.ok(rows <= MOC_TILE_ROWS, `tile ${t} has ${rows} rows`);
            assert.equal(ranges, 1, "a choice tile attends one chunk");
          }
        }
      }
      assert.ok(union.every((n) => n <= 1), "no pair in two branches");
      assert.deepEqual(union, expected);
      const attended = branches.reduce((sum, form) => sum + attendedPairs(form), 0);
      assert.equal(attended, mocAttendedPairs(chunks, selection));
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
  const chunks = mocChunks(scenario, { intraShot: false, causal: true, chunking: "frame" });
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
    if (t0 >= mocVideoTokens(chunks)) continue;
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
      const first = (form.rangeStarts[r] - chunks.videoStart) / 130;
      const last = (form.rangeEnds[r] - chunks.videoStart) / 130;
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
  const frames = { intraShot: false, causal: true, chunking: "frame" as const };
  // k ≥ chunks, one shot: every query takes every earlier frame, i.e. frame-causal attention.
  const chunks = mocChunks(base, frames);
  const all = mocRoutingReference(source.tensors[0], { chunks, headDim: 64, k: 10 });
  const mask = denseMask(mocForm(chunks, { selection: all, blockSize: 8 }));
  for (let q = 0; q < L; q++) {
    for (let key = 0; key < L; key++) {
      assert.equal(mask[q * L + key], Math.floor(key / 6) <= Math.floor(q / 6) ? 1 : 0);
    }
  }
  assert.equal(all.chosen[0], NO_CHUNK, "frame 0 has no candidate");
  // Non-causal with k ≥ chunks: every query takes every other chunk, i.e. dense attention.
  const open = mocChunks(base, { ...frames, causal: false, chunking: 5 });
  assert.deepEqual([...open.chunkStart], [0, 5, 10, 15, 20, 24]);
  const every = mocRoutingReference(source.tensors[0], { chunks: open, headDim: 64, k: 10 });
  assert.equal(attendedPairs(mocForm(open, { selection: every, blockSize: 8 })), L * L);
  // A chunk longer than the shot is the shot.
  assert.deepEqual([...mocChunks(base, { ...frames, chunking: 1000 }).chunkStart], [0, 24]);
  // intraShot on a single shot: the anchor is every video token, nothing is routed.
  const oneShot = mocChunks(base, { ...frames, intraShot: true });
  assert.ok(oneShot.anchorFirst.every((c) => c === 0));
  const none = mocRoutingReference(source.tensors[0], { chunks: oneShot, headDim: 64, k: 3 });
  assert.ok(none.chosen.every((c) => c === NO_CHUNK));
  assert.equal(attendedPairs(mocForm(oneShot, { selection: none, blockSize: 8 })), L * L);
  // Shots of one frame each with intraShot: the own shot is the own frame; all earlier frames
  // are candidates.
  const single = { ...base, shots: [1, 1, 1, 1] };
  const singles = mocChunks(single, { ...frames, intraShot: true });
  assert.deepEqual([...singles.anchorFirst], [0, 1, 2, 3]);
  assert.deepEqual([...singles.anchorEnd].map((e, c) => e - singles.anchorFirst[c]), [1, 1, 1, 1]);
});

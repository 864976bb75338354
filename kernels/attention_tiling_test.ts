import assert from "node:assert/strict";
import {
  candidateTilings,
  fallbackTiling,
  parseTiling,
  tilingName,
  tilingProblem,
  tilingThreads,
  workgroupBytes,
} from "./attention_tiling.ts";

const H200 = { maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024 };
const LLVMPIPE = { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024 };

Deno.test("tiling names parse back to the same tiling, for both kernels", () => {
  for (const name of ["rows128x16", "64x32.s4x4.o8x8", "48x64.s8x4.o4x16"]) {
    assert.equal(tilingName(parseTiling(name)), name);
  }
  assert.deepEqual(parseTiling("rows64x8"), { kernel: "rows", blockQ: 64, blockK: 8 });
  assert.throws(() => parseTiling("128x16"), /--tiling must be rows<blockQ>x<blockK>/);
});

Deno.test("a tiling whose two thread grids differ, or that overflows workgroup memory, is refused", () => {
  // 64x32 with 4x8 score tiles is 16 x 4 = 64 threads; 8x8 output tiles at d = 128 need 8 x 16.
  assert.match(
    tilingProblem(parseTiling("64x32.s4x8.o8x8"), 128, "f32", H200)!,
    /score grid \(64 threads\) and output grid \(128\)/,
  );
  // Q (64x128) + K/V (32x128) + P (32x64) in f32 is 57344 bytes before the row statistics.
  assert.match(
    tilingProblem(parseTiling("64x32.s4x4.o8x8"), 128, "f32", H200)!,
    /bytes of workgroup memory at head dim 128, over this device's 49152/,
  );
  assert.equal(tilingProblem(parseTiling("64x32.s4x4.o8x8"), 128, "f16", H200), null);
  assert.equal(tilingProblem(parseTiling("rows128x16"), 128, "f32", H200), null);
  assert.equal(workgroupBytes(parseTiling("rows128x16"), 128, "f32"), 2 * 16 * 128 * 4);
});

Deno.test("every candidate fits the limits it was drawn for", () => {
  for (const headDim of [64, 128]) {
    for (const math of ["f32", "f16"] as const) {
      for (const limits of [H200, LLVMPIPE]) {
        for (const tiling of candidateTilings(headDim, math, limits)) {
          assert.equal(tilingProblem(tiling, headDim, math, limits), null, tilingName(tiling));
          assert.ok(workgroupBytes(tiling, headDim, math) <= limits.maxComputeWorkgroupStorageSize);
        }
      }
    }
  }
});

Deno.test("the software tiling is the smallest tile-kernel workgroup tile that fits", () => {
  const tiling = fallbackTiling(128, "f32", LLVMPIPE, true);
  assert.equal(tiling.kernel, "tiles");
  assert.equal(tilingProblem(tiling, 128, "f32", LLVMPIPE), null);
  for (const other of candidateTilings(128, "f32", LLVMPIPE)) {
    if (other.kernel === "tiles") {
      assert.ok(tiling.blockQ * tiling.blockK <= other.blockQ * other.blockK, tilingName(other));
    }
  }
  assert.ok(tilingThreads(tiling) >= 32);
});

Deno.test("a P·V mapping parses, names itself, needs equal threads and f32 math", () => {
  const split = parseTiling("rows128x16.r1s2d.p2s4");
  assert.deepEqual(split, {
    kernel: "rowBlocks",
    blockQ: 128,
    blockK: 16,
    rowsPerThread: 1,
    slices: 2,
    doubleBuffer: true,
    pvRowsPerThread: 2,
    pvSlices: 4,
  });
  assert.equal(tilingName(split), "rows128x16.r1s2d.p2s4");
  // Slices across warps: the suffix round-trips; row groups must fill whole warps.
  assert.equal(tilingName(parseTiling("rows64x8.r2s4w")), "rows64x8.r2s4w");
  assert.equal(tilingName(parseTiling("rows128x16.r1s2dw.p2s4")), "rows128x16.r1s2dw.p2s4");
  assert.equal(tilingProblem(parseTiling("rows64x8.r2s4w"), 128, "f32", H200), null);
  assert.match(
    tilingProblem(parseTiling("rows32x8.r2s4w"), 128, "f32", H200)!,
    /multiples of 32/,
  );
  assert.match(
    tilingProblem(parseTiling("rows128x16.r1s2w.p8s16"), 128, "f32", H200)!,
    /multiples of 32/,
  );
  // The same mapping as Q·Kᵀ's is no mapping of its own.
  assert.equal(tilingName(parseTiling("rows128x16.r1s2.p1s2")), "rows128x16.r1s2");
  assert.equal(tilingProblem(parseTiling("rows128x16.r1s2.p2s4"), 128, "f32", H200), null);
  assert.match(
    tilingProblem(parseTiling("rows128x16.r1s2.p2s2"), 128, "f32", H200)!,
    /threads must equal Q·Kᵀ's 256/,
  );
  assert.match(
    tilingProblem(parseTiling("rows128x16.r1s2.p2s4"), 128, "f16", H200)!,
    /needs f32 math/,
  );
  // Partials are exchanged even with one slice in Q·Kᵀ.
  assert.equal(
    workgroupBytes(parseTiling("rows64x8.r1s1.p2s2"), 64, "f32"),
    2 * 8 * 64 * 4 + 64 * 1 * 8 * 4,
  );
});

Deno.test("row-block tilings parse, count their threads and partials, and refuse bad slices", () => {
  const tiling = parseTiling("rows128x8.r2s4");
  assert.deepEqual(tiling, {
    kernel: "rowBlocks",
    blockQ: 128,
    blockK: 8,
    rowsPerThread: 2,
    slices: 4,
  });
  assert.equal(tilingName(tiling), "rows128x8.r2s4");
  const double = parseTiling("rows128x8.r2s4d");
  assert.deepEqual(double, { ...tiling, doubleBuffer: true });
  assert.equal(tilingName(double), "rows128x8.r2s4d");
  // Two K/V tiles, the same partials.
  assert.equal(
    workgroupBytes(double, 128, "f32") - workgroupBytes(tiling, 128, "f32"),
    2 * 8 * 128 * 4,
  );
  assert.equal(tilingThreads(tiling), 64 * 4);
  // K and V (8 keys × 128 dims, f32) plus one f32 partial score per row, slice and key.
  assert.equal(workgroupBytes(tiling, 128, "f32"), 2 * 8 * 128 * 4 + 128 * 4 * 8 * 4);
  assert.match(
    tilingProblem(parseTiling("rows128x8.r2s3"), 64, "f32", H200)!,
    /slices must divide/,
  );
  assert.match(tilingProblem(parseTiling("rows128x6.r2s2"), 64, "f32", H200)!, /multiple of 4/);
  assert.match(
    tilingProblem(parseTiling("rows128x16.r2s8"), 128, "f32", H200)!,
    /bytes of workgroup memory/,
  );
  // Candidates keep a thread's share of q within 64 f32 registers: r2s2 at d = 64, not at
  // d = 128, except in f16 math (two values a register), with and without double buffering.
  const names = (d: number, math: "f32" | "f16" = "f32") =>
    candidateTilings(d, math, H200).map(tilingName);
  assert.ok(names(64).includes("rows128x8.r2s2"));
  assert.ok(!names(128).includes("rows128x8.r2s2") && names(128).includes("rows128x16.r1s2"));
  assert.ok(!names(128).includes("rows128x8.r2s2d"));
  assert.ok(names(128, "f16").includes("rows128x8.r2s2d"));
  assert.ok(names(128, "f16").includes("rows128x8.r2s2"));
});

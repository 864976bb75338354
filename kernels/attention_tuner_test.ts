import assert from "node:assert/strict";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { type AttentionTiling, tilingName } from "./attention_tiling.ts";
import { kernelTiling, tilingCacheKey, tuningCandidates } from "./attention_tuner.ts";

/** A stand-in for a GPU runtime: the tuner reads only the facts and the device limits. */
function fakeRuntime(fallback: boolean): GpuRuntime {
  return {
    facts: {
      description: "Test GPU",
      vendor: "test",
      architecture: "",
      fallback,
      backend: "vulkan",
    },
    device: {
      limits: { maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024 },
    },
  } as unknown as GpuRuntime;
}

Deno.test("the tuner times every candidate once, keeps the fastest and caches it in a file", async () => {
  const dir = await Deno.makeTempDir();
  const cachePath = `${dir}/tilings.json`;
  Deno.env.set("LONGSHOT_TILING_CACHE", cachePath);
  try {
    const gpu = fakeRuntime(false);
    const candidates = tuningCandidates(gpu, { headDim: 128, math: "f32" });
    assert.ok(
      candidates.some((t) => t.kernel === "rows") && candidates.some((t) => t.kernel === "tiles"),
    );
    const fastest = candidates[candidates.length - 1];
    const timed: string[] = [];
    const measure = (tiling: AttentionTiling) => {
      timed.push(tilingName(tiling));
      return Promise.resolve(tilingName(tiling) === tilingName(fastest) ? 1 : 2);
    };
    const choice = await kernelTiling(gpu, { headDim: 128, math: "f32" }, measure);
    assert.deepEqual(choice, { tiling: fastest, source: "tuned", denseMs: 1 });
    // One untimed warm-up pass, then each candidate once.
    assert.equal(timed.length, candidates.length + 1);
    const cache = JSON.parse(await Deno.readTextFile(cachePath));
    assert.equal(
      cache[tilingCacheKey(gpu, { headDim: 128, math: "f32" })].tiling,
      tilingName(fastest),
    );

    const later = await kernelTiling(fakeRuntime(false), { headDim: 128, math: "f32" }, () => {
      throw new Error("a cached tiling is not measured again");
    });
    assert.deepEqual(later, { tiling: fastest, source: "cached", denseMs: 1 }); // its time kept
  } finally {
    Deno.env.delete("LONGSHOT_TILING_CACHE");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a software adapter is not tuned: it gets the small tiling", async () => {
  const choice = await kernelTiling(fakeRuntime(true), { headDim: 64, math: "f32" }, () => {
    throw new Error("a software adapter is not measured");
  });
  assert.equal(choice.source, "software");
});

Deno.test("a row limit tunes apart among candidates whose row block divides it", async () => {
  const dir = await Deno.makeTempDir();
  Deno.env.set("LONGSHOT_TILING_CACHE", `${dir}/tilings.json`);
  try {
    const gpu = fakeRuntime(false);
    const target = { headDim: 128, math: "f32" as const, maxRows: 64 };
    const candidates = tuningCandidates(gpu, target);
    assert.ok(candidates.length > 0);
    for (const tiling of candidates) assert.equal(64 % tiling.blockQ, 0, tilingName(tiling));
    assert.ok(candidates.some((t) => tilingName(t) === "rows64x16.r1s2"));
    assert.notEqual(
      tilingCacheKey(gpu, target),
      tilingCacheKey(gpu, { headDim: 128, math: "f32" }),
    );
    const choice = await kernelTiling(gpu, target, (t) => Promise.resolve(t.blockQ));
    assert.equal(choice.tiling.blockQ <= 64, true);
  } finally {
    Deno.env.delete("LONGSHOT_TILING_CACHE");
    await Deno.remove(dir, { recursive: true });
  }
});

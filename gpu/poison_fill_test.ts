import assert from "node:assert/strict";
import { GpuRuntime } from "./runtime.ts";
import { POISON_WORD, PoisonFill } from "./poison_fill.ts";

Deno.test("poison fill: every word of every buffer, a 2-D grid past the per-dimension limit, nothing else", async () => {
  const runtime = await GpuRuntime.open();
  // 1,001 words (no whole workgroup); and one word more than a 1-D grid of 256-thread workgroups
  // reaches, so the fill needs a second grid row.
  const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
  const sizes = [1001, limit * 256 + 1];
  const buffers = sizes.map((words, i) =>
    runtime.upload(`poison-${i}`, new Uint32Array(words).map((_, j) => j))
  );
  const bystander = runtime.upload("bystander", new Uint32Array(64).fill(7));
  const fill = await PoisonFill.create(runtime, buffers);
  fill.submit();
  for (const [i, buffer] of buffers.entries()) {
    const words = new Uint32Array(await runtime.read(buffer));
    const first = words.findIndex((w) => w !== POISON_WORD);
    assert.equal(first, -1, `buffer ${i} (${sizes[i]} words): word ${first} not poisoned`);
  }
  assert.ok(new Uint32Array(await runtime.read(bystander)).every((w) => w === 7));
  assert.ok(Number.isNaN(new Float32Array(Uint32Array.of(POISON_WORD).buffer)[0]));
  runtime.destroy();
});

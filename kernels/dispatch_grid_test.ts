import assert from "node:assert/strict";
import fc from "fast-check";
import { GpuRuntime } from "../gpu/runtime.ts";
import { FormBuilder } from "../form/form.ts";
import { runFormOnce } from "../tests/attention_fixtures.ts";
import { dispatchGrid } from "./attention.ts";

Deno.test("dispatchGrid: x × y covers every workgroup once, within the limit, no idle row", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 65535 }),
      fc.integer({ min: 1, max: 4_000_000 }),
      (limit, count) => {
        fc.pre(count <= limit * limit);
        const [x, y] = dispatchGrid(count, limit);
        assert.ok(x >= 1 && x <= limit && y >= 1 && y <= limit, `${x} × ${y}`);
        // The kernels index wid.x + wid.y · x and return past count: every index < count is
        // reached exactly once, and no whole row of workgroups is idle.
        assert.ok(x * y >= count && x * (y - 1) < count, `${x} × ${y} for ${count}`);
      },
    ),
    { numRuns: 500 },
  );
  // 600k tokens of 64-row sub-tiles at the WebGPU default limit: the 2-D path.
  assert.deepEqual(dispatchGrid(Math.ceil(600_000 / 64) * 8, 65535), [65535, 2]);
  assert.deepEqual(dispatchGrid(65535, 65535), [65535, 1]);
  assert.deepEqual(dispatchGrid(65536, 65535), [65535, 2]);
});

const runtime = await GpuRuntime.open();
const maxGroups = runtime.device.limits.maxComputeWorkgroupsPerDimension;

Deno.test({
  name: "the kernel runs a 2-D dispatch: one-row tiles past the per-dimension limit",
  // Past a few million one-row tiles the form itself is too big for a test.
  ignore: maxGroups > 1_000_000,
  fn: async () => {
    // One-row tiles give one sub-tile (one workgroup) each: more tiles than the limit (65,535 on
    // WebGPU's default) need a grid of two rows. A query attending only its own key outputs that
    // key's value row.
    const tokens = maxGroups + 4465;
    const headDim = 4;
    const builder = new FormBuilder(tokens, 128);
    for (let t = 0; t < tokens; t++) builder.range(t, t + 1).endTile(t + 1);
    const form = builder.build();
    const v = Float32Array.from({ length: tokens * headDim }, (_, i) => i % 9973);
    const q = new Float32Array(tokens * headDim).fill(0.5);
    const { out } = await runFormOnce(runtime, form, { q, k: q, v }, { precision: "f32" });
    const wrong = out.findIndex((x, i) => x !== v[i]);
    assert.equal(wrong, -1, `row ${Math.floor(wrong / headDim)}: ${out[wrong]} ≠ ${v[wrong]}`);
  },
});

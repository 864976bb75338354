/**
 * `bench --precision f16`: f16 storage where the adapter has shader-f16 (Vulkan here), and the
 * announced fallback to f32 where it has not (Deno's GL backend never has it).
 */
import assert from "node:assert/strict";
import { GpuRuntime } from "../gpu/runtime.ts";
import type { ResultsFile } from "../records/schema.ts";
import { lacksShaderF16, testNeeding } from "./needs.ts";

async function benchF16(backend: string | undefined, precision = "f16", extra: string[] = []) {
  const out = await Deno.makeTempDir();
  const run = await new Deno.Command(Deno.execPath(), {
    args: [
      ...[
        "run",
        "--allow-all",
        "cli/bench.ts",
        "--quiet",
        "--no-history",
        "--precision",
        precision,
      ],
      ...["--scenario", "tests/fixtures/tiny_tiled.json", "--methods", "dense"],
      ...["--warmup", "0", "--repeats", "1", "--out", out, ...extra],
    ],
    env: backend ? { DENO_WEBGPU_BACKEND: backend } : {},
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, stderr);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  await Deno.remove(out, { recursive: true });
  return { stderr, results };
}

/** Whether Deno finds an adapter on wgpu's GL backend (Mesa here; often absent on GPU hosts). */
async function hasGlAdapter(): Promise<boolean> {
  const probe = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "Deno.exit((await navigator.gpu.requestAdapter()) ? 0 : 1)"],
    env: { DENO_WEBGPU_BACKEND: "gl" },
    stdout: "null",
    stderr: "null",
  }).output();
  return probe.code === 0;
}

const glMissing = (await hasGlAdapter()) ? null : "no adapter on wgpu's GL backend";

testNeeding("gl-adapter", glMissing, {
  name: "--precision f16 without shader-f16 (GL): says so, runs f32 and notes it",
  fn: async () => {
    const { stderr, results } = await benchF16("gl");
    assert.equal(results.adapter?.backend, "gl");
    assert.match(stderr, /--precision f16 needs shader-f16, which ".*" lacks: running f32/);
    for (const record of results.records) {
      assert.equal(record.dtype, "f32");
      assert.ok(
        record.notes.includes("f16 was asked for; this adapter lacks shader-f16, so f32 ran"),
      );
      assert.ok(record.quality!.relL2! < 1e-5, "f32 accuracy");
    }
  },
});

const runtime = await GpuRuntime.open();
const f16Missing = lacksShaderF16(runtime.facts);
runtime.destroy();

testNeeding("shader-f16", f16Missing, {
  name: "--precision f16 with shader-f16: f16 storage, f16-sized error against float64",
  fn: async () => {
    const { stderr, results } = await benchF16(undefined);
    assert.doesNotMatch(stderr, /lacks/);
    const [dense] = results.records;
    assert.equal(dense.dtype, "f16");
    assert.ok(!dense.notes.some((note) => note.includes("f16 was asked for")));
    // Inputs rounded to f16 (2^-11 relative): the dense kernel is off by more than f32 would be
    // and well within what f16 allows.
    const relL2 = dense.quality!.relL2!;
    assert.ok(relL2 > 1e-5 && relL2 < 1e-2, `dense relL2 ${relL2}`);
  },
});

testNeeding("shader-f16", f16Missing, {
  name: "--precision f16-math: f16 products, the error against float64 and the tiling recorded",
  fn: async () => {
    const { results } = await benchF16(undefined, "f16-math");
    const [dense] = results.records;
    assert.equal(dense.dtype, "f16-math");
    assert.ok(
      dense.notes.some((note) => /^kernel tiling \S+ \((software|tuned|cached)\)$/.test(note)),
    );
    const relL2 = dense.quality!.relL2!;
    assert.ok(relL2 > 1e-5 && relL2 < 1e-2, `dense relL2 ${relL2}`);
  },
});

Deno.test("--tiling: a tiling that fits runs and is recorded; a malformed one exits 2 in one line", async () => {
  const { results } = await benchF16(undefined, "f32", ["--tiling", "48x32.s4x4.o4x8"]);
  assert.ok(results.records[0].notes.includes("kernel tiling 48x32.s4x4.o4x8 (override)"));
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli/bench.ts", "--tiling", "128x16"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(
    new TextDecoder().decode(bad.stderr),
    /^bench: --tiling must be rows<blockQ>x<blockK>/m,
  );
});

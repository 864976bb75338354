import assert from "node:assert/strict";
import { BufferLimitError, GpuRuntime, NoAdapterError } from "./runtime.ts";
import { PrecisionError, uploadQkv } from "./upload_qkv.ts";

Deno.test("NoAdapterError: no adapter → the error says how to get one", async () => {
  const gpu = navigator.gpu;
  const real = gpu.requestAdapter;
  gpu.requestAdapter = () => Promise.resolve(null);
  try {
    await assert.rejects(GpuRuntime.open(), (error: Error) => {
      assert.ok(error instanceof NoAdapterError);
      assert.match(error.message, /apt-get install -y mesa-vulkan-drivers/);
      return true;
    });
  } finally {
    gpu.requestAdapter = real;
  }
});

Deno.test("NoAdapterError from the CLI: one line, exit 2, nothing written", async () => {
  // wgpu has no DX12 backend on Linux or macOS: asking for it alone finds no adapter.
  const out = `${await Deno.makeTempDir()}/run`;
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli/bench.ts", "--quiet", "--no-history", "--out", out],
    env: { DENO_WEBGPU_BACKEND: "dx12" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 2, stderr);
  assert.match(stderr, /^bench: no WebGPU adapter: install Mesa's software drivers/);
  assert.equal(stderr.trim().split("\n").length, 1);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("BufferLimitError: a buffer past either limit is refused before it is made, naming it", async () => {
  const runtime = await GpuRuntime.open();
  try {
    const { maxStorageBufferBindingSize: maxBinding, maxBufferSize } = runtime.facts;
    assert.throws(
      () => runtime.buffer("q[0]", maxBinding + 4),
      (error: Error) =>
        error instanceof BufferLimitError &&
        error.message.startsWith(`q[0] needs ${maxBinding + 4} bytes`) &&
        error.message.includes(`maxStorageBufferBindingSize (${maxBinding})`),
    );
    assert.throws(
      () => runtime.checkBinding("k[3]", maxBufferSize + 1),
      (error: Error) =>
        error instanceof BufferLimitError &&
        error.message.includes(`over this adapter's maxBufferSize (${maxBufferSize})`),
    );
    runtime.checkBinding("fits", Math.min(maxBinding, maxBufferSize));
  } finally {
    runtime.destroy();
  }
});

Deno.test("PrecisionError: f16 on an adapter without shader-f16 names the adapter and f32", async () => {
  const runtime = {
    facts: { shaderF16: false, description: "an adapter without f16" },
  } as unknown as GpuRuntime;
  const source = {
    description: "unused",
    tokens: 4,
    heads: 1,
    headDim: 4,
    head: () => Promise.reject(new Error("no upload may start")),
  };
  await assert.rejects(uploadQkv(runtime, source, "f16"), (error: Error) => {
    assert.ok(error instanceof PrecisionError);
    assert.match(error.message, /"an adapter without f16" lacks \(allowed here: f32\)/);
    return true;
  });
});

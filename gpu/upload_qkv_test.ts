import assert from "node:assert/strict";
import type { HeadTensors, QkvSource } from "../scenarios/inputs.ts";
import type { AdapterFacts, GpuRuntime } from "./runtime.ts";
import { PrecisionError, uploadHead, uploadQkv } from "./upload_qkv.ts";

/** A runtime that records uploads instead of making buffers: the check needs no adapter. */
function recordingRuntime(shaderF16: boolean) {
  const uploads: { label: string; data: ArrayBufferView }[] = [];
  const facts = { description: "test adapter", shaderF16 } as AdapterFacts;
  const runtime = {
    facts,
    upload(label: string, data: ArrayBufferView) {
      uploads.push({ label, data });
      return { label } as GPUBuffer;
    },
  } as unknown as GpuRuntime;
  return { runtime, uploads };
}

const TENSORS: HeadTensors = {
  q: Float32Array.from([0.1, -2]),
  k: Float32Array.from([3, 0.25]),
  v: Float32Array.from([1e-3, 7]),
};

Deno.test("uploadHead refuses f16 on an adapter without shader-f16, before any upload", () => {
  const { runtime, uploads } = recordingRuntime(false);
  assert.throws(
    () => uploadHead(runtime, TENSORS, "f16", 0),
    (e: unknown) =>
      e instanceof PrecisionError && /"test adapter".*allowed here: f32/.test(e.message),
  );
  assert.equal(uploads.length, 0);
});

Deno.test("uploadQkv refuses f16 on an adapter without shader-f16, before reading a head", async () => {
  const { runtime, uploads } = recordingRuntime(false);
  let headsRead = 0;
  const source: QkvSource = {
    description: "counting source",
    tokens: 1,
    heads: 2,
    headDim: 2,
    head: () => {
      headsRead++;
      return Promise.resolve(TENSORS);
    },
  };
  await assert.rejects(uploadQkv(runtime, source, "f16"), PrecisionError);
  assert.equal(headsRead, 0);
  assert.equal(uploads.length, 0);
});

Deno.test("uploadHead stores f16 as rounded halves where shader-f16 exists, f32 as given", () => {
  const { runtime, uploads } = recordingRuntime(true);
  uploadHead(runtime, TENSORS, "f16", 3);
  uploadHead(runtime, TENSORS, "f32", 3);
  assert.deepEqual(uploads.map((u) => u.label), ["q[3]", "k[3]", "v[3]", "q[3]", "k[3]", "v[3]"]);
  assert.ok(uploads[0].data instanceof Float16Array);
  assert.deepEqual([...(uploads[0].data as Float16Array)], [
    Math.f16round(0.1),
    Math.f16round(-2),
  ]);
  assert.equal(uploads[3].data, TENSORS.q);
});

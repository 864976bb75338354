import { deepStrictEqual, rejects } from "node:assert/strict";
import { readSafetensorsHeader } from "./safetensors.ts";
import { safetensorsHeaderBytes, writeQkvFiles } from "../tools/make_qkv_files.ts";

const SCENARIO = {
  name: "tiny",
  latent: [2, 3, 4] as [number, number, number],
  text: { tokens: 6, position: "suffix" as const },
  heads: 2,
  headDim: 64,
  modelType: "hunyuan" as const,
};

/** Writes a safetensors file from a header object and `dataBytes` zero bytes of data. */
async function writeRaw(header: Record<string, unknown>, dataBytes: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  const prefix = safetensorsHeaderBytes(header);
  const bytes = new Uint8Array(prefix.length + dataBytes);
  bytes.set(prefix);
  await Deno.writeFile(path, bytes);
  return path;
}

async function rejectsWith(path: string, message: RegExp): Promise<void> {
  try {
    await rejects(readSafetensorsHeader(path), { name: "InputFileError", message });
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("readSafetensorsHeader locates q, k, v of a generated file of each dtype", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const dtype of ["f32", "f16", "bf16"] as const) {
      const files = await writeQkvFiles(dir, { scenario: SCENARIO, dtype, name: dtype });
      const tensors = await readSafetensorsHeader(files.path);
      const bytes = 2 * 30 * 64 * (dtype === "f32" ? 4 : 2);
      const size = (await Deno.stat(files.path)).size;
      const dataStart = size - 3 * bytes;
      deepStrictEqual([...tensors.keys()], ["q", "k", "v"]);
      ["q", "k", "v"].forEach((name, i) => {
        deepStrictEqual(tensors.get(name), {
          dtype,
          shape: [2, 30, 64],
          offset: dataStart + i * bytes,
          byteLength: bytes,
        });
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSafetensorsHeader rejects a file shorter than the length field", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(path, new Uint8Array(5));
  await rejectsWith(path, /file is 5 bytes, shorter than the 8-byte safetensors header length$/);
});

Deno.test("readSafetensorsHeader rejects a header length beyond the file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  const bytes = new Uint8Array(20);
  new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
  await Deno.writeFile(path, bytes);
  await rejectsWith(path, /header length 1000 exceeds the 12 bytes after the length field/);
});

Deno.test("readSafetensorsHeader rejects a header that is not JSON", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  const json = new TextEncoder().encode('{"q": {"dtype": ');
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  await Deno.writeFile(path, bytes);
  await rejectsWith(path, /: header is not valid JSON \(/);
});

Deno.test("readSafetensorsHeader names a tensor of an unsupported dtype and the allowed ones", async () => {
  const path = await writeRaw({ q: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, 16);
  await rejectsWith(path, /tensor 'q' dtype "I64" is not supported \(allowed: F32, F16, BF16\)$/);
});

Deno.test("readSafetensorsHeader rejects offsets beyond the data section", async () => {
  const path = await writeRaw({ k: { dtype: "F32", shape: [4], data_offsets: [8, 24] } }, 16);
  await rejectsWith(
    path,
    /tensor 'k' data_offsets \[8, 24\] end beyond the 16-byte data section \(file truncated\?\)$/,
  );
});

Deno.test("readSafetensorsHeader rejects a byte length that differs from shape × dtype", async () => {
  const path = await writeRaw({ v: { dtype: "BF16", shape: [2, 3], data_offsets: [0, 8] } }, 8);
  await rejectsWith(path, /tensor 'v' holds 8 bytes but shape \[2, 3\] of BF16 needs 12$/);
});

Deno.test("readSafetensorsHeader rejects overlapping tensors", async () => {
  const path = await writeRaw({
    q: { dtype: "F32", shape: [4], data_offsets: [0, 16] },
    k: { dtype: "F32", shape: [4], data_offsets: [8, 24] },
  }, 24);
  await rejectsWith(path, /tensor 'k' data_offsets \[8, 24\] overlap tensor 'q' \[0, 16\]$/);
});

Deno.test("readSafetensorsHeader rejects malformed shapes, offsets and metadata", async () => {
  await rejectsWith(
    await writeRaw({ q: { dtype: "F32", shape: [2.5], data_offsets: [0, 8] } }, 8),
    /tensor 'q' shape must be a list of non-negative integers \(got \[2.5\]\)$/,
  );
  await rejectsWith(
    await writeRaw({ q: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, 8),
    /tensor 'q' data_offsets must be \[begin, end\] with 0 ≤ begin ≤ end \(got \[8,0\]\)$/,
  );
  await rejectsWith(
    await writeRaw({ __metadata__: { step: 3 } }, 0),
    /__metadata__ must be an object of strings$/,
  );
});

Deno.test("readSafetensorsHeader reports a truncated generated file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO });
    const size = (await Deno.stat(files.path)).size;
    await Deno.truncate(files.path, size - 100);
    await rejects(readSafetensorsHeader(files.path), {
      name: "InputFileError",
      message: /tensor 'v' data_offsets \[30720, 46080\] end beyond the 45980-byte data section/,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

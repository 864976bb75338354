import { deepStrictEqual, rejects, throws } from "node:assert/strict";
import { npyHeaderBytes, parseNpyHeader, readNpyHeader } from "./npy.ts";
import { writeQkvFiles } from "../tools/make_qkv_files.ts";

const SCENARIO = {
  name: "tiny",
  latent: [2, 3, 4] as [number, number, number],
  text: { tokens: 0, position: "none" as const },
  heads: 3,
  headDim: 64,
  modelType: "wan" as const,
};

/** Writes `prefix` followed by `dataBytes` zero bytes to a temporary .npy file. */
async function writeRaw(prefix: Uint8Array, dataBytes: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".npy" });
  const bytes = new Uint8Array(prefix.length + dataBytes);
  bytes.set(prefix);
  await Deno.writeFile(path, bytes);
  return path;
}

/** An npy prefix of any version and raw header text (for headers numpy would not write). */
function rawPrefix(major: number, header: string): Uint8Array {
  const text = new TextEncoder().encode(header);
  const start = major === 1 ? 10 : 12;
  const bytes = new Uint8Array(start + text.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  bytes.set(text, start);
  return bytes;
}

async function rejectsWith(path: string, message: RegExp): Promise<void> {
  try {
    await rejects(readNpyHeader(path), { name: "InputFileError", message });
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("readNpyHeader locates generated f32 and f16 files", async () => {
  for (const dtype of ["f32", "f16"] as const) {
    const dir = await Deno.makeTempDir();
    try {
      await writeQkvFiles(dir, { scenario: SCENARIO, format: "npy", dtype, layout: "nhd" });
      const bytes = 24 * 3 * 64 * (dtype === "f32" ? 4 : 2);
      deepStrictEqual(await readNpyHeader(`${dir}/k.npy`), {
        dtype,
        shape: [24, 3, 64],
        offset: 128,
        byteLength: bytes,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("readNpyHeader reads version 2 and 3 headers", async () => {
  for (const major of [2, 3]) {
    const path = await writeRaw(
      rawPrefix(major, `{"descr": "<f2", "fortran_order": False, "shape": (5,)}\n`),
      10,
    );
    deepStrictEqual(await readNpyHeader(path), {
      dtype: "f16",
      shape: [5],
      offset: 12 + 56,
      byteLength: 10,
    });
    await Deno.remove(path);
  }
});

Deno.test("parseNpyHeader reads the dict literal numpy writes", () => {
  deepStrictEqual(
    parseNpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 100, 64), }   \n", "x"),
    { dtype: "f32", shape: [2, 100, 64] },
  );
  deepStrictEqual(
    parseNpyHeader("{'shape': (), 'fortran_order': False, 'descr': '<f2'}", "x"),
    { dtype: "f16", shape: [] },
  );
});

Deno.test("parseNpyHeader names the field and the allowed values", () => {
  const header = (descr: string, order = "False", shape = "(2,)") =>
    `{'descr': ${descr}, 'fortran_order': ${order}, 'shape': ${shape}, }`;
  throws(() => parseNpyHeader(header("'<f8'"), "q.npy"), {
    name: "InputFileError",
    message:
      `q.npy: descr "<f8" is not supported (allowed: '<f4', '<f2'; bfloat16 has no npy dtype, ` +
      `use safetensors for bf16)`,
  });
  throws(() => parseNpyHeader(header("'<u2'"), "q.npy"), {
    message: /descr "<u2" is not supported .*bfloat16 has no npy dtype/,
  });
  throws(() => parseNpyHeader(header("'>f4'"), "q.npy"), { message: /descr ">f4"/ });
  throws(() => parseNpyHeader(header("[('a', '<f4')]"), "q.npy"), {
    message: /descr \[\["a","<f4"\]\] is not supported/,
  });
  throws(() => parseNpyHeader(header("'<f4'", "True"), "q.npy"), {
    message: "q.npy: fortran_order is true (allowed: False; save a C-contiguous array)",
  });
  throws(() => parseNpyHeader(header("'<f4'", "False", "(2, -1)"), "q.npy"), {
    message: "q.npy: shape must be a tuple of non-negative integers (got [2,-1])",
  });
  throws(() => parseNpyHeader("{'descr': '<f4', 'shape': (2,)}", "q.npy"), {
    message: "q.npy: header keys are descr, shape (expected: descr, fortran_order, shape)",
  });
  throws(() => parseNpyHeader("{'descr': '<f4', 'shape': (2,", "q.npy"), {
    message: "q.npy: header is not a Python dict literal (missing ')' at character 29)",
  });
  throws(() => parseNpyHeader("(1, 2)", "q.npy"), {
    message: "q.npy: header is not a Python dict literal",
  });
});

Deno.test("readNpyHeader rejects a bad magic and an unknown version", async () => {
  await rejectsWith(
    await writeRaw(new TextEncoder().encode("PK\x03\x04 not numpy at all"), 0),
    /: not an npy file \(magic \\x93NUMPY missing\)$/,
  );
  await rejectsWith(
    await writeRaw(rawPrefix(4, "{}"), 0),
    /: npy version 4\.0 \(allowed: 1, 2, 3\)$/,
  );
});

Deno.test("readNpyHeader rejects data shorter or longer than the shape", async () => {
  const prefix = npyHeaderBytes("<f4", [3, 4]);
  await rejectsWith(
    await writeRaw(prefix, 40),
    /: data is 40 bytes but shape \[3, 4\] of f32 needs 48 \(file truncated\?\)$/,
  );
  await rejectsWith(
    await writeRaw(prefix, 52),
    /: data is 52 bytes but shape \[3, 4\] of f32 needs 48$/,
  );
  await rejectsWith(
    await writeRaw(prefix.subarray(0, 40), 0),
    /: header length 118 exceeds the 30 bytes after the length field \(file truncated\?\)$/,
  );
});

import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { decodeInto, firstNonFinite, readRange } from "./tensor_file.ts";

Deno.test("decodeInto widens f16 and bf16 bit patterns exactly", () => {
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00]);
  const out = new Float32Array(6);
  decodeInto(new Uint8Array(f16.buffer), "f16", out, 1);
  deepStrictEqual([...out], [0, 1, -2, 2 ** -24, 65504, Infinity]);
  const bf16 = new Uint16Array([0x3f80, 0xc000, 0x4049, 0xff80]);
  decodeInto(new Uint8Array(bf16.buffer), "bf16", out, 2);
  deepStrictEqual([...out], [0, 1, 1, -2, 3.140625, -Infinity]);
  const f32 = new Float32Array([0.1, -7]);
  decodeInto(new Uint8Array(f32.buffer), "f32", out, 0);
  deepStrictEqual([...out.subarray(0, 2)], [...f32]);
});

Deno.test("firstNonFinite finds the first NaN or Inf", () => {
  strictEqual(firstNonFinite(new Float32Array([1, -3e38, 0])), -1);
  strictEqual(firstNonFinite(new Float32Array([1, 2, NaN, Infinity])), 2);
  strictEqual(firstNonFinite(new Float32Array([-Infinity, NaN])), 0);
});

Deno.test("readRange reads one range and reports a file that ends early", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    using file = await Deno.open(path);
    deepStrictEqual([...await readRange(file, { offset: 3, length: 4 }, path)], [3, 4, 5, 6]);
    await rejects(readRange(file, { offset: 6, length: 8 }, path), {
      name: "InputFileError",
      message: `${path}: file ends at byte 10, expected 8 bytes from byte 6 (file truncated?)`,
    });
  } finally {
    await Deno.remove(path);
  }
});

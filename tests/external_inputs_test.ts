/**
 * Input files written by other tools, not by Longshot's writer: `.npy` files from real NumPy and
 * `.safetensors` files from an independent writer that follows the format's specification (the
 * safetensors package was not installable where they were made). Both are committed fixtures;
 * tests/fixtures/make_external_inputs.py made them and says how.
 */
import assert from "node:assert/strict";
import { loadFileInputs } from "../scenarios/file_inputs.ts";

const FIXTURES = new URL("./fixtures/external_inputs/", import.meta.url).pathname;

/** make_external_inputs.py's value(tensor, head, token, dim), recomputed here. */
function value(tensor: number, head: number, token: number, dim: number): number {
  return (((tensor * 5 + head * 7 + token * 3 + dim) % 17) - 8) / 8;
}

const CASES = [
  { path: "npy_f32_hnd", format: "npy", dtype: "f32", layout: "hnd" },
  { path: "npy_f16_nhd", format: "npy", dtype: "f16", layout: "nhd" },
  { path: "st_bf16_hnd.safetensors", format: "safetensors", dtype: "bf16", layout: "hnd" },
  { path: "st_f32_nhd.safetensors", format: "safetensors", dtype: "f32", layout: "nhd" },
];

for (const expected of CASES) {
  Deno.test(`inputs written by another tool: ${expected.path} reads back element for element`, async () => {
    const { scenario, inputs } = await loadFileInputs(FIXTURES + expected.path);
    assert.deepEqual(
      [inputs.format, inputs.dtype, inputs.layout],
      [expected.format, expected.dtype, expected.layout],
    );
    assert.deepEqual([scenario.latent, scenario.heads, scenario.headDim], [[2, 2, 4], 2, 64]);
    assert.equal(inputs.tokens, 16);
    await inputs.validateAll();
    const d = 64;
    for (let head = 0; head < 2; head++) {
      const tensors = await inputs.head(head);
      [tensors.q, tensors.k, tensors.v].forEach((values, tensor) => {
        assert.equal(values.length, 16 * d);
        for (let token = 0; token < 16; token++) {
          for (let dim = 0; dim < d; dim++) {
            const got = values[token * d + dim];
            const want = value(tensor, head, token, dim);
            if (got !== want) {
              assert.fail(
                `${"qkv"[tensor]} head ${head} token ${token} dim ${dim}: ${got} ≠ ${want}`,
              );
            }
          }
        }
      });
    }
  });
}

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { loadFileInputs } from "./file_inputs.ts";
import { npyBytes } from "./npy.ts";
import type { TensorDtype, TensorLayout } from "./tensor_file.ts";
import {
  type QkvFileOptions,
  qkvValue,
  roundToDtype,
  safetensorsHeaderBytes,
  type ScenarioFileFields,
  writeQkvFiles,
} from "../tools/make_qkv_files.ts";

/** 2×3×4 latent + 6 suffix text tokens = 30 tokens, 3 heads of 64. */
const SCENARIO: ScenarioFileFields = {
  name: "tiny",
  latent: [2, 3, 4],
  text: { tokens: 6, position: "suffix" },
  heads: 3,
  headDim: 64,
  modelType: "hunyuan",
};

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes files with `options` and expects loading them to fail with `message`. */
async function loadRejects(
  options: Partial<QkvFileOptions>,
  edit: (files: { path: string; sidecar: string }) => Promise<void>,
  error: { name: string; message: RegExp | string },
): Promise<void> {
  await inTempDir(async (dir) => {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO, ...options });
    await edit(files);
    await rejects(loadFileInputs(files.path), error);
  });
}

const noEdit = () => Promise.resolve();

/** Checks every element of every head against the generator's values rounded to `dtype`. */
async function checkValues(
  path: string,
  expected: { dtype: TensorDtype; layout: TensorLayout; format: string; chunkBytes?: number },
): Promise<void> {
  const { scenario, inputs } = await loadFileInputs(path, { chunkBytes: expected.chunkBytes });
  deepStrictEqual([scenario.latent, scenario.text, scenario.heads, scenario.headDim], [
    [2, 3, 4],
    { tokens: 6, position: "suffix" },
    3,
    64,
  ]);
  deepStrictEqual(
    [inputs.tokens, inputs.heads, inputs.headDim, inputs.dtype, inputs.layout, inputs.format],
    [30, 3, 64, expected.dtype, expected.layout, expected.format],
  );
  strictEqual(
    inputs.description,
    `${path} (${expected.format} ${expected.dtype}, ${expected.layout})`,
  );
  for (let head = 0; head < 3; head++) {
    const tensors = await inputs.head(head);
    for (const tensor of ["q", "k", "v"] as const) {
      const values = tensors[tensor];
      strictEqual(values.length, 30 * 64);
      for (let token = 0; token < 30; token++) {
        for (let dim = 0; dim < 64; dim++) {
          const want = roundToDtype(qkvValue(1, { tensor, head, token, dim }), expected.dtype);
          if (values[token * 64 + dim] !== want) {
            throw new Error(
              `${tensor} head ${head} token ${token} dim ${dim}: ${
                values[token * 64 + dim]
              } ≠ ${want}`,
            );
          }
        }
      }
    }
  }
}

Deno.test("loadFileInputs round-trips every dtype, layout and format exactly", async () => {
  const cases: Array<["safetensors" | "npy", TensorDtype]> = [
    ["safetensors", "f32"],
    ["safetensors", "f16"],
    ["safetensors", "bf16"],
    ["npy", "f32"],
    ["npy", "f16"],
  ];
  for (const [format, dtype] of cases) {
    for (const layout of ["hnd", "nhd"] as const) {
      await inTempDir(async (dir) => {
        const files = await writeQkvFiles(dir, { scenario: SCENARIO, format, dtype, layout });
        await checkValues(files.path, { dtype, layout, format });
      });
    }
  }
});

Deno.test("loadFileInputs gathers an nhd head across many partial row blocks", async () => {
  await inTempDir(async (dir) => {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO, dtype: "bf16", layout: "nhd" });
    // 7 tokens of 3 heads × 64 × 2 bytes a block: 5 blocks, the last one of 2 tokens.
    await checkValues(files.path, {
      dtype: "bf16",
      layout: "nhd",
      format: "safetensors",
      chunkBytes: 7 * 384 + 1,
    });
  });
});

Deno.test("bf16 values load as the nearest bf16 of the generated f32", async () => {
  await inTempDir(async (dir) => {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO, dtype: "bf16" });
    const { q } = await (await loadFileInputs(files.path)).inputs.head(2);
    const bits = new Uint32Array(q.buffer, q.byteOffset, q.length);
    const scratch = new Float32Array(3);
    const scratchBits = new Uint32Array(scratch.buffer);
    for (let i = 0; i < q.length; i++) {
      scratch[0] = qkvValue(1, { tensor: "q", head: 2, token: Math.floor(i / 64), dim: i % 64 });
      scratchBits[1] = scratchBits[0] & 0xffff0000; // truncated toward zero
      scratchBits[2] = scratchBits[1] + 0x10000; // next bf16 away from zero
      strictEqual(bits[i] & 0xffff, 0);
      ok(q[i] === scratch[1] || q[i] === scratch[2], `element ${i} is not a bf16 neighbour`);
      const other = q[i] === scratch[1] ? scratch[2] : scratch[1];
      ok(Math.abs(q[i] - scratch[0]) <= Math.abs(other - scratch[0]), `element ${i} not nearest`);
    }
  });
});

Deno.test("loadFileInputs defaults the layout to hnd when the sidecar gives none", async () => {
  await inTempDir(async (dir) => {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO });
    await Deno.writeTextFile(files.sidecar, JSON.stringify(SCENARIO));
    strictEqual((await loadFileInputs(files.path)).inputs.layout, "hnd");
  });
});

Deno.test("loadFileInputs rejects a missing path, a wrong extension and a missing sidecar", async () => {
  await inTempDir(async (dir) => {
    await rejects(loadFileInputs(`${dir}/none.safetensors`), {
      name: "InputFileError",
      message: `${dir}/none.safetensors: not found (inputs are FILE.safetensors with FILE.json ` +
        `beside it, or a directory holding q.npy, k.npy, v.npy and scenario.json)`,
    });
    await Deno.writeTextFile(`${dir}/qkv.bin`, "");
    await rejects(loadFileInputs(`${dir}/qkv.bin`), {
      name: "InputFileError",
      message: /qkv\.bin: inputs must be a \.safetensors file or a directory holding q\.npy/,
    });
  });
  await loadRejects({}, (files) => Deno.remove(files.sidecar), {
    name: "InputFileError",
    message:
      /qkv\.json: scenario sidecar not found \(FILE\.safetensors needs the scenario in FILE\.json beside it\)$/,
  });
  await loadRejects({ format: "npy" }, (files) => Deno.remove(files.sidecar), {
    name: "InputFileError",
    message:
      /scenario\.json: scenario file not found \(a directory input holds q\.npy, k\.npy, v\.npy and scenario\.json\)$/,
  });
});

Deno.test("loadFileInputs rejects a broken sidecar", async () => {
  await loadRejects({}, (files) => Deno.writeTextFile(files.sidecar, "{ latent: "), {
    name: "InputFileError",
    message: /qkv\.json: not valid JSON \(/,
  });
  const withField = (field: Record<string, unknown>) => (files: { sidecar: string }) =>
    Deno.writeTextFile(files.sidecar, JSON.stringify({ ...SCENARIO, ...field }));
  await loadRejects({}, withField({ layout: "thd" }), {
    name: "InputFileError",
    message: /qkv\.json: layout "thd" is not allowed \(allowed: hnd, nhd\)$/,
  });
  await loadRejects({}, withField({ dtype: "bf16" }), {
    name: "ScenarioError",
    message: /qkv\.json": unknown field "dtype" \(allowed: .*, source, schedule, layout\)$/,
  });
});

Deno.test("loadFileInputs rejects shapes that differ from the sidecar's scenario and layout", async () => {
  await loadRejects(
    {},
    (files) =>
      Deno.writeTextFile(files.sidecar, JSON.stringify({ ...SCENARIO, text: { tokens: 8 } })),
    {
      name: "InputFileError",
      message:
        /qkv\.safetensors: tensor 'q' shape \[3, 30, 64\] does not match .*qkv\.json \(layout hnd \[heads, tokens, headDim\] = \[3, 32, 64\]; tokens = 24 video \+ 8 text\)$/,
    },
  );
  await loadRejects(
    { format: "npy", layout: "nhd" },
    (files) => Deno.writeTextFile(files.sidecar, JSON.stringify({ ...SCENARIO, layout: "hnd" })),
    {
      name: "InputFileError",
      message:
        /q\.npy: tensor 'q' shape \[30, 3, 64\] does not match .*scenario\.json \(layout hnd \[heads, tokens, headDim\] = \[3, 30, 64\]; tokens = 24 video \+ 6 text\)$/,
    },
  );
});

Deno.test("loadFileInputs rejects q, k, v of different dtypes", async () => {
  await inTempDir(async (dir) => {
    const shape = [1, 2, 64];
    const header = safetensorsHeaderBytes({
      q: { dtype: "F32", shape, data_offsets: [0, 512] },
      k: { dtype: "F16", shape, data_offsets: [512, 768] },
      v: { dtype: "F32", shape, data_offsets: [768, 1280] },
    });
    const bytes = new Uint8Array(header.length + 1280);
    bytes.set(header);
    await Deno.writeFile(`${dir}/mixed.safetensors`, bytes);
    await Deno.writeTextFile(
      `${dir}/mixed.json`,
      JSON.stringify({ latent: [1, 1, 2], heads: 1, headDim: 64 }),
    );
    await rejects(loadFileInputs(`${dir}/mixed.safetensors`), {
      name: "InputFileError",
      message: `${dir}/mixed.safetensors: tensor 'k' dtype f16 differs from tensor 'q' dtype f32 ` +
        `(q, k and v must share one dtype)`,
    });
  });
});

Deno.test("loadFileInputs rejects a missing tensor and a truncated file", async () => {
  await loadRejects({ omit: "v" }, noEdit, {
    name: "InputFileError",
    message: /qkv\.safetensors: tensor 'v' missing \(found: q, k; required: q, k, v\)$/,
  });
  await loadRejects({ format: "npy", omit: "v" }, noEdit, {
    name: "InputFileError",
    message:
      /v\.npy: tensor 'v' missing \(a directory input holds q\.npy, k\.npy, v\.npy and scenario\.json\)$/,
  });
  await loadRejects({}, (files) => Deno.truncate(files.path, 1000), {
    name: "InputFileError",
    message:
      /qkv\.safetensors: tensor 'q' data_offsets \[0, 23040\] end beyond the \d+-byte data section \(file truncated\?\)$/,
  });
  await loadRejects({ format: "npy" }, (files) => Deno.truncate(`${files.path}/k.npy`, 5000), {
    name: "InputFileError",
    message:
      /k\.npy: data is 4872 bytes but shape \[3, 30, 64\] of f32 needs 23040 \(file truncated\?\)$/,
  });
});

Deno.test("a head holding NaN or Inf is refused with its first index", async () => {
  await inTempDir(async (dir) => {
    const poison = { tensor: "k" as const, head: 1, token: 7, dim: 5, value: NaN };
    const files = await writeQkvFiles(dir, { scenario: SCENARIO, dtype: "bf16", poison });
    const { inputs } = await loadFileInputs(files.path);
    await inputs.head(0);
    const message =
      `${files.path}: tensor 'k' holds NaN at head 1, token 7, dim 5 (inputs must be finite)`;
    await rejects(inputs.head(1), { name: "InputFileError", message });
    await rejects(inputs.validateAll(), { name: "InputFileError", message });
    const unchecked = await loadFileInputs(files.path, { checkFinite: false });
    ok(Number.isNaN((await unchecked.inputs.head(1)).k[7 * 64 + 5]));
  });
  await inTempDir(async (dir) => {
    const poison = { tensor: "v" as const, head: 2, token: 29, dim: 63, value: -Infinity };
    const files = await writeQkvFiles(dir, {
      scenario: SCENARIO,
      format: "npy",
      dtype: "f16",
      layout: "nhd",
      poison,
    });
    await rejects((await loadFileInputs(files.path)).inputs.validateAll(), {
      name: "InputFileError",
      message: `${files.path}/v.npy: tensor 'v' holds -Infinity at head 2, token 29, dim 63 ` +
        `(inputs must be finite)`,
    });
  });
});

Deno.test("head() rejects an index outside 0..heads-1", async () => {
  await inTempDir(async (dir) => {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO });
    const { inputs } = await loadFileInputs(files.path);
    await rejects(inputs.head(3), { name: "RangeError", message: "head must be 0..2 (got 3)" });
  });
});

Deno.test("file inputs: an optional x.npy is the source's hidden states; a wrong shape is refused", async () => {
  await inTempDir(async (dir) => {
    const files = await writeQkvFiles(dir, { scenario: SCENARIO, format: "npy" });
    const plain = await loadFileInputs(files.path);
    strictEqual(plain.inputs.hidden, undefined);
    const x = Float32Array.from({ length: 30 * 5 }, (_, i) => i / 8 - 3);
    await Deno.writeFile(`${files.path}/x.npy`, npyBytes(x, [30, 5]));
    const { inputs } = await loadFileInputs(files.path);
    ok(inputs.description.includes("with x"), inputs.description);
    const hidden = await inputs.hidden!();
    strictEqual(hidden.dims, 5);
    deepStrictEqual(hidden.x, x);
    await Deno.writeFile(`${files.path}/x.npy`, npyBytes(x, [5, 30]));
    await rejects(loadFileInputs(files.path), {
      name: "InputFileError",
      message: /tensor 'x' shape \[5, 30\] must be \[tokens, dims\] with tokens = 30/,
    });
  });
});

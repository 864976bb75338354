/**
 * Q/K/V captured from a real model, read from files (docs/scenarios.md "Q/K/V inputs" 2 and
 * "Validation"; docs/cli.md "Input files"):
 * - `FILE.safetensors` with tensors `q`, `k`, `v` and the scenario file beside it in `FILE.json`;
 * - a `DIR` holding `q.npy`, `k.npy`, `v.npy` and `scenario.json`.
 * Either may also hold the hidden states `x` ([tokens, dims], any dtype allowed for q; MoGA's
 * router input), offered as the source's `hidden()`.
 * The scenario file may add `"layout": "hnd"` ([heads, tokens, d], the default) or `"nhd"`
 * ([tokens, heads, d]). Shapes and dtypes are checked against the scenario when the files are
 * opened; values are read one head at a time (bounded memory) and checked for NaN/Inf then.
 *
 * @module
 */
import type { HeadTensors, HiddenStates, QkvSource } from "./inputs.ts";
import { readNpyHeader } from "./npy.ts";
import { readSafetensorsHeader } from "./safetensors.ts";
import { INPUT_SIDECAR_KEYS, parseScenario } from "./scenario_file.ts";
import { type Scenario, textTokens, totalTokens, videoTokens } from "./scenario.ts";
import {
  decodeInto,
  DTYPE_BYTES,
  firstNonFinite,
  formatShape,
  InputFileError,
  readRange,
  TENSOR_LAYOUTS,
  type TensorDtype,
  type TensorEntry,
  type TensorLayout,
} from "./tensor_file.ts";

/** The tensor names an input file must hold. */
export const QKV_NAMES = ["q", "k", "v"] as const;

/** The name of the optional hidden-states tensor ([tokens, dims]). */
export const HIDDEN_NAME = "x";

/** Options of {@link loadFileInputs}. */
export interface FileInputOptions {
  /** Scan every head for NaN/Inf as it is loaded (default true). */
  checkFinite?: boolean;
  /** Bytes read at a time when gathering one head of an `nhd` tensor (default 16 MiB). */
  chunkBytes?: number;
}

/** A Q/K/V source backed by files. */
export interface FileQkvSource extends QkvSource {
  /** `safetensors` or `npy`. */
  format: "safetensors" | "npy";
  /** Stored element type (shared by q, k and v). */
  dtype: TensorDtype;
  /** Stored dimension order. */
  layout: TensorLayout;
  /** Reads every head and throws {@link InputFileError} at the first NaN/Inf (before a run). */
  validateAll(): Promise<void>;
}

/** What {@link loadFileInputs} returns: the scenario of the sidecar and the tensors' source. */
export interface FileInputs {
  /** The scenario parsed from the sidecar (`FILE.json` or `DIR/scenario.json`). */
  scenario: Scenario;
  /** Q/K/V, one head at a time, in the original token order. */
  inputs: FileQkvSource;
}

const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

type QkvName = typeof QKV_NAMES[number];
interface LocatedTensor {
  file: string;
  entry: TensorEntry;
}

/**
 * Opens `FILE.safetensors` (+ `FILE.json`) or `DIR` (`q.npy`, `k.npy`, `v.npy`, `scenario.json`),
 * parses the scenario, and checks every tensor's shape and dtype against it. Throws
 * {@link InputFileError} naming the file, tensor and field for any mismatch (scenario errors
 * come from `parseScenario`).
 *
 * @example
 * ```ts
 * import { loadFileInputs } from "./file_inputs.ts";
 * import { writeQkvFiles } from "../tools/make_qkv_files.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const scenario = { name: "clip", latent: [2, 4, 4] as [number, number, number], heads: 2,
 *   headDim: 64, modelType: "wan" as const };
 * const { path } = await writeQkvFiles(dir, { scenario, dtype: "bf16", layout: "nhd" });
 * const { inputs } = await loadFileInputs(path); // qkv.safetensors + qkv.json
 * await inputs.validateAll(); // refuse NaN/Inf before anything is written
 * const { q } = await inputs.head(1); // [tokens, d] f32, original token order
 * deepStrictEqual([inputs.tokens, inputs.dtype, q.length], [32, "bf16", 32 * 64]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadFileInputs(
  path: string,
  options: FileInputOptions = {},
): Promise<FileInputs> {
  const info = await statOrThrow(path);
  const format = info.isDirectory ? "npy" : "safetensors";
  if (!info.isDirectory && !path.endsWith(".safetensors")) {
    throw new InputFileError(
      `${path}: inputs must be a .safetensors file or a directory holding q.npy, k.npy, v.npy ` +
        `and scenario.json`,
    );
  }
  const sidecar = info.isDirectory ? joinPath(path, "scenario.json") : sidecarOf(path);
  const { scenario, layout } = await readSidecar(sidecar, format);
  const tensors = format === "npy" ? await locateNpy(path) : await locateSafetensors(path);
  const dtype = checkTensors(tensors, scenario, layout, sidecar);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(chunkBytes > 0)) throw new RangeError(`chunkBytes must be > 0 (got ${chunkBytes})`);
  const shape = { heads: scenario.heads, tokens: totalTokens(scenario), headDim: scenario.headDim };
  const readHead = async (h: number, checkFinite: boolean): Promise<HeadTensors> => {
    if (!Number.isInteger(h) || h < 0 || h >= shape.heads) {
      throw new RangeError(`head must be 0..${shape.heads - 1} (got ${h})`);
    }
    // One tensor after the other: a deterministic first error and one read buffer at a time.
    const values: Float32Array[] = [];
    for (const name of QKV_NAMES) {
      values.push(await readTensorHead(tensors[name], h, { ...shape, layout, chunkBytes }));
      if (checkFinite) {
        checkHeadFinite(values[values.length - 1], { ...tensors[name], name, head: h, shape });
      }
    }
    const [q, k, v] = values;
    return { q, k, v };
  };
  const hidden = await locateHidden(path, format);
  const hiddenDims = hidden ? checkHidden(hidden, shape.tokens) : 0;
  const readHidden = async (): Promise<HiddenStates> => {
    const x = await readTensorHead(hidden!, 0, {
      heads: 1,
      tokens: shape.tokens,
      headDim: hiddenDims,
      layout: "hnd",
      chunkBytes,
    });
    const index = firstNonFinite(x);
    if (index >= 0) {
      throw new InputFileError(
        `${hidden!.file}: tensor '${HIDDEN_NAME}' holds ${x[index]} at token ` +
          `${Math.floor(index / hiddenDims)}, dim ${index % hiddenDims} (inputs must be finite)`,
      );
    }
    return { dims: hiddenDims, x };
  };
  const inputs: FileQkvSource = {
    description: `${path} (${format} ${dtype}, ${layout}${hidden ? ", with x" : ""})`,
    tokens: shape.tokens,
    heads: shape.heads,
    headDim: shape.headDim,
    format,
    dtype,
    layout,
    head: (h) => readHead(h, options.checkFinite ?? true),
    ...(hidden ? { hidden: readHidden } : {}),
    async validateAll() {
      for (let h = 0; h < shape.heads; h++) await readHead(h, true);
    },
  };
  return { scenario, inputs };
}

/** `FILE.safetensors` → `FILE.json`. */
function sidecarOf(path: string): string {
  return path.slice(0, -".safetensors".length) + ".json";
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function statOrThrow(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new InputFileError(
      `${path}: not found (inputs are FILE.safetensors with FILE.json beside it, or a directory ` +
        `holding q.npy, k.npy, v.npy and scenario.json)`,
    );
  }
}

async function readSidecar(
  sidecar: string,
  format: "safetensors" | "npy",
): Promise<{ scenario: Scenario; layout: TensorLayout }> {
  let text: string;
  try {
    text = await Deno.readTextFile(sidecar);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new InputFileError(
      format === "npy"
        ? `${sidecar}: scenario file not found (a directory input holds q.npy, k.npy, v.npy ` +
          `and scenario.json)`
        : `${sidecar}: scenario sidecar not found (FILE.safetensors needs the scenario in ` +
          `FILE.json beside it)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputFileError(`${sidecar}: not valid JSON (${(error as Error).message})`);
  }
  const scenario = parseScenario(json, sidecar, { extraKeys: INPUT_SIDECAR_KEYS });
  const layout = (json as { layout?: unknown }).layout ?? "hnd";
  if (!TENSOR_LAYOUTS.includes(layout as TensorLayout)) {
    throw new InputFileError(
      `${sidecar}: layout ${JSON.stringify(layout)} is not allowed (allowed: ` +
        `${TENSOR_LAYOUTS.join(", ")})`,
    );
  }
  return { scenario, layout: layout as TensorLayout };
}

async function locateSafetensors(path: string): Promise<Record<QkvName, LocatedTensor>> {
  const entries = await readSafetensorsHeader(path);
  const found = [...entries.keys()];
  const located = {} as Record<QkvName, LocatedTensor>;
  for (const name of QKV_NAMES) {
    const entry = entries.get(name);
    if (entry === undefined) {
      throw new InputFileError(
        `${path}: tensor '${name}' missing (found: ${found.join(", ") || "none"}; ` +
          `required: ${QKV_NAMES.join(", ")})`,
      );
    }
    located[name] = { file: path, entry };
  }
  return located;
}

async function locateNpy(dir: string): Promise<Record<QkvName, LocatedTensor>> {
  const located = {} as Record<QkvName, LocatedTensor>;
  for (const name of QKV_NAMES) {
    const file = joinPath(dir, `${name}.npy`);
    try {
      located[name] = { file, entry: await readNpyHeader(file) };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new InputFileError(
        `${file}: tensor '${name}' missing (a directory input holds q.npy, k.npy, v.npy and ` +
          `scenario.json)`,
      );
    }
  }
  return located;
}

/** The optional `x` tensor of a safetensors file or `x.npy` of a folder, or null. */
async function locateHidden(
  path: string,
  format: "safetensors" | "npy",
): Promise<LocatedTensor | null> {
  if (format === "safetensors") {
    const entry = (await readSafetensorsHeader(path)).get(HIDDEN_NAME);
    return entry ? { file: path, entry } : null;
  }
  const file = joinPath(path, `${HIDDEN_NAME}.npy`);
  try {
    return { file, entry: await readNpyHeader(file) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** The width of `x`, after checking that it is [tokens, dims]. */
function checkHidden(hidden: LocatedTensor, tokens: number): number {
  const shape = hidden.entry.shape;
  if (shape.length !== 2 || shape[0] !== tokens || !(shape[1] >= 1)) {
    throw new InputFileError(
      `${hidden.file}: tensor '${HIDDEN_NAME}' shape ${formatShape(shape)} must be ` +
        `[tokens, dims] with tokens = ${tokens} (the hidden states, one row a token)`,
    );
  }
  return shape[1];
}

/** Checks every shape against the scenario and layout and that q, k, v share one dtype. */
function checkTensors(
  tensors: Record<QkvName, LocatedTensor>,
  scenario: Scenario,
  layout: TensorLayout,
  sidecar: string,
): TensorDtype {
  const tokens = totalTokens(scenario);
  const expected = layout === "hnd"
    ? [scenario.heads, tokens, scenario.headDim]
    : [tokens, scenario.heads, scenario.headDim];
  const order = layout === "hnd" ? "[heads, tokens, headDim]" : "[tokens, heads, headDim]";
  for (const name of QKV_NAMES) {
    const { file, entry } = tensors[name];
    if (formatShape(entry.shape) !== formatShape(expected)) {
      throw new InputFileError(
        `${file}: tensor '${name}' shape ${formatShape(entry.shape)} does not match ${sidecar} ` +
          `(layout ${layout} ${order} = ${formatShape(expected)}; tokens = ` +
          `${videoTokens(scenario)} video + ${textTokens(scenario)} text)`,
      );
    }
  }
  const dtype = tensors.q.entry.dtype;
  for (const name of QKV_NAMES) {
    const { file, entry } = tensors[name];
    if (entry.dtype !== dtype) {
      throw new InputFileError(
        `${file}: tensor '${name}' dtype ${entry.dtype} differs from tensor 'q' dtype ${dtype} ` +
          `(q, k and v must share one dtype)`,
      );
    }
  }
  return dtype;
}

interface HeadShape {
  heads: number;
  tokens: number;
  headDim: number;
  layout: TensorLayout;
  chunkBytes: number;
}

/** One head of one tensor as [tokens, d] f32, reading only its bytes (hnd) or row blocks (nhd). */
async function readTensorHead(
  located: LocatedTensor,
  head: number,
  shape: HeadShape,
): Promise<Float32Array> {
  const { file: path, entry } = located;
  const elementBytes = DTYPE_BYTES[entry.dtype];
  const headElements = shape.tokens * shape.headDim;
  using file = await Deno.open(path, { read: true });
  if (shape.layout === "hnd") {
    const raw = await readRange(file, {
      offset: entry.offset + head * headElements * elementBytes,
      length: headElements * elementBytes,
    }, path);
    if (entry.dtype === "f32") return new Float32Array(raw.buffer);
    const out = new Float32Array(headElements);
    decodeInto(raw, entry.dtype, out, 0);
    return out;
  }
  const out = new Float32Array(headElements);
  const sliceBytes = shape.headDim * elementBytes;
  const rowBytes = shape.heads * sliceBytes;
  const blockTokens = Math.max(1, Math.floor(shape.chunkBytes / rowBytes));
  for (let first = 0; first < shape.tokens; first += blockTokens) {
    const count = Math.min(blockTokens, shape.tokens - first);
    const block = await readRange(file, {
      offset: entry.offset + first * rowBytes,
      length: count * rowBytes,
    }, path);
    for (let t = 0; t < count; t++) {
      const start = t * rowBytes + head * sliceBytes;
      decodeInto(
        block.subarray(start, start + sliceBytes),
        entry.dtype,
        out,
        (first + t) * shape.headDim,
      );
    }
  }
  return out;
}

function checkHeadFinite(
  values: Float32Array,
  where: LocatedTensor & { name: QkvName; head: number; shape: { headDim: number } },
): void {
  const index = firstNonFinite(values);
  if (index < 0) return;
  const token = Math.floor(index / where.shape.headDim);
  const dim = index % where.shape.headDim;
  throw new InputFileError(
    `${where.file}: tensor '${where.name}' holds ${values[index]} at head ${where.head}, ` +
      `token ${token}, dim ${dim} (inputs must be finite)`,
  );
}

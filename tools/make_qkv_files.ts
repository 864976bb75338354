/**
 * Writes Q/K/V input files (docs/cli.md "Input files") from seeded values, for tests and for trying
 * `bench --inputs` without a GPU model: `FILE.safetensors` + `FILE.json`, or a directory of
 * `q.npy`, `k.npy`, `v.npy` + `scenario.json`, in f32, f16 or bf16 and layout hnd or nhd. Values
 * are a pure function of (seed, tensor, head, token, dim), {@link qkvValue}, so a test can
 * recompute any element without keeping the tensors; data is written in bounded chunks.
 *
 * As a command:
 * ```sh
 * deno run -A tools/make_qkv_files.ts --latent 10x32x31 --text 80 --heads 2 --head-dim 64 \
 *   --dtype bf16 --layout hnd --format safetensors --out /tmp/qkv10k
 * ```
 *
 * @module
 */
import { parseCommandLine } from "../cli/_usage.ts";
import { npyHeaderBytes } from "../scenarios/npy.ts";
import type { TensorDtype, TensorLayout } from "../scenarios/tensor_file.ts";

/** The scenario-file fields written to the sidecar (docs/cli.md "Scenario file"). */
export interface ScenarioFileFields {
  /** Scenario name. */
  name: string;
  /** Latent [T, H, W]. */
  latent: [number, number, number];
  /** Prompt tokens and position (omit for none). */
  text?: { tokens: number; position: "suffix" | "prefix" | "none" };
  /** Frames per shot (omit for one shot). */
  shots?: number[];
  /** Attention heads. */
  heads: number;
  /** Head dimension. */
  headDim: number;
  /** Model family. */
  modelType: "hunyuan" | "wan" | "mochi";
}

/** One of the three tensors. */
export type QkvName = "q" | "k" | "v";

/** Options of {@link writeQkvFiles}. */
export interface QkvFileOptions {
  /** The scenario written beside the tensors; fixes their shape. */
  scenario: ScenarioFileFields;
  /** `safetensors` (default) or `npy`. */
  format?: "safetensors" | "npy";
  /** Stored element type (default f32; npy has no bf16). */
  dtype?: TensorDtype;
  /** Stored dimension order (default hnd), also written to the sidecar's `layout`. */
  layout?: TensorLayout;
  /** Seed of {@link qkvValue} (default 1). */
  seed?: number;
  /** Base name of `NAME.safetensors` / `NAME.json` (default `qkv`). */
  name?: string;
  /** One element replaced by `value` (e.g. NaN), to test validation. */
  poison?: { tensor: QkvName; head: number; token: number; dim: number; value: number };
  /** A tensor left out of the files, to test validation. */
  omit?: QkvName;
}

/** Where {@link writeQkvFiles} wrote. */
export interface QkvFiles {
  /** What to pass to `loadFileInputs` / `--inputs`: the .safetensors file or the directory. */
  path: string;
  /** The scenario sidecar. */
  sidecar: string;
  /** Sequence length L of the scenario. */
  tokens: number;
}

const QKV: readonly QkvName[] = ["q", "k", "v"];
const NPY_DESCR: Partial<Record<TensorDtype, string>> = { f32: "<f4", f16: "<f2" };
const SAFETENSORS_DTYPE: Record<TensorDtype, string> = { f32: "F32", f16: "F16", bf16: "BF16" };
const BYTES: Record<TensorDtype, number> = { f32: 4, f16: 2, bf16: 2 };
const CHUNK_ELEMENTS = 1 << 20;

/** A 32-bit integer hash (lowbias32): the generator's only source of randomness. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The f32 value stored at (tensor, head, token, dim): a seeded hash mapped to ±[0, 1) × 2^e with
 * e in −6..3, so values span f16's normal and subnormal ranges and rounding is exercised.
 */
export function qkvValue(
  seed: number,
  at: { tensor: QkvName; head: number; token: number; dim: number },
): number {
  const bits = mix(mix(mix(mix(seed ^ QKV.indexOf(at.tensor)) ^ at.head) ^ at.token) ^ at.dim);
  const mantissa = (bits & 0xffffff) / 0x800000 - 1;
  return Math.fround(mantissa * 2 ** ((bits >>> 24) % 10 - 6));
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The bf16 bits of `x`, rounded to nearest, ties to even (NaN stays a quiet NaN). */
export function bf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** `x` rounded to `dtype` and widened back to a number (what a loader must return). */
export function roundToDtype(x: number, dtype: TensorDtype): number {
  if (dtype === "f32") return Math.fround(x);
  if (dtype === "f16") return Math.f16round(x);
  u32Scratch[0] = bf16Bits(x) << 16;
  return f32Scratch[0];
}

/** A safetensors prefix: the u64 little-endian header length, then the JSON padded to 8 bytes. */
export function safetensorsHeaderBytes(header: Record<string, unknown>): Uint8Array {
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(new TextEncoder().encode(json), 8);
  return bytes;
}

/** Sequence length of a scenario file: T·H·W video tokens plus text unless its position is none. */
export function scenarioTokens(scenario: ScenarioFileFields): number {
  const [t, h, w] = scenario.latent;
  const text = scenario.text && scenario.text.position !== "none" ? scenario.text.tokens : 0;
  return t * h * w + text;
}

/** Writes the tensors and the sidecar into directory `out` (created if missing). */
export async function writeQkvFiles(out: string, options: QkvFileOptions): Promise<QkvFiles> {
  const format = options.format ?? "safetensors";
  const dtype = options.dtype ?? "f32";
  const layout = options.layout ?? "hnd";
  const { heads, headDim } = options.scenario;
  const tokens = scenarioTokens(options.scenario);
  const shape = layout === "hnd" ? [heads, tokens, headDim] : [tokens, heads, headDim];
  const names = QKV.filter((n) => n !== options.omit);
  const tensorBytes = heads * tokens * headDim * BYTES[dtype];
  const descr = NPY_DESCR[dtype];
  if (format === "npy" && descr === undefined) {
    throw new RangeError(`dtype ${dtype} has no npy descr (allowed: f32, f16; use safetensors)`);
  }
  await Deno.mkdir(out, { recursive: true });
  const sidecarJson = JSON.stringify({ ...options.scenario, layout }, null, 2) + "\n";

  if (format === "npy" && descr !== undefined) {
    for (const name of names) {
      using file = await Deno.open(`${out}/${name}.npy`, {
        write: true,
        create: true,
        truncate: true,
      });
      await writeAll(file, npyHeaderBytes(descr, shape));
      await writeTensorData(file, name, { ...options, dtype, layout, shape });
    }
    await Deno.writeTextFile(`${out}/scenario.json`, sidecarJson);
    return { path: out, sidecar: `${out}/scenario.json`, tokens };
  }

  const base = `${out}/${options.name ?? "qkv"}`;
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  names.forEach((name, i) => {
    header[name] = {
      dtype: SAFETENSORS_DTYPE[dtype],
      shape,
      data_offsets: [i * tensorBytes, (i + 1) * tensorBytes],
    };
  });
  using file = await Deno.open(`${base}.safetensors`, {
    write: true,
    create: true,
    truncate: true,
  });
  await writeAll(file, safetensorsHeaderBytes(header));
  for (const name of names) {
    await writeTensorData(file, name, { ...options, dtype, layout, shape });
  }
  await Deno.writeTextFile(`${base}.json`, sidecarJson);
  return { path: `${base}.safetensors`, sidecar: `${base}.json`, tokens };
}

/** Writes one tensor's elements in storage order, a bounded chunk at a time. */
async function writeTensorData(
  file: Deno.FsFile,
  tensor: QkvName,
  options: QkvFileOptions & { dtype: TensorDtype; layout: TensorLayout; shape: number[] },
): Promise<void> {
  const { dtype, layout, shape, poison } = options;
  const seed = options.seed ?? 1;
  const total = shape[0] * shape[1] * shape[2];
  const [heads, tokens, headDim] = layout === "hnd" ? shape : [shape[1], shape[0], shape[2]];
  const values = new Float32Array(Math.min(CHUNK_ELEMENTS, total));
  for (let first = 0; first < total; first += values.length) {
    const count = Math.min(values.length, total - first);
    for (let i = 0; i < count; i++) {
      const index = first + i;
      const dim = index % headDim;
      const row = (index - dim) / headDim;
      const head = layout === "hnd" ? Math.floor(row / tokens) : row % heads;
      const token = layout === "hnd" ? row % tokens : Math.floor(row / heads);
      const poisoned = poison !== undefined && poison.tensor === tensor &&
        poison.head === head && poison.token === token && poison.dim === dim;
      values[i] = poisoned ? poison.value : qkvValue(seed, { tensor, head, token, dim });
    }
    await writeAll(file, encode(values.subarray(0, count), dtype));
  }
}

function encode(values: Float32Array, dtype: TensorDtype): Uint8Array {
  if (dtype === "f32") return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (dtype === "f16") return new Uint8Array(new Float16Array(values).buffer);
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = bf16Bits(values[i]);
  return new Uint8Array(bits.buffer);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

function parseLatent(text: string): [number, number, number] {
  const parts = text.split("x").map(Number);
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(`--latent must be TxHxW with positive integers (got ${text})`);
  }
  return parts as [number, number, number];
}

const USAGE = `usage: deno run -A tools/make_qkv_files.ts --out DIR [options]

--latent TxHxW        latent grid (default 10x32x31)
--text N              text tokens (default 80)
--position P          suffix | prefix | none (default suffix)
--heads N             heads (default 2)
--head-dim D          head dim (default 64)
--model-type T        hunyuan | wan | mochi (default hunyuan)
--name NAME           file name stem (default qkv)
--format F            safetensors | npy (default safetensors)
--dtype T             f32 | f16 | bf16 (default f32)
--layout L            hnd | nhd (default hnd)
--seed N              value seed (default 1)
--out DIR             output folder (required)`;

async function main(args: string[]): Promise<void> {
  const { values } = parseCommandLine({
    args,
    options: {
      help: { type: "boolean", short: "h" },
      latent: { type: "string", default: "10x32x31" },
      text: { type: "string", default: "80" },
      position: { type: "string", default: "suffix" },
      heads: { type: "string", default: "2" },
      "head-dim": { type: "string", default: "64" },
      "model-type": { type: "string", default: "hunyuan" },
      name: { type: "string", default: "qkv" },
      format: { type: "string", default: "safetensors" },
      dtype: { type: "string", default: "f32" },
      layout: { type: "string", default: "hnd" },
      seed: { type: "string", default: "1" },
      out: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.out) throw new RangeError("--out DIR is required");
  const choose = <const T extends string>(
    field: string,
    value: string,
    allowed: readonly T[],
  ): T => {
    if (!allowed.includes(value as T)) {
      throw new RangeError(`--${field} must be one of ${allowed.join(", ")} (got ${value})`);
    }
    return value as T;
  };
  const scenario: ScenarioFileFields = {
    name: `generated-seed${values.seed}`,
    latent: parseLatent(values.latent),
    text: {
      tokens: Number(values.text),
      position: choose("position", values.position, ["suffix", "prefix", "none"]),
    },
    heads: Number(values.heads),
    headDim: Number(values["head-dim"]),
    modelType: choose("model-type", values["model-type"], ["hunyuan", "wan", "mochi"]),
  };
  const written = await writeQkvFiles(values.out, {
    scenario,
    name: values.name,
    format: choose("format", values.format, ["safetensors", "npy"]),
    dtype: choose("dtype", values.dtype, ["f32", "f16", "bf16"]),
    layout: choose("layout", values.layout, ["hnd", "nhd"]),
    seed: Number(values.seed),
  });
  console.log(`wrote ${written.path} (${written.tokens} tokens) and ${written.sidecar}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`make_qkv_files: ${(error as Error).message}`);
    Deno.exit(2);
  }
}

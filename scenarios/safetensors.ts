/**
 * A checked reader of the safetensors header (format: huggingface/safetensors README): an 8-byte
 * little-endian u64 header length N, N bytes of JSON mapping tensor names to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the data section that
 * follows the header) and an optional `__metadata__` map of strings. Only the header is read;
 * tensor data stays on disk until a caller reads one byte range at a time.
 *
 * @module
 */
import { InputFileError, readRange, type TensorDtype, type TensorEntry } from "./tensor_file.ts";
import { isShape, sizeMismatch, tensorBytes } from "./tensor_header.ts";

/** safetensors dtype names the loader accepts, and the element type each maps to. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, TensorDtype>> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
};

/** Largest header accepted, as the reference implementation limits it (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Reads and validates the header of a safetensors file: header length within the file, JSON
 * well-formed, every tensor of dtype F32/F16/BF16 with a shape of non-negative integers, data
 * offsets inside the data section, not overlapping, and as long as shape × element size.
 *
 * @example
 * ```ts
 * import { readSafetensorsHeader } from "./safetensors.ts";
 * import { safetensorsHeaderBytes } from "../tools/make_qkv_files.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * const header = safetensorsHeaderBytes({ q: { dtype: "BF16", shape: [2, 3], data_offsets: [0, 12] } });
 * await Deno.writeFile(path, new Uint8Array([...header, ...new Uint8Array(12)]));
 * deepStrictEqual(await readSafetensorsHeader(path), new Map([
 *   ["q", { dtype: "bf16", shape: [2, 3], offset: header.length, byteLength: 12 }],
 * ]));
 * await Deno.remove(path);
 * ```
 */
export async function readSafetensorsHeader(path: string): Promise<Map<string, TensorEntry>> {
  using file = await Deno.open(path, { read: true });
  const fileSize = (await file.stat()).size;
  if (fileSize < 8) {
    throw new InputFileError(
      `${path}: file is ${fileSize} bytes, shorter than the 8-byte safetensors header length`,
    );
  }
  const lengthBytes = await readRange(file, { offset: 0, length: 8 }, path);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(fileSize - 8, MAX_HEADER_BYTES))) {
    throw new InputFileError(
      `${path}: header length ${headerLength} exceeds the ${fileSize - 8} bytes after the ` +
        `length field (file truncated or not safetensors?)`,
    );
  }
  const headerBytes = await readRange(file, { offset: 8, length: Number(headerLength) }, path);
  const dataStart = 8 + Number(headerLength);
  return parseSafetensorsHeader(headerBytes, { path, dataStart, dataLength: fileSize - dataStart });
}

/** Where the data section of a safetensors file lies, for {@link parseSafetensorsHeader}. */
export interface DataSection {
  /** File path, for messages. */
  path: string;
  /** Absolute byte offset of the data section (8 + header length). */
  dataStart: number;
  /** Bytes from the data section's start to the end of the file. */
  dataLength: number;
}

/** Parses and validates the JSON header bytes (see {@link readSafetensorsHeader}). */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  section: DataSection,
): Map<string, TensorEntry> {
  const { path, dataStart, dataLength } = section;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new InputFileError(
      `${path}: header is not valid JSON (${(error as Error).message})`,
    );
  }
  if (!isRecord(header)) {
    throw new InputFileError(`${path}: header must be a JSON object of tensors`);
  }
  const tensors = new Map<string, TensorEntry>();
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      checkMetadata(value, path);
      continue;
    }
    const where = `${path}: tensor '${name}'`;
    if (!isRecord(value)) throw new InputFileError(`${where} must be an object`);
    const dtype = SAFETENSORS_DTYPES[String(value.dtype)];
    if (dtype === undefined) {
      throw new InputFileError(
        `${where} dtype ${JSON.stringify(value.dtype)} is not supported ` +
          `(allowed: ${Object.keys(SAFETENSORS_DTYPES).join(", ")})`,
      );
    }
    const shape = value.shape;
    if (!isShape(shape)) {
      throw new InputFileError(
        `${where} shape must be a list of non-negative integers (got ${JSON.stringify(shape)})`,
      );
    }
    const offsets = value.data_offsets;
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((n) => Number.isSafeInteger(n) && n >= 0) || offsets[0] > offsets[1]
    ) {
      throw new InputFileError(
        `${where} data_offsets must be [begin, end] with 0 ≤ begin ≤ end (got ${
          JSON.stringify(offsets)
        })`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      throw new InputFileError(
        `${where} data_offsets [${begin}, ${end}] end beyond the ${dataLength}-byte data ` +
          `section (file truncated?)`,
      );
    }
    const expectedBytes = tensorBytes(shape, dtype);
    if (end - begin !== expectedBytes) {
      throw new InputFileError(
        `${where} holds ${sizeMismatch(end - begin, shape, String(value.dtype), expectedBytes)}`,
      );
    }
    tensors.set(name, { dtype, shape, offset: dataStart + begin, byteLength: end - begin });
    spans.push({ name, begin, end });
  }
  checkNoOverlap(spans, path);
  return tensors;
}

function checkMetadata(value: unknown, path: string): void {
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new InputFileError(`${path}: __metadata__ must be an object of strings`);
  }
}

function checkNoOverlap(
  spans: Array<{ name: string; begin: number; end: number }>,
  path: string,
): void {
  const sorted = spans.filter((s) => s.end > s.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    if (sorted[i].begin < previous.end) {
      throw new InputFileError(
        `${path}: tensor '${sorted[i].name}' data_offsets [${sorted[i].begin}, ` +
          `${
            sorted[i].end
          }] overlap tensor '${previous.name}' [${previous.begin}, ${previous.end}]`,
      );
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

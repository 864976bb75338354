/**
 * A checked reader of the NumPy `.npy` header, and a writer of whole arrays (format: numpy.lib.format, versions 1.0, 2.0, 3.0):
 * the magic `\x93NUMPY`, a major and minor version byte, the header length (u16 in v1, u32 in
 * v2/v3, little-endian), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 100, 64), }` padded with spaces.
 *
 * Accepted element types are `<f4` (f32) and `<f2` (f16). NumPy has no bfloat16: a bf16 tensor
 * saved through ml_dtypes comes out as an untyped `<V2` or as `<u2` bits that cannot be told apart
 * from integers, so bf16 inputs go in safetensors files (or convert with `.float()` first).
 *
 * The writer ({@link npyBytes}) also writes integer arrays (`<i4`, `|u1`): layout exports for
 * peer libraries (plan/layout_export.ts) are block indices and packed mask bits.
 *
 * @module
 */
import {
  elementCount,
  formatShape,
  InputFileError,
  readRange,
  type TensorDtype,
  type TensorEntry,
} from "./tensor_file.ts";
import { isShape, sizeMismatch, tensorBytes } from "./tensor_header.ts";

/** An npy v1.0 header for a C-order array, padded so the data starts at a multiple of 64. */
export function npyHeaderBytes(descr: string, shape: readonly number[]): Uint8Array {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  dict += " ".repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + "\n";
  const bytes = new Uint8Array(10 + dict.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, dict.length, true);
  bytes.set(new TextEncoder().encode(dict), 10);
  return bytes;
}

/** Arrays {@link npyBytes} writes, with the npy `descr` of each (little-endian host). */
export type NpyWritable = Int32Array | Uint8Array | Float32Array;

function descrOf(data: NpyWritable): string {
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof Float32Array) return "<f4";
  return "|u1";
}

/**
 * A whole `.npy` file (v1.0, C order) holding `data` with `shape`; the element type follows the
 * array (`<i4`, `<f4` or `|u1`).
 *
 * @example
 * ```ts
 * import { npyBytes, parseNpyHeader } from "./npy.ts";
 * import { deepStrictEqual, equal } from "node:assert/strict";
 * const bytes = npyBytes(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
 * equal(bytes.length, 128 + 24);
 * const header = new TextDecoder().decode(bytes.subarray(10, 128)).trim();
 * deepStrictEqual(parseNpyHeader(header, "x.npy"), { dtype: "f32", shape: [2, 3] });
 * ```
 */
export function npyBytes(data: NpyWritable, shape: readonly number[]): Uint8Array {
  if (elementCount(shape) !== data.length) {
    throw new RangeError(
      `npy shape ${formatShape(shape)} holds ${
        elementCount(shape)
      } elements, data has ${data.length}`,
    );
  }
  const header = npyHeaderBytes(descrOf(data), shape);
  const bytes = new Uint8Array(header.length + data.byteLength);
  bytes.set(header);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return bytes;
}

/** npy `descr` strings the loader accepts, and the element type each maps to. */
export const NPY_DESCRS: Readonly<Record<string, TensorDtype>> = { "<f4": "f32", "<f2": "f16" };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HEADER_KEYS = ["descr", "fortran_order", "shape"];

/** A value of the Python literal subset npy headers use. */
type PyValue = string | number | boolean | PyValue[] | { [key: string]: PyValue };

/**
 * Reads and validates the header of a `.npy` file and locates its data: version 1–3, descr
 * `<f4` or `<f2`, C order, and a file exactly as long as header + shape × element size.
 *
 * @example
 * ```ts
 * import { npyHeaderBytes, readNpyHeader } from "./npy.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".npy" });
 * await Deno.writeFile(path, new Uint8Array([...npyHeaderBytes("<f2", [3, 4]), ...new Uint8Array(24)]));
 * deepStrictEqual(await readNpyHeader(path), { dtype: "f16", shape: [3, 4], offset: 128, byteLength: 24 });
 * await Deno.remove(path);
 * ```
 */
export async function readNpyHeader(path: string): Promise<TensorEntry> {
  using file = await Deno.open(path, { read: true });
  const fileSize = (await file.stat()).size;
  if (fileSize < 10) {
    throw new InputFileError(`${path}: file is ${fileSize} bytes, too short for an npy header`);
  }
  const preamble = await readRange(file, { offset: 0, length: Math.min(12, fileSize) }, path);
  if (!MAGIC.every((byte, i) => preamble[i] === byte)) {
    throw new InputFileError(`${path}: not an npy file (magic \\x93NUMPY missing)`);
  }
  const major = preamble[6];
  if (major < 1 || major > 3) {
    throw new InputFileError(`${path}: npy version ${major}.${preamble[7]} (allowed: 1, 2, 3)`);
  }
  const view = new DataView(preamble.buffer);
  const headerStart = major === 1 ? 10 : 12;
  if (fileSize < headerStart) {
    throw new InputFileError(`${path}: file is ${fileSize} bytes, too short for an npy header`);
  }
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > fileSize) {
    throw new InputFileError(
      `${path}: header length ${headerLength} exceeds the ${fileSize - headerStart} bytes ` +
        `after the length field (file truncated?)`,
    );
  }
  const headerBytes = await readRange(file, { offset: headerStart, length: headerLength }, path);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);
  const { dtype, shape } = parseNpyHeader(text, path);
  const offset = headerStart + headerLength;
  const byteLength = tensorBytes(shape, dtype);
  if (fileSize - offset !== byteLength) {
    throw new InputFileError(
      `${path}: data is ${sizeMismatch(fileSize - offset, shape, dtype, byteLength)}` +
        (fileSize - offset < byteLength ? " (file truncated?)" : ""),
    );
  }
  return { dtype, shape, offset, byteLength };
}

/**
 * Parses the header dict literal and checks its keys: descr, fortran_order False, shape.
 *
 * @example
 * ```ts
 * import { parseNpyHeader } from "./npy.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 100, 64), }";
 * deepStrictEqual(parseNpyHeader(header, "q.npy"), { dtype: "f32", shape: [2, 100, 64] });
 * ```
 */
export function parseNpyHeader(
  text: string,
  path: string,
): { dtype: TensorDtype; shape: number[] } {
  let header: PyValue;
  try {
    header = new PyLiteralParser(text).parseAll();
  } catch (error) {
    throw new InputFileError(
      `${path}: header is not a Python dict literal (${(error as Error).message})`,
    );
  }
  if (typeof header !== "object" || Array.isArray(header)) {
    throw new InputFileError(`${path}: header is not a Python dict literal`);
  }
  const keys = Object.keys(header).sort();
  if (keys.join() !== HEADER_KEYS.join()) {
    throw new InputFileError(
      `${path}: header keys are ${keys.join(", ")} (expected: ${HEADER_KEYS.join(", ")})`,
    );
  }
  const dtype = typeof header.descr === "string" ? NPY_DESCRS[header.descr] : undefined;
  if (dtype === undefined) {
    throw new InputFileError(
      `${path}: descr ${JSON.stringify(header.descr)} is not supported (allowed: ` +
        `${Object.keys(NPY_DESCRS).map((d) => `'${d}'`).join(", ")}; bfloat16 has no npy ` +
        `dtype, use safetensors for bf16)`,
    );
  }
  if (header.fortran_order !== false) {
    throw new InputFileError(
      `${path}: fortran_order is ${JSON.stringify(header.fortran_order)} (allowed: False; ` +
        `save a C-contiguous array)`,
    );
  }
  const shape = header.shape;
  if (!isShape(shape)) {
    throw new InputFileError(
      `${path}: shape must be a tuple of non-negative integers (got ${JSON.stringify(shape)})`,
    );
  }
  return { dtype, shape };
}

/** Recursive-descent parser of the literals npy headers hold: dicts, tuples, lists, strings, ints, booleans. */
class PyLiteralParser {
  #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parseAll(): PyValue {
    const value = this.#value();
    this.#skipSpace();
    if (this.#at !== this.#text.length) this.#fail("trailing text");
    return value;
  }

  #value(): PyValue {
    this.#skipSpace();
    const c = this.#text[this.#at];
    if (c === "{") return this.#dict();
    if (c === "(") return this.#sequence(")");
    if (c === "[") return this.#sequence("]");
    if (c === "'" || c === '"') return this.#string();
    const word = /^(True|False|-?\d+)/.exec(this.#text.slice(this.#at));
    if (!word) this.#fail("unexpected character");
    this.#at += word![0].length;
    if (word![0] === "True" || word![0] === "False") return word![0] === "True";
    return Number(word![0]);
  }

  #dict(): { [key: string]: PyValue } {
    const dict: { [key: string]: PyValue } = {};
    this.#at++;
    while (!this.#closes("}")) {
      this.#skipSpace();
      const key = this.#string();
      this.#expect(":");
      dict[key] = this.#value();
      this.#separator("}");
    }
    return dict;
  }

  #sequence(close: string): PyValue[] {
    const items: PyValue[] = [];
    this.#at++;
    while (!this.#closes(close)) {
      items.push(this.#value());
      this.#separator(close);
    }
    return items;
  }

  #string(): string {
    const quote = this.#text[this.#at];
    if (quote !== "'" && quote !== '"') this.#fail("expected a string");
    const end = this.#text.indexOf(quote, this.#at + 1);
    if (end < 0) this.#fail("unterminated string");
    const value = this.#text.slice(this.#at + 1, end);
    this.#at = end + 1;
    return value;
  }

  /** Consumes `close` if it comes next (after spaces). */
  #closes(close: string): boolean {
    this.#skipSpace();
    if (this.#at >= this.#text.length) this.#fail(`missing '${close}'`);
    if (this.#text[this.#at] !== close) return false;
    this.#at++;
    return true;
  }

  /** After an item: a comma, or the closing bracket left for {@link #closes}. */
  #separator(close: string): void {
    this.#skipSpace();
    if (this.#text[this.#at] === ",") this.#at++;
    else if (this.#text[this.#at] !== close) this.#fail(`expected ',' or '${close}'`);
  }

  #expect(token: string): void {
    this.#skipSpace();
    if (this.#text[this.#at] !== token) this.#fail(`expected '${token}'`);
    this.#at++;
  }

  #skipSpace(): void {
    while (/\s/.test(this.#text[this.#at] ?? "")) this.#at++;
  }

  #fail(reason: string): never {
    throw new SyntaxError(`${reason} at character ${this.#at}`);
  }
}

/**
 * What the safetensors and npy readers share (docs/scenarios.md, "Q/K/V inputs" 2): the error they
 * throw, the element types they accept, the located tensor they return, and the byte-range
 * reading and decoding that turn stored elements into f32.
 *
 * All readers assume a little-endian host, as every platform Deno runs on is.
 *
 * @module
 */

/** Thrown for an input file that cannot be used; the one-line message names the file and field. */
export class InputFileError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the file, the tensor or field, expected and found values
   */
  constructor(message: string) {
    super(message);
    this.name = "InputFileError";
  }
}

/** Element types an input tensor may have. */
export type TensorDtype = "f32" | "f16" | "bf16";

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<TensorDtype, number>> = { f32: 4, f16: 2, bf16: 2 };

/** How a tensor's dimensions are ordered: [heads, tokens, d] or [tokens, heads, d]. */
export type TensorLayout = "hnd" | "nhd";

/** Allowed layouts, for validation messages. */
export const TENSOR_LAYOUTS: readonly TensorLayout[] = ["hnd", "nhd"];

/** One tensor located in a file: what it holds and where its bytes lie. */
export interface TensorEntry {
  /** Element type. */
  dtype: TensorDtype;
  /** Shape, outermost dimension first (row-major / C order). */
  shape: number[];
  /** Absolute byte offset of the first element in the file. */
  offset: number;
  /** Byte length of the data: product(shape) × element size. */
  byteLength: number;
}

/** Product of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, n) => product * n, 1);
}

/** Formats a shape as `[a, b, c]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Reads exactly `length` bytes at `offset` into a fresh buffer (whose start is aligned for any
 * typed-array view); a file that ends early is reported as truncated.
 */
export async function readRange(
  file: Deno.FsFile,
  range: { offset: number; length: number },
  path: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(range.length);
  await file.seek(range.offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < range.length) {
    const read = await file.read(bytes.subarray(filled));
    if (read === null) {
      throw new InputFileError(
        `${path}: file ends at byte ${range.offset + filled}, expected ${range.length} bytes ` +
          `from byte ${range.offset} (file truncated?)`,
      );
    }
    filled += read;
  }
  return bytes;
}

/**
 * Decodes stored elements into `out` starting at element `outOffset`: f32 is copied, f16 widened
 * exactly, bf16 moved into the high half of an f32 (which is exact: bf16 is a truncated f32).
 * `raw.byteOffset` must be a multiple of the element size.
 */
export function decodeInto(
  raw: Uint8Array,
  dtype: TensorDtype,
  out: Float32Array,
  outOffset: number,
): void {
  const count = raw.byteLength / DTYPE_BYTES[dtype];
  if (dtype === "f32") {
    out.set(new Float32Array(raw.buffer, raw.byteOffset, count), outOffset);
  } else if (dtype === "f16") {
    out.set(new Float16Array(raw.buffer, raw.byteOffset, count), outOffset);
  } else {
    const bits = new Uint16Array(raw.buffer, raw.byteOffset, count);
    const outBits = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, count);
    for (let i = 0; i < count; i++) outBits[i] = bits[i] << 16;
  }
}

/** Index of the first NaN or ±Inf in `values`, or -1 when all are finite. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    // x - x is 0 for every finite x and NaN for NaN and ±Inf: one comparison an element.
    if (x - x !== 0) return i;
  }
  return -1;
}

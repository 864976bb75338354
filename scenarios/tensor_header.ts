/**
 * The checks the npy and safetensors header readers share: a shape is a list of non-negative
 * integers, and the data a header declares must be as long as its shape and element type need.
 *
 * @module
 */
import { DTYPE_BYTES, elementCount, formatShape, type TensorDtype } from "./tensor_file.ts";

/** Whether `value` is a shape: an array of non-negative safe integers. */
export function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** Bytes of a tensor of `shape` with elements of `dtype`. */
export function tensorBytes(shape: readonly number[], dtype: TensorDtype): number {
  return elementCount(shape) * DTYPE_BYTES[dtype];
}

/**
 * The end of a size-mismatch message: `have` bytes against the `needed` of `shape` of `dtype`
 * (`dtype` as the file names it).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { sizeMismatch } from "./tensor_header.ts";
 * equal(sizeMismatch(8, [2, 3], "BF16", 12), "8 bytes but shape [2, 3] of BF16 needs 12");
 * ```
 */
export function sizeMismatch(
  have: number,
  shape: readonly number[],
  dtype: string,
  needed: number,
): string {
  return `${have} bytes but shape ${formatShape(shape)} of ${dtype} needs ${needed}`;
}

/**
 * A fingerprint of the layout that ran, so that compare can hold layouts exact (a changed
 * window or tiling is a CHANGE even when FLOPs and sparsity happen to stay equal).
 *
 * SHA-256 over every array of each execution form (form/form.ts) with its length and the
 * scalar fields; forms (one a head for dynamic methods) are digested in order. A key permutation
 * is appended only when a form has one, so the digests of forms without stay as they were.
 *
 * @module
 */
import type { ExecutionForm } from "../form/form.ts";

const encoder = new TextEncoder();

function formBytes(form: ExecutionForm): Uint8Array<ArrayBuffer> {
  const header = encoder.encode(
    JSON.stringify([
      form.tokens,
      form.blockSize,
      form.permutationName,
      ...(form.pvSkipThreshold == null ? [] : [form.pvSkipThreshold]),
    ]),
  );
  const parts: Uint8Array[] = [header];
  const arrays = [
    form.permutation,
    form.tileBounds,
    form.rangeOffsets,
    form.rangeStarts,
    form.rangeEnds,
    form.rangeMaskKinds,
    form.rangeMaskOffsets,
    form.maskWords,
    form.outputScale,
    ...(form.keyPermutation ? [form.keyPermutation] : []),
  ];
  for (const array of arrays) {
    const length = new Uint8Array(new Float64Array([array === null ? -1 : array.length]).buffer);
    parts.push(length);
    if (array !== null) {
      parts.push(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  }
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

function arraysBytes(arrays: readonly (Uint32Array | Float64Array)[]): Uint8Array<ArrayBuffer> {
  const parts = arrays.flatMap((array) => [
    new Uint8Array(new Float64Array([array.length]).buffer),
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
  ]);
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `sha256:<hex>` of the forms of one layout, and of `extra` arrays when given (how its branches
 * merge and pool); equal layouts give equal digests on every machine (typed arrays are
 * little-endian on every platform WebGPU runs on).
 *
 * @example
 * ```ts
 * import { layoutDigest } from "./layout_digest.ts";
 * import { denseForm } from "../form/form.ts";
 * import { equal, notEqual } from "node:assert/strict";
 * equal(await layoutDigest([denseForm(256)]), await layoutDigest([denseForm(256)]));
 * notEqual(await layoutDigest([denseForm(256)]), await layoutDigest([denseForm(257)]));
 * ```
 */
export async function layoutDigest(
  forms: readonly ExecutionForm[],
  extra: readonly (Uint32Array | Float64Array)[] = [],
): Promise<string> {
  const perForm = await Promise.all(
    forms.map((form) => crypto.subtle.digest("SHA-256", formBytes(form))),
  );
  if (extra.length > 0) perForm.push(await crypto.subtle.digest("SHA-256", arraysBytes(extra)));
  const joined = new Uint8Array(perForm.length * 32);
  perForm.forEach((digest, i) => joined.set(new Uint8Array(digest), i * 32));
  return `sha256:${hex(await crypto.subtle.digest("SHA-256", joined))}`;
}

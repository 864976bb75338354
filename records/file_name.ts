/**
 * The one file-name sanitiser: a scenario or method label becomes a single path component
 * that cannot leave the folder it is joined to; and the file-name labels of a run's methods.
 *
 * @module
 */
import type { Method } from "../methods/method.ts";
import { formatParams } from "../methods/spec.ts";

/**
 * `name` as one safe path component: characters other than letters, digits and `._@+-` become
 * `_`, and a leading dot becomes `_` too, so `..`, `.` and hidden names cannot occur.
 *
 * @example
 * ```ts
 * import { safeFileName } from "./file_name.ts";
 * import { equal } from "node:assert/strict";
 * equal(safeFileName(".."), "_.");
 * equal(safeFileName("../../x"), "_._.._x");
 * equal(safeFileName("radial.decay=0.95"), "radial.decay_0.95");
 * ```
 */
export function safeFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._@+-]/g, "_").replace(/^\./, "_");
  return safe.length > 0 ? safe : "_";
}

/** File-name labels of the methods: the name, or `name.params` where a name repeats. */
export function methodLabels(methods: readonly Method[]): string[] {
  const counts = new Map<string, number>();
  for (const m of methods) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  return methods.map((m) => {
    const label = counts.get(m.name)! > 1 ? `${m.name}.${formatParams(m.params)}` : m.name;
    return safeFileName(label);
  });
}

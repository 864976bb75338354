/**
 * Which keys one query attends, read from the execution form (form/form.ts), in the ORIGINAL
 * token order. The quality proxies use it to split a query's dense softmax mass into the part the
 * method keeps and the part it drops, without an L×L mask (O(L) a query, fine at 180k tokens).
 *
 * @module
 */
import { type ExecutionForm, keyOrder, MASK_NONE, rangeAttends } from "../form/form.ts";

/** Lists the keys one original-order query attends: `out[key] = 1` for each, 0 elsewhere. */
export type AttendedKeyLister = (query: number, out?: Uint8Array) => Uint8Array;

/**
 * A lister of the keys each query attends under `form`, permutation undone. The inverse
 * permutation is built once, so each call costs O(keys of the query's tile).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { FormBuilder } from "../form/form.ts";
 * import { attendedKeyLister } from "./_attended.ts";
 * const form = new FormBuilder(4, 2).range(0, 2).endTile(2).range(2, 4).endTile(4).build();
 * deepEqual([...attendedKeyLister(form)(3)], [0, 0, 1, 1]);
 * ```
 */
export function attendedKeyLister(form: ExecutionForm): AttendedKeyLister {
  const tokens = form.tokens;
  const permutation = form.permutation;
  let inverse: Uint32Array | null = null;
  if (permutation) {
    inverse = new Uint32Array(tokens);
    for (let p = 0; p < tokens; p++) inverse[permutation[p]] = p;
  }
  const keys = keyOrder(form);
  return (query: number, out = new Uint8Array(tokens)) => {
    if (!(Number.isInteger(query) && query >= 0 && query < tokens)) {
      throw new RangeError(`query must be an integer in [0, ${tokens}) (got ${query})`);
    }
    if (out.length !== tokens) {
      throw new RangeError(`out must hold ${tokens} keys (got ${out.length})`);
    }
    out.fill(0);
    const position = inverse ? inverse[query] : query;
    const tile = tileOf(form.tileBounds, position);
    const row = position - form.tileBounds[tile];
    for (let r = form.rangeOffsets[tile]; r < form.rangeOffsets[tile + 1]; r++) {
      const start = form.rangeStarts[r];
      const end = form.rangeEnds[r];
      const wholeRange = form.rangeMaskKinds[r] === MASK_NONE;
      for (let key = start; key < end; key++) {
        if (wholeRange || rangeAttends(form, r, row, key)) {
          out[keys ? keys[key] : key] = 1;
        }
      }
    }
    return out;
  };
}

/** The tile holding permuted position `position` (binary search over ascending bounds). */
function tileOf(tileBounds: Uint32Array, position: number): number {
  let low = 0;
  let high = tileBounds.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (tileBounds[mid] <= position) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * The kernel's view of an execution form: the encoding of a form into sub-tiles (at most `blockQ` rows each, heaviest first), key-range records and the merges
 * of split sub-tiles (split-KV).
 *
 * @module
 */
import { type ExecutionForm, MASK_TOKENS, tileCount } from "../form/form.ts";
import { NO_PART } from "./flash_attention_shared_wgsl.ts";

/** The kernel's view of a form: sub-tiles, key ranges and merges of split sub-tiles. */
export interface EncodedWork {
  /** Sub-tile records (rowStart, rowEnd, tileStart, rangeBegin, rangeEnd, partSlot, 0, 0). */
  subTiles: Uint32Array;
  /** Range records (start, end, maskOffset, kind): the form's, then pieces of split ranges. */
  ranges: Uint32Array;
  /** Merge records (rowStart, rowEnd, firstSlot, parts), one per split sub-tile. */
  merges: Uint32Array;
  /** Partial-output slots the split parts use. */
  slots: number;
}

/** Smallest part of a split sub-tile, in keys. */
const MIN_PART_KEYS = 4096;

interface WorkItem {
  keys: number;
  words: number[];
}

/**
 * Encodes `form` for the kernel in sub-tiles of at most `blockQ` rows, heaviest first:
 * workgroups start roughly in dispatch order, so long sub-tiles dispatched last would leave the
 * GPU idle behind them (longest-processing-time first). A sub-tile with far more keys than the
 * median (text rows that attend everything) is split into parts of about twice the median, run
 * in parallel and merged by log-sum-exp (split-KV); token-masked ranges are never cut. A form
 * with a PV-skip threshold is never split: the skip rule compares each step with the running
 * maximum of the row's whole walk over its ranges, which a split would restart.
 */
export function encodeWork(form: ExecutionForm, blockQ: number): EncodedWork {
  const splitKv = form.pvSkipThreshold == null;
  const ranges = Array.from(encodeRanges(form));
  const tileKeys: number[] = [];
  for (let t = 0; t < tileCount(form); t++) {
    let keys = 0;
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
      keys += form.rangeEnds[r] - form.rangeStarts[r];
    }
    tileKeys.push(keys);
  }
  const subTileKeys: number[] = [];
  for (let t = 0; t < tileCount(form); t++) {
    const rows = form.tileBounds[t + 1] - form.tileBounds[t];
    for (let i = 0; i < Math.ceil(rows / blockQ); i++) subTileKeys.push(tileKeys[t]);
  }
  subTileKeys.sort((a, b) => a - b);
  const partKeys = Math.max(MIN_PART_KEYS, 2 * subTileKeys[Math.floor(subTileKeys.length / 2)]);
  const items: WorkItem[] = [];
  const merges: number[] = [];
  let slots = 0;
  for (let t = 0; t < tileCount(form); t++) {
    const start = form.tileBounds[t];
    const end = form.tileBounds[t + 1];
    const parts = splitKv && tileKeys[t] > 1.5 * partKeys
      ? splitRanges(form, t, partKeys, ranges)
      : null;
    for (let row = start; row < end; row += blockQ) {
      const rowEnd = Math.min(row + blockQ, end);
      if (!parts) {
        const words = [row, rowEnd, start, form.rangeOffsets[t], form.rangeOffsets[t + 1], NO_PART];
        items.push({ keys: tileKeys[t], words: [...words, 0, 0] });
        continue;
      }
      merges.push(row, rowEnd, slots, parts.length);
      for (const part of parts) {
        items.push({
          keys: part.keys,
          words: [row, rowEnd, start, part.begin, part.end, slots++, 0, 0],
        });
      }
    }
  }
  items.sort((a, b) => b.keys - a.keys);
  return {
    subTiles: Uint32Array.from(items.flatMap((item) => item.words)),
    ranges: Uint32Array.from(ranges),
    merges: Uint32Array.from(merges),
    slots,
  };
}

/** Cuts tile `t`'s ranges into parts of about `partKeys` keys, appending the pieces to `ranges`. */
function splitRanges(
  form: ExecutionForm,
  t: number,
  partKeys: number,
  ranges: number[],
): Array<{ begin: number; end: number; keys: number }> | null {
  const parts: Array<{ begin: number; end: number; keys: number }> = [];
  let current = { begin: ranges.length / 4, end: ranges.length / 4, keys: 0 };
  const close = () => {
    if (current.keys > 0) parts.push(current);
    current = { begin: ranges.length / 4, end: ranges.length / 4, keys: 0 };
  };
  for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) {
    const kind = form.rangeMaskKinds[r];
    const offset = form.rangeMaskOffsets[r];
    let from = form.rangeStarts[r];
    const to = form.rangeEnds[r];
    while (from < to) {
      const room = partKeys - current.keys;
      const piece = kind === MASK_TOKENS ? to - from : Math.min(to - from, Math.max(room, 1));
      ranges.push(from, from + piece, offset, kind);
      current.end++;
      current.keys += piece;
      from += piece;
      if (current.keys >= partKeys) close();
    }
  }
  close();
  return parts.length > 1 ? parts : null;
}

/** Range records (start, end, maskOffset, kind) of a form. */
export function encodeRanges(form: ExecutionForm): Uint32Array {
  const n = form.rangeStarts.length;
  const words = new Uint32Array(4 * n);
  for (let r = 0; r < n; r++) {
    words[4 * r] = form.rangeStarts[r];
    words[4 * r + 1] = form.rangeEnds[r];
    words[4 * r + 2] = form.rangeMaskOffsets[r];
    words[4 * r + 3] = form.rangeMaskKinds[r];
  }
  return words;
}

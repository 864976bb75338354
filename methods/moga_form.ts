/**
 * MoGA's execution form (docs/methods.md, "Mixture-of-Groups Attention"): tokens in group-sorted order
 * (the permutation), unrouted text kept at the end as its own segment; query tiles are each
 * group's segment cut into tiles of at most {@link MOGA_TILE_ROWS} queries, attending the whole
 * segment and all text (unless `textKeys` is false); text tiles attend everything; the output of
 * a routed token is scaled by its gate.
 *
 * The optional local window (STA-like, `window = T×H×W` latent tokens, its centre shifted inward
 * at the borders so every query sees the same count) adds to every video query the window keys
 * its group does not already hold. In group-sorted order those keys are scattered, so they are
 * expressed exactly, as token-mask ranges: a tile's window positions (union over its queries) cut
 * into runs wherever two consecutive positions are more than {@link WINDOW_RUN_GAP} apart, each
 * run one range with one bit per (query, key). The kernel executes every (query, key) of those
 * runs; the masked-off bits are the window's cost, reported as executed vs attended pairs.
 *
 * @module
 */
import {
  type Scenario,
  tokensPerFrame,
  totalTokens,
  videoStart,
  videoTokens,
} from "../scenarios/scenario.ts";
import { type ExecutionForm, FormBuilder, MASK_TOKENS, tokenMaskRowWords } from "../form/form.ts";
import { windowInterval } from "./sta.ts";
import type { MogaRouting, RoutedRange } from "../kernels/moga_groups.ts";

/** Largest query tile (rows) of MoGA's form. */
export const MOGA_TILE_ROWS = 128;

/** Largest gap between consecutive window positions inside one token-mask range. */
export const WINDOW_RUN_GAP = 32;

/** Name of MoGA's token order. */
export const MOGA_PERMUTATION_NAME = "moga-group-sorted";

/** What {@link mogaForm} needs besides the scenario. */
export interface MogaFormOptions {
  /** One head's routing. */
  routing: MogaRouting;
  /** The routed tokens; every other token is text kept at the end. */
  routed: RoutedRange;
  /** Local window [T, H, W] in latent tokens, or null. */
  window: [number, number, number] | null;
  /** Reporting block size. */
  blockSize: number;
  /** Whether routed queries attend every unrouted (text) key; default true. */
  textKeys?: boolean;
}

/** The group-sorted order: routed tokens by group, then the unrouted tokens in order. */
function groupSortedOrder(tokens: number, routing: MogaRouting, routed: RoutedRange): Uint32Array {
  const permutation = new Uint32Array(tokens);
  for (let p = 0; p < routed.count; p++) permutation[p] = routed.start + routing.permutation[p];
  let p = routed.count;
  for (let t = 0; t < tokens; t++) {
    if (t < routed.start || t >= routed.start + routed.count) permutation[p++] = t;
  }
  return permutation;
}

/** The form of one head's routing. */
export function mogaForm(scenario: Scenario, options: MogaFormOptions): ExecutionForm {
  const { routing, routed, window, blockSize } = options;
  const textKeys = options.textKeys ?? true;
  const L = totalTokens(scenario);
  const R = routed.count;
  if (routing.permutation.length !== R) {
    throw new RangeError(`moga routing covers ${routing.permutation.length} tokens, not ${R}`);
  }
  const permutation = groupSortedOrder(L, routing, routed);
  const positionOf = new Uint32Array(L);
  for (let p = 0; p < L; p++) positionOf[permutation[p]] = p;
  const outputScale = new Float32Array(L).fill(1);
  for (let i = 0; i < R; i++) outputScale[routed.start + i] = routing.gate[i];
  const [T, H, W] = scenario.latent;
  const P = tokensPerFrame(scenario);
  const v0 = videoStart(scenario);
  const N = videoTokens(scenario);
  const builder = new FormBuilder(L, blockSize);
  for (let g = 0; g < routing.groups; g++) {
    const segStart = routing.groupOffsets[g];
    const segEnd = routing.groupOffsets[g + 1];
    for (let t0 = segStart; t0 < segEnd; t0 += MOGA_TILE_ROWS) {
      const t1 = Math.min(segEnd, t0 + MOGA_TILE_ROWS);
      builder.range(segStart, segEnd);
      if (window) {
        const keysOfRow: number[][] = [];
        for (let q = t0; q < t1; q++) {
          const keys: number[] = [];
          const v = permutation[q] - v0;
          if (v >= 0 && v < N) {
            const [ta, tb] = windowInterval(Math.floor(v / P), window[0], T);
            const [ha, hb] = windowInterval(Math.floor((v % P) / W), window[1], H);
            const [wa, wb] = windowInterval(v % W, window[2], W);
            for (let t = ta; t <= tb; t++) {
              for (let h = ha; h <= hb; h++) {
                for (let w = wa; w <= wb; w++) {
                  const p = positionOf[v0 + (t * H + h) * W + w];
                  if (p < segStart || p >= segEnd) keys.push(p);
                }
              }
            }
          }
          keysOfRow.push(keys);
        }
        addWindowRanges(builder, keysOfRow, { segStart, segEnd });
      }
      if (R < L && textKeys) builder.range(R, L);
      builder.endTile(t1);
    }
  }
  for (let t0 = R; t0 < L; t0 += MOGA_TILE_ROWS) {
    builder.range(0, L).endTile(Math.min(L, t0 + MOGA_TILE_ROWS));
  }
  return builder.build(permutation, MOGA_PERMUTATION_NAME, outputScale);
}

/** Token-mask ranges over the union of a tile's window positions (see the module doc). */
function addWindowRanges(
  builder: FormBuilder,
  keysOfRow: number[][],
  segment: { segStart: number; segEnd: number },
): void {
  const union = [...new Set(keysOfRow.flat())].sort((a, b) => a - b);
  let first = 0;
  while (first < union.length) {
    let last = first;
    while (
      last + 1 < union.length && union[last + 1] - union[last] <= WINDOW_RUN_GAP &&
      !(union[last] < segment.segStart && union[last + 1] >= segment.segEnd)
    ) last++;
    const start = union[first];
    const end = union[last] + 1;
    const rowWords = tokenMaskRowWords(end - start);
    const words = new Uint32Array(keysOfRow.length * rowWords);
    keysOfRow.forEach((keys, row) => {
      for (const p of keys) {
        if (p < start || p >= end) continue;
        const rel = p - start;
        words[row * rowWords + (rel >>> 5)] |= 1 << (rel & 31);
      }
    });
    builder.range(start, end, { kind: MASK_TOKENS, words });
    first = last + 1;
  }
}

/**
 * SpargeAttn's execution form (docs/methods.md, "SpargeAttn"): one query tile per query block,
 * its kept key blocks as key ranges in ascending order (adjacent kept blocks merged into one
 * range), original token order, and the PV-skip threshold the kernel applies.
 *
 * @module
 */
import { type ExecutionForm, FormBuilder } from "../form/form.ts";
import type { SpargeSelection } from "../kernels/sparge_selection.ts";

/** The form of one head's selection over `tokens` tokens. */
export function spargeForm(
  selection: SpargeSelection,
  shape: { tokens: number; blockQ: number; blockK: number; pvThreshold: number },
): ExecutionForm {
  const { tokens, blockQ, blockK, pvThreshold } = shape;
  const { queryBlocks, keyBlocks, kept } = selection;
  const builder = new FormBuilder(tokens, blockK);
  for (let i = 0; i < queryBlocks; i++) {
    let runStart = -1;
    for (let j = 0; j <= keyBlocks; j++) {
      const on = j < keyBlocks && kept[i * keyBlocks + j] === 1;
      if (on && runStart < 0) runStart = j;
      if (!on && runStart >= 0) {
        builder.range(runStart * blockK, Math.min(tokens, j * blockK));
        runStart = -1;
      }
    }
    builder.endTile(Math.min(tokens, (i + 1) * blockQ));
  }
  return { ...builder.build(), pvSkipThreshold: pvThreshold };
}

/**
 * Routing FLOPs of one head: centring K (2·L·d), pooling and the similarity check of Q and K
 * blocks (4·L·d each: the sum, the squared norm, the unit vector and its sum), pooled scores
 * (2·d per block pair), and softmax, sort and cumulative sum (5 + ⌈log2 nk⌉ per block pair).
 */
export function spargeRoutingFlops(
  shape: { tokens: number; headDim: number; blockQ: number; blockK: number },
): number {
  const { tokens: L, headDim: d, blockQ, blockK } = shape;
  const pairs = Math.ceil(L / blockQ) * Math.ceil(L / blockK);
  const sortDepth = Math.ceil(Math.log2(Math.max(2, Math.ceil(L / blockK))));
  return 2 * L * d + 8 * L * d + pairs * (2 * d + 5 + sortDepth);
}

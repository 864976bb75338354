/**
 * Counts the PV steps SpargeAttn's skip rule removes, in float64 on the CPU (the kernel has no
 * counter): per sampled query row, the form's key ranges in order, in steps of `step` keys from
 * each range's start; a step whose largest base-2 score (s·log2(e)/√d) is more than `threshold`
 * below the running maximum of the earlier steps is skipped.
 *
 * @module
 */
import { type ExecutionForm, tileCount } from "../form/form.ts";
import type { HeadTensors } from "../scenarios/inputs.ts";

/** Skipped and counted (row, step) pairs over `rows` query rows spread evenly over the form. */
export function pvSkippedSteps(
  form: ExecutionForm,
  tensors: Pick<HeadTensors, "q" | "k">,
  run: { headDim: number; step: number; threshold: number; rows: number },
): { skipped: number; steps: number } {
  const { headDim: d, step, threshold } = run;
  const scale = Math.LOG2E / Math.sqrt(d);
  const sampled = Math.min(run.rows, form.tokens);
  let skipped = 0;
  let steps = 0;
  let tile = 0;
  for (let n = 0; n < sampled; n++) {
    const row = Math.floor((n + 0.5) * form.tokens / sampled);
    while (tile + 1 < tileCount(form) && form.tileBounds[tile + 1] <= row) tile++;
    const query = form.permutation ? form.permutation[row] : row;
    let max = -Infinity;
    for (let r = form.rangeOffsets[tile]; r < form.rangeOffsets[tile + 1]; r++) {
      for (let k0 = form.rangeStarts[r]; k0 < form.rangeEnds[r]; k0 += step) {
        let stepMax = -Infinity;
        for (let k = k0; k < Math.min(form.rangeEnds[r], k0 + step); k++) {
          const key = form.permutation ? form.permutation[k] : k;
          let dot = 0;
          for (let c = 0; c < d; c++) dot += tensors.q[query * d + c] * tensors.k[key * d + c];
          stepMax = Math.max(stepMax, dot * scale);
        }
        steps++;
        if (stepMax - max < -threshold) skipped++;
        else max = Math.max(max, stepMax);
      }
    }
  }
  return { skipped, steps };
}

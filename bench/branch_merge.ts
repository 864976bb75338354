/**
 * How a layout's branches run and merge on the GPU (methods/method.ts `merge`): the weight of
 * each branch for the accumulate kernel, and the merge's part of the layout digest.
 *
 * @module
 */
import type { AttentionBranch } from "../kernels/branched_attention.ts";
import type { LayoutExecution } from "../methods/method.ts";

/**
 * The branches of `run` (a layout, or the execution it runs instead) with their weights: `mean` gives every branch 1 / branches;
 * `gated-sum` gives the main forms 1 and each further branch its `gate` (default 1); `lse` weighs
 * by log-sum-exp on the GPU (weights 1, unused).
 */
export function attentionBranches(run: LayoutExecution): AttentionBranch[] {
  const further = run.branches ?? [];
  const merge = run.merge ?? "mean";
  const mean = merge === "mean";
  const count = further.length + 1;
  return [
    { forms: run.forms, weight: mean ? 1 / count : 1 },
    ...further.map((branch) => ({
      forms: branch.forms,
      weight: mean ? 1 / count : merge === "lse" ? 1 : branch.gate ?? 1,
      pooling: branch.pooling,
    })),
  ];
}

/** The accumulate kernel's LSE rule for the merge of `run` (a layout or its execution). */
export function lseRule(run: LayoutExecution): "max" | "first" | "merge" {
  const merge = run.merge ?? "mean";
  return merge === "mean" ? "max" : merge === "gated-sum" ? "first" : "merge";
}

/**
 * What the layout digest adds for the merge besides the forms: nothing for a `mean` merge of
 * unpooled branches (so earlier digests stay), else the merge, the gates and every pooling.
 */
export function branchMergeParts(run: LayoutExecution): (Uint32Array | Float64Array)[] {
  const further = run.branches ?? [];
  if ((run.merge ?? "mean") === "mean" && further.every((b) => !b.pooling)) return [];
  const parts: (Uint32Array | Float64Array)[] = [
    Uint32Array.of(["mean", "gated-sum", "lse"].indexOf(run.merge ?? "mean")),
    Float64Array.from(further, (b) => b.gate ?? 1),
  ];
  for (const branch of further) {
    if (branch.pooling) parts.push(branch.pooling.offsets, branch.pooling.members);
  }
  return parts;
}

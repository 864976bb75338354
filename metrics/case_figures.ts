/**
 * The layout figures of one case (docs/metrics.md "FLOPs" and "Sparsity"), all computed from the
 * execution forms that run: counted and executed FLOPs, token and block sparsity.
 *
 * @module
 */
import {
  attendedPairs,
  blockSparsity,
  executedPairs,
  type ExecutionForm,
  tokenSparsity,
} from "../form/form.ts";
import type { Method, Params } from "../methods/method.ts";
import { type Scenario, textTokens, totalTokens } from "../scenarios/scenario.ts";

/** FLOPs and sparsity of a case, all heads. */
export interface LayoutFigures {
  /** 4·d·(attended pairs), summed over heads. */
  flops: number;
  /** 4·d·(pairs the kernel computes), summed over heads. */
  executedFlops: number;
  /** Mean over heads of the token sparsity. */
  tokenSparsity: number;
  /** Mean over heads of the block sparsity at the form's block size. */
  blockSparsity: number;
  /** The block size of `blockSparsity`. */
  blockSize: number;
}

/** Dense forward FLOPs of one layer: 4·L²·d per head (docs/metrics.md). */
export function denseFlops(tokens: number, headDim: number, heads: number): number {
  return 4 * tokens * tokens * headDim * heads;
}

/** Figures of `forms` (one for all heads, or one per head). */
export function layoutFigures(
  forms: ExecutionForm[],
  headDim: number,
  heads: number,
): LayoutFigures {
  const weight = forms.length === 1 ? heads : 1;
  let flops = 0;
  let executed = 0;
  let tokens = 0;
  let blocks = 0;
  for (const form of forms) {
    flops += 4 * headDim * attendedPairs(form) * weight;
    executed += 4 * headDim * executedPairs(form) * weight;
    tokens += tokenSparsity(form);
    blocks += blockSparsity(form);
  }
  return {
    flops,
    executedFlops: executed,
    tokenSparsity: tokens / forms.length,
    blockSparsity: blocks / forms.length,
    blockSize: forms[0].blockSize,
  };
}

/** What names a case and sizes its workload, shared by bench records and plan entries. */
export interface CaseIdentity {
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** The method's resolved parameters. */
  params: Params;
  /** Sequence length L (video and text). */
  tokens: number;
  /** Text tokens among them. */
  textTokens: number;
  /** Attention heads. */
  heads: number;
  /** Head dimension d. */
  headDim: number;
}

/** The identity of (scenario × method), in the field order of the records. */
export function caseIdentity(scenario: Scenario, method: Method): CaseIdentity {
  return {
    scenario: scenario.name,
    method: method.name,
    params: method.params,
    tokens: totalTokens(scenario),
    textTokens: textTokens(scenario),
    heads: scenario.heads,
    headDim: scenario.headDim,
  };
}

/**
 * Figures of a layout with several branches (each a list of forms as {@link layoutFigures}
 * takes): FLOPs and executed FLOPs summed over the branches; token sparsity 1 − FLOPs / dense
 * FLOPs and block sparsity 1 − the summed block densities, each at least 0 (overlapping branches
 * can cost more than dense). A pooled branch (fewer tokens than L) counts its block density
 * times (its tokens / L)², the share of an L × L grid its blocks would cover.
 */
export function branchedFigures(
  branches: ExecutionForm[][],
  shape: { tokens: number; headDim: number; heads: number },
): LayoutFigures {
  const each = branches.map((forms) => layoutFigures(forms, shape.headDim, shape.heads));
  const flops = each.reduce((sum, f) => sum + f.flops, 0);
  const blockDensity = each.reduce((sum, f, b) => {
    const share = branches[b][0].tokens / shape.tokens;
    return sum + (1 - f.blockSparsity) * share * share;
  }, 0);
  return {
    flops,
    executedFlops: each.reduce((sum, f) => sum + f.executedFlops, 0),
    tokenSparsity: Math.max(0, 1 - flops / denseFlops(shape.tokens, shape.headDim, shape.heads)),
    blockSparsity: Math.max(0, 1 - blockDensity),
    blockSize: each[0].blockSize,
  };
}

/**
 * Figures of a layout's branches (each a list of forms): {@link layoutFigures} of a single branch,
 * {@link branchedFigures} of several.
 */
export function caseFigures(
  branches: ExecutionForm[][],
  shape: { tokens: number; headDim: number; heads: number },
): LayoutFigures {
  return branches.length > 1
    ? branchedFigures(branches, shape)
    : layoutFigures(branches[0], shape.headDim, shape.heads);
}

/**
 * Dense attention: full bidirectional attention over all tokens, text included (docs/methods.md).
 *
 * @module
 */
import { denseForm } from "../form/form.ts";
import type { Method, MethodDefinition, Params } from "./method.ts";
import { resolveParams } from "./spec.ts";
import { totalTokens } from "../scenarios/scenario.ts";

const DEFAULTS: Params = { block: 128 };

/** The dense method: one query tile, one key range covering the whole sequence. */
export const dense: MethodDefinition = {
  name: "dense",
  summary: "full attention over all tokens (FlashAttention-2 forward, online softmax)",
  defaults: DEFAULTS,
  paramDocs: { block: "block size for block-sparsity figures and mask pictures (tokens)" },
  create(given: Params): Method {
    const params = resolveParams("dense", DEFAULTS, given);
    return {
      name: "dense",
      params,
      dynamic: false,
      layout: (scenario) => ({
        forms: [denseForm(totalTokens(scenario), params.block as number)],
        routingFlops: 0,
      }),
      analyticFlops: (s) => 4 * totalTokens(s) ** 2 * s.headDim * s.heads,
    };
  },
};

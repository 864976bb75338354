/**
 * SpargeAttn (docs/methods.md, "SpargeAttn"; arXiv 2502.18137, github.com/thu-ml/SpargeAttn):
 * a training-free block prediction from mean-pooled Q and K blocks (self-similarity check,
 * softmax of the pooled scores, key blocks kept up to a cumulative-probability threshold), run
 * by the shared kernel with the form's PV-skip threshold (a key step far below the running row
 * maximum adds nothing). The prediction runs on the GPU when the context has one
 * (kernels/sparge_routing.ts), else in float64 on the CPU (methods/routing/sparge_reference.ts).
 *
 * @module
 */
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { layoutHeads, routeHeads } from "./routing/dynamic_context.ts";
import { spargeRoutingReference } from "./routing/sparge_reference.ts";
import type { SpargeRoutingOptions, SpargeSelection } from "../kernels/sparge_selection.ts";
import { SpargeGpuRouting } from "../kernels/sparge_routing.ts";
import { spargeForm, spargeRoutingFlops } from "./sparge_form.ts";
import { pvSkippedSteps } from "./sparge_pv_skip.ts";
import { resolveParams } from "./spec.ts";
import { totalTokens } from "../scenarios/scenario.ts";

const DEFAULTS: Params = {
  cdf: 0.98,
  sim: 0.6,
  pv: 50,
  blockQ: 128,
  blockK: 64,
  smoothK: true,
};

/** Heads whose PV skips are counted on the CPU, and query rows sampled per head. */
const PV_COUNT = { heads: 2, rows: 128 } as const;

/** SpargeAttn's parameters, validated (one-line errors naming the parameter and the range). */
export function spargeParams(given: Params): Params {
  const params = resolveParams("sparge", DEFAULTS, given);
  const cdf = params.cdf as number;
  if (!(cdf > 0 && cdf <= 1)) {
    throw new MethodSpecError(`sparge: parameter "cdf" must be in (0, 1] (got ${cdf})`);
  }
  const sim = params.sim as number;
  if (!(sim >= -1 && sim <= 1)) {
    throw new MethodSpecError(`sparge: parameter "sim" must be in [-1, 1] (got ${sim})`);
  }
  const pv = params.pv as number;
  if (!(Number.isFinite(pv) && pv >= 0)) {
    throw new MethodSpecError(`sparge: parameter "pv" must be a finite number ≥ 0 (got ${pv})`);
  }
  for (const name of ["blockQ", "blockK"]) {
    const block = params[name] as number;
    if (!Number.isInteger(block) || block < 1) {
      throw new MethodSpecError(
        `sparge: parameter "${name}" must be a positive integer (got ${block})`,
      );
    }
  }
  return params;
}

/** The SpargeAttn method: pooled block prediction with a CDF threshold and PV skipping. */
export const sparge: MethodDefinition = {
  name: "sparge",
  summary: "SpargeAttn: key blocks kept per query block by a CDF threshold on softmax of " +
    "mean-pooled Q·Kᵀ, self-similarity check, PV skip in the kernel (arXiv 2502.18137)",
  defaults: DEFAULTS,
  paramDocs: {
    cdf: "cumulative pooled probability kept per query block: (0, 1] (official 0.98); " +
      "smaller is sparser",
    sim: "self-similarity threshold: a block whose mean pairwise cosine similarity is not " +
      "above it is always computed: [-1, 1] (official 0.6)",
    pv: "PV-skip threshold λ in base-2 log units of the scaled scores: a key step whose " +
      "largest score is more than λ below the row's running maximum is skipped: ≥ 0 " +
      "(official 50)",
    blockQ: "query block (tokens; official 128)",
    blockK: "key block (tokens; official 64)",
    smoothK: "centre K on its mean before pooling and the similarity check (official true)",
  },
  knob: {
    param: "cdf",
    summary: "cumulative pooled probability kept per query block: smaller is sparser",
    grid: () => [1, 0.99, 0.98, 0.95, 0.9, 0.8, 0.6, 0.4],
  },
  create(given: Params): Method {
    const params = spargeParams(given);
    const options = (headDim: number): SpargeRoutingOptions => ({
      headDim,
      blockQ: params.blockQ as number,
      blockK: params.blockK as number,
      simThreshold: params.sim as number,
      cdfThreshold: params.cdf as number,
      smoothK: params.smoothK as boolean,
    });
    return {
      name: "sparge",
      params,
      dynamic: true,
      async layout(scenario, context) {
        const heads = layoutHeads(scenario, context);
        const tokens = totalTokens(scenario);
        const route = options(scenario.headDim);
        const shape = {
          tokens,
          blockQ: route.blockQ,
          blockK: route.blockK,
          pvThreshold: params.pv as number,
        };
        const { results: selections, routing, routedOn } = await routeHeads("sparge", context, {
          heads,
          router: {
            gpu: (runtime, inputs, heads) =>
              SpargeGpuRouting.create(runtime, { ...route, tokens, inputs, heads }),
            cpu: (tensors) => spargeRoutingReference(tensors, route),
          },
        });
        const skips = { skipped: 0, steps: 0, heads: 0 };
        for (const [index, head] of heads.entries()) {
          if (context.inputs && index < PV_COUNT.heads) {
            const tensors = await context.inputs.head(head);
            const counted = pvSkippedSteps(spargeForm(selections[index], shape), tensors, {
              headDim: scenario.headDim,
              step: route.blockK,
              threshold: shape.pvThreshold,
              rows: PV_COUNT.rows,
            });
            skips.skipped += counted.skipped;
            skips.steps += counted.steps;
            skips.heads++;
          }
        }
        const forms = selections.map((selection) => spargeForm(selection, shape));
        const similar = (bits: (s: SpargeSelection) => Uint8Array) =>
          selections.reduce((sum, s) => sum + bits(s).reduce((a, b) => a + b, 0), 0) /
          selections.reduce((sum, s) => sum + bits(s).length, 0);
        return {
          forms,
          routingFlops: scenario.heads * spargeRoutingFlops({ ...route, tokens }),
          routing,
          stats: {
            routedOn,
            similarQueryBlocks: similar((s) => s.queryBlockSimilar),
            similarKeyBlocks: similar((s) => s.keyBlockSimilar),
            pvSkippedSteps: skips.skipped,
            pvCountedSteps: skips.steps,
            pvSkippedFraction: skips.steps ? skips.skipped / skips.steps : 0,
          },
          notes: [
            `SpargeAttn: official blocks (query ${route.blockQ}, key ${route.blockK} tokens), ` +
            `simthreshd1 ${route.simThreshold}, cdfthreshd ${route.cdfThreshold}, pvthreshd ` +
            `${shape.pvThreshold}; prediction on ${routedOn}; original token order (no ` +
            "Hilbert-curve permutation)",
            `SpargeAttn PV skip: counted in float64 on ${PV_COUNT.rows} sampled query rows of ` +
            `the first ${skips.heads} head(s) in steps of ` +
            `${route.blockK} keys (the official key block): ${skips.skipped} of ${skips.steps} ` +
            "steps skipped; the GPU kernel applies the rule in steps of its own key block",
          ],
        };
      },
      analyticFlops: () => null,
    };
  },
};

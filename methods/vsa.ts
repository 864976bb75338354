/**
 * Video Sparse Attention (VSA; Zhang et al., "VSA: Faster Video Diffusion with Trainable Sparse
 * Attention", arXiv 2505.13389; code: hao-ai-lab/FastVideo, `video_sparse_attn`), as
 * docs/methods.md states it: video tokens in cubes of 4×4×4 latent tokens (cube-major order,
 * partial cubes at the edges), Q and K mean-pooled per cube, each query cube keeping the `topk`
 * key cubes of highest pooled score (fine branch: block-sparse attention over those cubes plus all
 * text), and a coarse branch (attention among the cube means) added to every token of its cube
 * times `gate`.
 *
 * @module
 */
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { resolveParams } from "./spec.ts";
import { layoutHeads, routeHeads } from "./routing/dynamic_context.ts";
import { vsaReferenceSelection } from "./routing/vsa_reference.ts";
import { cubeGridOf, cubePooling, type CubeShape, vsaCubes } from "./vsa_cubes.ts";
import { vsaCoarseForm, vsaFineForm } from "./vsa_form.ts";
import { VsaGpuRouting, vsaRoutingFits } from "../kernels/vsa_routing.ts";
import { type Scenario, textTokens, totalTokens, videoTokens } from "../scenarios/scenario.ts";

const DEFAULTS: Params = { topk: "auto", cube: [4, 4, 4], gate: 0 };

/**
 * FastVideo's `VSA_sparsity` of its released VSA checkpoints (FastWan), from which `topk=auto`
 * keeps ⌈(1 − 0.8)·C⌉ cubes, as FastVideo's `_compute_cur_topk` does.
 */
export const FASTWAN_SPARSITY = 0.8;

/** The cubes kept per query cube: `auto` → ⌈(1 − 0.8)·C⌉, a number → itself; at most C. */
export function resolveTopk(topk: "auto" | number, cubes: number): number {
  const wanted = topk === "auto" ? Math.ceil((1 - FASTWAN_SPARSITY) * cubes) : topk;
  return Math.max(1, Math.min(wanted, cubes));
}

/** Cubes of `scenario` under `cube`. */
export function cubeCount(scenario: Scenario, cube: CubeShape): number {
  return cubeGridOf(scenario.latent, cube).reduce((n, c) => n * c, 1);
}

/** Routing FLOPs of one head: cube means of Q and K, C² scores of 2d, ⌈log₂C⌉ compares a pair. */
export function vsaRoutingFlops(scenario: Scenario, cube: CubeShape): number {
  const C = cubeCount(scenario, cube);
  const d = scenario.headDim;
  return 2 * (videoTokens(scenario) + C) * d + C * C * (2 * d + Math.ceil(Math.log2(C)));
}

/**
 * The paper's cost model for one head: every video query attends `topk` whole cubes (fine stage,
 * 4·d·N·k·B) and the cube means attend each other (coarse stage, 4·d·C²); text as Longshot runs
 * it (video queries attend it, text queries attend everything).
 */
export function vsaAnalyticHeadFlops(
  scenario: Scenario,
  cube: CubeShape,
  topk: "auto" | number,
): number {
  const C = cubeCount(scenario, cube);
  const B = cube[0] * cube[1] * cube[2];
  const N = videoTokens(scenario);
  const text = textTokens(scenario);
  const d = scenario.headDim;
  return 4 * d * (N * resolveTopk(topk, C) * B + C * C + N * text + text * totalTokens(scenario));
}

/** Top-k settings a frontier sweep tries, densest first: all, ½, ⅕, ⅒ of the cubes, 32 … 1. */
export function vsaTopkGrid(scenario: Scenario): number[] {
  const C = cubeCount(scenario, DEFAULTS.cube as CubeShape);
  const values = [C, Math.ceil(C / 2), Math.ceil(C / 5), Math.ceil(C / 10), 32, 16, 8, 4, 2, 1];
  return [...new Set(values.filter((k) => k <= C))].sort((a, b) => b - a);
}

/** VSA's parameters, validated (`topk` may be a number or `auto`). */
function checkParams(given: Params): {
  params: Params;
  topk: "auto" | number;
  cube: CubeShape;
  gate: number;
} {
  const spelled = typeof given.topk === "number" ? { ...given, topk: String(given.topk) } : given;
  const params = resolveParams("vsa", DEFAULTS, spelled);
  const { cube, gate } = params as { cube: number[]; gate: number };
  const count = Number(params.topk);
  if (params.topk !== "auto" && !(Number.isInteger(count) && count >= 1)) {
    throw new MethodSpecError(
      `vsa: parameter "topk" must be auto or an integer ≥ 1 (got ${params.topk})`,
    );
  }
  if (cube.length !== 3 || !cube.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new MethodSpecError(
      `vsa: parameter "cube" must be three integers ≥ 1 as TxHxW (got ${cube.join("x")})`,
    );
  }
  if (!Number.isFinite(gate) || gate < 0) {
    throw new MethodSpecError(`vsa: parameter "gate" must be a number ≥ 0 (got ${gate})`);
  }
  const topk = params.topk === "auto" ? "auto" : count;
  return { params, topk, cube: cube as CubeShape, gate };
}

/** The note every record carries on the gate and the text. */
export const VSA_NOTES = [
  "VSA gate: the trained model's gate is a learned projection of the hidden states; this run " +
  "scales the coarse branch by the constant gate parameter (default 0: FastVideo zero-initialises " +
  "the projection when it adds VSA to a pretrained model; the branch still runs and is timed; " +
  "gate=1: the official kernel's plain sum when no gate is given)",
  "VSA text: FastVideo applies VSA to video self-attention only; here video queries also attend " +
  "every text key and text queries attend everything (joint attention), text is never pooled",
];

export const vsa: MethodDefinition = {
  name: "vsa",
  summary:
    "Video Sparse Attention: cube-pooled top-k cubes + gated coarse branch (arXiv 2505.13389)",
  defaults: DEFAULTS,
  paramDocs: {
    topk: "auto (⌈0.2·cubes⌉, FastWan's VSA_sparsity 0.8) or an integer ≥ 1: key cubes kept " +
      "per query cube (at most the cube count)",
    cube: "cube shape TxHxW in latent tokens (default 4x4x4 = 64; edge cubes may be partial)",
    gate: "number ≥ 0: weight of the coarse (pooled) branch added to each token's output",
  },
  knob: {
    param: "topk",
    summary: "key cubes kept per query cube: fewer is sparser",
    grid: vsaTopkGrid,
  },
  create(given: Params): Method {
    const { params, topk, cube, gate } = checkParams(given);
    return {
      name: "vsa",
      params,
      dynamic: true,
      async layout(scenario, context) {
        const cubes = vsaCubes(scenario, cube);
        const k = resolveTopk(topk, cubes.cubes);
        const headDim = scenario.headDim;
        const blockSize = cube[0] * cube[1] * cube[2];
        const pooling = cubePooling(cubes);
        const heads = layoutHeads(scenario, context);
        const fits = !context.gpu || vsaRoutingFits(context.gpu, cubes.cubes, headDim);
        const { results, routing, routedOn } = await routeHeads(
          "vsa",
          fits ? context : { ...context, gpu: undefined },
          {
            heads,
            router: {
              gpu: (runtime, inputs, heads) =>
                VsaGpuRouting.create(runtime, { pooling, k, inputs, heads, headDim }),
              cpu: (tensors) => vsaReferenceSelection(tensors, cubes, { topk: k, headDim }),
            },
          },
        );
        const notes = [...VSA_NOTES];
        if (!fits) {
          notes.push(
            `vsa: ${cubes.cubes} cubes exceed the GPU selection kernel; routed on the CPU`,
          );
        }
        if (typeof topk === "number" && k < topk) {
          notes.push(`vsa: topk ${topk} clamped to the ${cubes.cubes} cubes`);
        }
        return {
          forms: results.map((selection) => vsaFineForm(cubes, selection, blockSize)),
          branches: [{ name: "coarse", forms: [vsaCoarseForm(cubes, blockSize)], pooling, gate }],
          merge: "gated-sum",
          routingFlops: scenario.heads * vsaRoutingFlops(scenario, cube),
          routing,
          params: { ...params, topk: k },
          stats: { cubes: cubes.cubes, routedOn },
          notes,
        };
      },
      analyticFlops(scenario) {
        return scenario.heads * vsaAnalyticHeadFlops(scenario, cube, topk);
      },
    };
  },
};

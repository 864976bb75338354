/**
 * Mixture of Contexts (docs/methods.md, "Mixture of Contexts"; arXiv 2508.21058): dynamic top-k
 * routing over content-aligned chunks (a latent frame of a shot; a shot's prompt segment) with
 * mandatory anchors (all text, own frame, own shot in multi-shot scenarios) and causal routing
 * (only strictly earlier video chunks are candidates). Routing runs on the GPU when the context
 * has one (kernels/moc_routing.ts), else in float64 on the CPU
 * (methods/routing/moc_reference.ts).
 *
 * Assumptions where the paper is silent (stated in every layout's notes): candidates are the
 * video chunks not covered by an anchor, so with `intraShot` only earlier shots' frames compete;
 * text chunks get no descriptor since text is always attended; routing is per head on that
 * head's Q/K. The paper also allows a key-chunk-major execution (gather the queries of each chunk,
 * merge partial results by log-sum-exp); here query tiles run the union of their queries'
 * choices with row masks instead.
 *
 * @module
 */
import { attendedPairs, executedPairs } from "../form/form.ts";
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { mocAnalyticFlops, mocRoutingFlops } from "./moc_flops.ts";
import { MOC_PERMUTATION, MOC_TILE_ROWS, mocForm } from "./moc_form.ts";
import { layoutHeads, routeHeads } from "./routing/dynamic_context.ts";
import { mocChunks } from "../kernels/moc_chunks.ts";
import { MocGpuRouting } from "../kernels/moc_routing.ts";
import { mocRoutingReference } from "./routing/moc_reference.ts";
import { resolveParams } from "./spec.ts";
import type { Scenario } from "../scenarios/scenario.ts";

/** Largest k (the GPU keeps the k best in registers). */
export const MOC_MAX_K = 256;

/** `intraShot` as written: `auto` is on exactly when the scenario has more than one shot. */
export type IntraShotSetting = "auto" | "true" | "false";

/** Allowed `intraShot` values, for validation messages. */
export const INTRA_SHOT_SETTINGS: readonly IntraShotSetting[] = ["auto", "true", "false"];

/** Resolves `intraShot` for `scenario`; throws a {@link MethodSpecError} for other values. */
export function resolveIntraShot(setting: string, scenario: Scenario): boolean {
  if (!(INTRA_SHOT_SETTINGS as readonly string[]).includes(setting)) {
    throw new MethodSpecError(
      `moc: parameter "intraShot" must be one of ${
        INTRA_SHOT_SETTINGS.join(", ")
      } (got ${setting})`,
    );
  }
  return setting === "auto" ? scenario.shots.length > 1 : setting === "true";
}

const DEFAULTS: Params = { k: 4, intraShot: "auto", block: 128 };

/** MoC's parameters, validated: `intraShot` may be given as a boolean or `auto`. */
export function mocParams(given: Params): Params {
  const spelled = typeof given.intraShot === "boolean"
    ? { ...given, intraShot: String(given.intraShot) }
    : given;
  const params = resolveParams("moc", DEFAULTS, spelled);
  const k = params.k as number;
  if (!Number.isInteger(k) || k < 1 || k > MOC_MAX_K) {
    throw new MethodSpecError(`moc: parameter "k" must be an integer 1..${MOC_MAX_K} (got ${k})`);
  }
  const block = params.block as number;
  if (!Number.isInteger(block) || block < 1) {
    throw new MethodSpecError(`moc: parameter "block" must be a positive integer (got ${block})`);
  }
  if (!(INTRA_SHOT_SETTINGS as readonly string[]).includes(params.intraShot as string)) {
    throw new MethodSpecError(
      `moc: parameter "intraShot" must be one of ${INTRA_SHOT_SETTINGS.join(", ")} ` +
        `(got ${params.intraShot})`,
    );
  }
  return params;
}

/** The MoC method: per-query top-k chunk routing with text, frame and shot anchors. */
export const moc: MethodDefinition = {
  name: "moc",
  summary: "Mixture of Contexts: per-query top-k of earlier frame chunks by q·mean(K) + text, " +
    "own-frame and own-shot anchors (arXiv 2508.21058)",
  defaults: DEFAULTS,
  paramDocs: {
    k: `chunks routed per query among strictly earlier, uncovered video chunks: 1..${MOC_MAX_K} ` +
      "(the paper's FLOPs: k=4 on moc-single-shot, k=2 on moc-multi-shot)",
    intraShot: "attend the whole own shot: auto (on when the scenario has > 1 shot), true, false",
    block: "block size for block-sparsity figures and mask pictures (tokens)",
  },
  create(given: Params): Method {
    const params = mocParams(given);
    const k = params.k as number;
    const chunksOf = (scenario: Scenario) =>
      mocChunks(scenario, { intraShot: resolveIntraShot(params.intraShot as string, scenario) });
    return {
      name: "moc",
      params,
      dynamic: true,
      async layout(scenario, context) {
        const chunks = chunksOf(scenario);
        const heads = layoutHeads(scenario, context);
        const headDim = scenario.headDim;
        const { results: selections, routing, routedOn } = await routeHeads("moc", context, {
          heads,
          router: {
            gpu: (runtime, inputs, heads) =>
              MocGpuRouting.create(runtime, { chunks, k, inputs, heads, headDim }),
            cpu: (tensors) => mocRoutingReference(tensors, { chunks, headDim, k }),
          },
        });
        const forms = selections.map((selection) =>
          mocForm(chunks, { selection, blockSize: params.block as number })
        );
        const attended = forms.reduce((sum, f) => sum + attendedPairs(f), 0);
        const executed = forms.reduce((sum, f) => sum + executedPairs(f), 0);
        return {
          forms,
          // The routing work of a head depends on the layout only: every head is counted.
          routingFlops: scenario.heads * mocRoutingFlops(chunks, { k, headDim }),
          routing,
          params: { ...params, intraShot: String(chunks.intraShot) },
          stats: {
            chunks: chunks.frames + chunks.textChunks,
            attendedPairs: attended,
            executedPairs: executed,
            executedOverAttended: executed / attended,
            routedOn,
          },
          notes: [
            "MoC: candidates are the video chunks strictly before the query's own chunk that no " +
            "anchor covers (with intraShot, earlier shots' frames only); text chunks get no " +
            "descriptor (text is always attended); routing is per head on that head's Q/K",
            `MoC execution: the queries of each frame are ordered by their chosen chunks ` +
            `(${MOC_PERMUTATION}); query tiles of ≤ ${MOC_TILE_ROWS} of them run the union of ` +
            `their queries' chosen chunks with row masks; executed/attended pairs = ${
              (executed / attended).toFixed(3)
            } (summed over ${heads.length} head(s)); the key-chunk-major alternative (gather ` +
            `queries per chunk, merge by log-sum-exp) is not implemented`,
          ],
        };
      },
      analyticFlops: (scenario) => mocAnalyticFlops(scenario, { chunks: chunksOf(scenario), k }),
    };
  },
};

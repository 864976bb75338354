/**
 * Mixture of Contexts (docs/methods.md, "Mixture of Contexts"; arXiv 2508.21058): dynamic top-k
 * routing over content-aligned chunks (a latent frame, a shot or a run of N tokens, never across
 * a shot; a shot's prompt segment) with mandatory anchors (all text, own chunk, own shot in
 * multi-shot scenarios) and, by default, causal routing (only chunks before the anchor are
 * candidates). Routing runs on the GPU when the context has one (kernels/moc_routing.ts),
 * else in float64 on the CPU (methods/routing/moc_reference.ts).
 *
 * Assumptions where the paper is silent (stated in every layout's notes): candidates are the
 * video chunks not covered by an anchor, so with `intraShot` only other shots' chunks compete;
 * text chunks get no descriptor since text is always attended; routing is per head on that
 * head's Q/K. Execution is the paper's key-chunk-major one by default (the anchors and each top-k
 * slot as branches merged by log-sum-exp, methods/moc_chunk_major_form.ts); `form=union` runs
 * query tiles over the union of their queries' choices with row masks instead.
 *
 * @module
 */
import { attendedPairs, executedPairs } from "../form/form.ts";
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { mocAnalyticFlops, mocRoutingFlops } from "./moc_flops.ts";
import { MOC_PERMUTATION, MOC_TILE_ROWS, mocForm } from "./moc_form.ts";
import { MOC_CHOICE_PERMUTATION, mocAnchorForm, mocChoiceForm } from "./moc_chunk_major_form.ts";
import { layoutHeads, routeHeads } from "./routing/dynamic_context.ts";
import {
  type MocChunking,
  type MocChunks,
  mocChunks,
  type MocSelection,
  mocVideoChunks,
  mocVideoTokens,
} from "../kernels/moc_chunks.ts";
import { MocGpuRouting } from "../kernels/moc_routing.ts";
import { type RoutingTiming, sumRoutingTimings } from "../kernels/routing_program.ts";
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

/**
 * Reads `chunk` as written (`frame`, `shot` or a positive integer number of tokens); throws a
 * {@link MethodSpecError} for other values.
 *
 * @example
 * ```ts
 * import { parseChunking } from "./moc.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(parseChunking("256"), 256);
 * equal(parseChunking("shot"), "shot");
 * throws(() => parseChunking("0"), /"chunk" must be frame, shot or an integer ≥ 1/);
 * ```
 */
export function parseChunking(setting: string): MocChunking {
  if (setting === "frame" || setting === "shot") return setting;
  const tokens = Number(setting);
  if (!/^\d+$/.test(setting) || !Number.isSafeInteger(tokens) || tokens < 1) {
    throw new MethodSpecError(
      `moc: parameter "chunk" must be frame, shot or an integer ≥ 1 (tokens) (got ${setting})`,
    );
  }
  return tokens;
}

const DEFAULTS: Params = { k: 4, intraShot: "auto", chunk: "frame", causal: true, block: 128 };
/** Per-head k and the execution form: a record's params name them only when given. */
const UNNAMED_DEFAULTS: Params = { ks: "", form: "" };

/**
 * MoC's execution forms: `chunk-major` (the default; the paper's: the anchors and each top-k slot
 * as branches merged by log-sum-exp, methods/moc_chunk_major_form.ts) or `union` (query tiles
 * that run the union of their queries' choices with row masks, methods/moc_form.ts).
 */
export const MOC_FORMS = ["chunk-major", "union"] as const;

function checkK(k: number, name: string): void {
  if (!Number.isInteger(k) || k < 1 || k > MOC_MAX_K) {
    throw new MethodSpecError(
      `moc: parameter "${name}" must be ${
        name === "ks" ? "one integer k a head joined by /, each" : "an integer"
      } 1..${MOC_MAX_K} (got ${k})`,
    );
  }
}

/** `8/4/2` → one k a head, each an integer 1..{@link MOC_MAX_K}. */
export function parseHeadKs(text: string): number[] {
  return text.split("/").map((part) => {
    const k = /^\s*\d+\s*$/.test(part) ? Number(part) : NaN;
    checkK(k, "ks");
    return k;
  });
}

/**
 * MoC's parameters, validated: `intraShot` may be given as a boolean or `auto`, `chunk` as
 * `frame`, `shot` or a number of tokens; per-head `ks` (`8/4`) replaces `k`.
 */
export function mocParams(given: Params): Params {
  const spelled = { ...given };
  if (typeof given.intraShot === "boolean") spelled.intraShot = String(given.intraShot);
  if (typeof given.chunk === "number") spelled.chunk = String(given.chunk);
  // One head's ks is a plain number on the command line (`ks=4`).
  if (typeof given.ks === "number") spelled.ks = String(given.ks);
  const params = resolveParams("moc", { ...DEFAULTS, ...UNNAMED_DEFAULTS }, spelled);
  parseChunking(params.chunk as string);
  checkK(params.k as number, "k");
  if (params.ks === "") delete params.ks;
  else {
    parseHeadKs(params.ks as string);
    if ("k" in given) throw new MethodSpecError(`moc: give "k" or per-head "ks", not both`);
    delete params.k;
  }
  if (params.form === "") delete params.form;
  else if (!(MOC_FORMS as readonly string[]).includes(params.form as string)) {
    throw new MethodSpecError(
      `moc: parameter "form" must be one of ${MOC_FORMS.join(", ")} (got ${params.form})`,
    );
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

/** The paper's two settings (its appendix): chunking, k and causality per video kind. */
const PAPER_SETTINGS: Record<
  "single" | "multi",
  { chunk: string; k: number; causal: boolean; intraShot: boolean; words: string }
> = {
  single: {
    chunk: "256",
    k: 3,
    causal: false,
    intraShot: false,
    words: "single-shot setting (256-token chunks, k = 3, non-causal)",
  },
  multi: {
    chunk: "1280",
    k: 5,
    causal: true,
    intraShot: true,
    words: "multi-shot setting (k = 5, causal, own shot anchored, chunks shrinking 10240 → 1280 " +
      "tokens in training: 1280 at the end)",
  },
};

/**
 * The record's notes on the paper: which of its settings the run follows, where it departs, and
 * what the analytic formula assumes.
 */
function mocSettingNotes(
  scenario: Scenario,
  run: { chunks: MocChunks; ks: number[] },
): string[] {
  const { chunks, ks } = run;
  const uniform = ks.every((k) => k === ks[0]);
  const k = uniform ? String(ks[0]) : ks.join("/");
  const paper = scenario.shots.length > 1 ? PAPER_SETTINGS.multi : PAPER_SETTINGS.single;
  const departs: string[] = [];
  if (String(chunks.chunking) !== paper.chunk) {
    departs.push(`chunk=${chunks.chunking} (paper ${paper.chunk} tokens)`);
  }
  if (k !== String(paper.k)) {
    const fit = k === "4" ? "; the default 4 is a fit to the single-shot FLOPs figure" : "";
    departs.push(`${uniform ? "k" : "ks"}=${k} (paper ${paper.k}${fit})`);
  }
  if (chunks.causal !== paper.causal) {
    departs.push(`causal=${chunks.causal} (paper ${paper.causal})`);
  }
  if (chunks.intraShot !== paper.intraShot) {
    departs.push(`intraShot=${chunks.intraShot} (paper ${paper.intraShot})`);
  }
  const C = mocVideoChunks(chunks) + chunks.textChunks;
  const meanChunk = mocVideoTokens(chunks) / mocVideoChunks(chunks);
  return [
    departs.length === 0
      ? `MoC paper setting: runs the paper's ${paper.words}`
      : `MoC paper setting: departs from the paper's ${paper.words} in ${departs.join(", ")}`,
    `MoC analytic FLOPs: the paper's L·d + 2·L·C·d + 4·L·k·m̄·d per head with C = ${C} chunks ` +
    `(video + text), k = ${uniform ? k : `${k} (per head)`}, m̄ = ${
      meanChunk.toFixed(1)
    } tokens: the mean video chunk length ` +
    "stands for the paper's mean selected chunk length; the formula counts no anchors (text, " +
    "own chunk or shot), the counted FLOPs do",
  ];
}

/** The MoC method: per-query top-k chunk routing with text, frame and shot anchors. */
export const moc: MethodDefinition = {
  name: "moc",
  summary: "Mixture of Contexts: per-query top-k of frame, shot or N-token chunks by q·mean(K) " +
    "+ text, own-chunk and own-shot anchors, causal or not (arXiv 2508.21058)",
  defaults: DEFAULTS,
  paramDocs: {
    k: `chunks routed per query among the video chunks no anchor covers: 1..${MOC_MAX_K} ` +
      "(the paper: 3 single-shot, 5 multi-shot; the default 4 is a FLOPs fit, docs/methods.md)",
    ks: "one k a head, joined by / (e.g. 8/4/2); replaces k",
    intraShot: "attend the whole own shot: auto (on when the scenario has > 1 shot), true, false",
    chunk: "video chunks: frame (a latent frame), shot (a whole shot) or N (runs of N tokens " +
      "within a shot, the last one shorter)",
    causal: "true: only chunks before the query's anchor are candidates; false: every chunk " +
      "no anchor covers",
    block: "block size for block-sparsity figures and mask pictures (tokens)",
    form: "execution: chunk-major (default; the paper's: anchors and each top-k slot as " +
      "branches merged by log-sum-exp) or union (query tiles run their queries' union with masks)",
  },
  knob: {
    param: "k",
    summary: "chunks routed per query: fewer is sparser",
    grid: () => [16, 8, 6, 5, 4, 3, 2, 1],
    perHeadParam: "ks",
  },
  create(given: Params): Method {
    const params = mocParams(given);
    const headKs = (scenario: Scenario) => {
      if (params.ks === undefined) {
        return new Array<number>(scenario.heads).fill(params.k as number);
      }
      const ks = parseHeadKs(params.ks as string);
      if (ks.length !== scenario.heads) {
        throw new MethodSpecError(
          `moc: parameter "ks" must give one k for each of the ${scenario.heads} heads ` +
            `(got ${ks.length})`,
        );
      }
      return ks;
    };
    const chunksOf = (scenario: Scenario) =>
      mocChunks(scenario, {
        intraShot: resolveIntraShot(params.intraShot as string, scenario),
        causal: params.causal as boolean,
        chunking: parseChunking(params.chunk as string),
      });
    return {
      name: "moc",
      params,
      dynamic: true,
      async layout(scenario, context) {
        const chunks = chunksOf(scenario);
        const heads = layoutHeads(scenario, context);
        const ks = headKs(scenario);
        const headDim = scenario.headDim;
        // Heads of one k route together (the GPU program's k is fixed); results go back in order.
        const selections: MocSelection[] = new Array(heads.length);
        const timings: RoutingTiming[] = [];
        let routedOn: "gpu" | "cpu-float64" = "cpu-float64";
        for (const k of new Set(heads.map((h) => ks[h]))) {
          const positions = heads.flatMap((h, i) => ks[h] === k ? [i] : []);
          const routed = await routeHeads("moc", context, {
            heads: positions.map((i) => heads[i]),
            router: {
              gpu: (runtime, inputs, heads) =>
                MocGpuRouting.create(runtime, { chunks, k, inputs, heads, headDim }),
              cpu: (tensors) => mocRoutingReference(tensors, { chunks, headDim, k }),
            },
          });
          positions.forEach((position, j) => selections[position] = routed.results[j]);
          if (routed.routing) timings.push(routed.routing);
          routedOn = routed.routedOn;
        }
        const blockSize = params.block as number;
        const chunkMajor = (params.form ?? "chunk-major") === "chunk-major";
        // Chunk-major: every head runs the largest k's slots (a smaller k's extra slots are empty).
        const slots = Math.max(...heads.map((h) => ks[h]));
        // The attended pairs, one form a head (figures, masks, quality, exports).
        const forms = selections.map((selection) => mocForm(chunks, { selection, blockSize }));
        const anchors = chunkMajor ? mocAnchorForm(chunks, { blockSize }) : null;
        const execution = anchors && {
          forms: [anchors],
          branches: Array.from({ length: slots }, (_, slot) => ({
            name: `slot-${slot + 1}`,
            forms: selections.map((selection) =>
              mocChoiceForm(chunks, { selection, slot, blockSize })
            ),
          })),
          merge: "lse" as const,
        };
        // What runs: the anchor form is one for every head, so it counts once a head.
        const ran = execution
          ? [...heads.map(() => execution.forms[0]), ...execution.branches.flatMap((b) => b.forms)]
          : forms;
        const attended = ran.reduce((sum, f) => sum + attendedPairs(f), 0);
        const executed = ran.reduce((sum, f) => sum + executedPairs(f), 0);
        return {
          forms,
          ...(execution ? { execution } : {}),
          // The routing work of a head depends on the layout only: every head is counted.
          routingFlops: ks.reduce((sum, k) => sum + mocRoutingFlops(chunks, { k, headDim }), 0),
          routing: timings.length > 0 ? sumRoutingTimings(timings) : undefined,
          params: { ...params, intraShot: String(chunks.intraShot) },
          stats: {
            chunks: mocVideoChunks(chunks) + chunks.textChunks,
            attendedPairs: attended,
            executedPairs: executed,
            executedOverAttended: executed / attended,
            routedOn,
          },
          notes: [
            ...mocSettingNotes(scenario, { chunks, ks }),
            "MoC: candidates are the video chunks that no anchor covers (causal: only those " +
            "before the anchor; with intraShot, other shots' chunks only); text chunks get no " +
            "descriptor (text is always attended); routing is per head on that head's Q/K",
            chunkMajor
              ? `MoC execution: key-chunk-major (the paper's): the anchors (text, own chunk or ` +
                `shot) and each of the ${slots} top-k slots run as branches merged by ` +
                `log-sum-exp; a slot's queries are grouped by the chunk they chose ` +
                `(${MOC_CHOICE_PERMUTATION}), in tiles of ≤ ${MOC_TILE_ROWS} that attend that ` +
                `chunk alone; executed/attended pairs = ${(executed / attended).toFixed(3)} ` +
                `(summed over ${heads.length} head(s))`
              : `MoC execution (form=union): the queries of each chunk are ordered by their ` +
                `chosen chunks (${MOC_PERMUTATION}); query tiles of ≤ ${MOC_TILE_ROWS} of them ` +
                `run the union of their queries' chosen chunks with row masks; executed/attended ` +
                `pairs = ${(executed / attended).toFixed(3)} (summed over ${heads.length} head(s))`,
          ],
        };
      },
      analyticFlops: (scenario) =>
        headKs(scenario).reduce(
          (sum, k) =>
            sum + mocAnalyticFlops({ ...scenario, heads: 1 }, { chunks: chunksOf(scenario), k }),
          0,
        ),
    };
  },
};

/**
 * Quality proxies of a method against dense attention on the same inputs (spec:
 * docs/metrics.md, "Quality proxies"). Pure CPU functions; sums in float64.
 *
 * Conventions chosen here:
 * - cosine of two zero rows is 1 (both say "nothing"), of one zero row and a nonzero one 0;
 * - `psnrDb` is null when the outputs are identical (RMSE 0: infinite PSNR, which JSON cannot
 *   hold) or when the dense output is all zero (no peak to compare with); the report prints "∞"
 *   for a null PSNR next to a zero relL2;
 * - `relL2` of an all-zero dense output is 0 when the method's output is zero too, else null;
 * - recall is not clamped to 1: a value above 1 means the method counted some key twice.
 *
 * @module
 */
import type { ExecutionForm } from "../form/form.ts";
import {
  type Scenario,
  shotOfFrames,
  tokensPerFrame,
  totalTokens,
  videoStart,
  videoTokens,
} from "../scenarios/scenario.ts";
import { attendedKeyLister } from "./_attended.ts";
import { sampleIndices } from "./_sample.ts";
import { softmaxRow } from "./_softmax.ts";

/** Output-based proxies (docs/metrics.md): relL2, cosine, psnrDb. */
export interface OutputQuality {
  /** ‖O − O_dense‖_F / ‖O_dense‖_F over all heads and tokens. */
  relL2: number | null;
  /** Mean over tokens and heads of cos(O_i, O_dense,i). */
  cosine: number;
  /** 20·log10(max|O_dense| / RMSE); null when identical (see module doc). */
  psnrDb: number | null;
}

/**
 * relL2, cosine and PSNR of a method's output against dense, over all heads. Each array is one
 * head's output [tokens, d], both in the original token order.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { outputQuality } from "./quality.ts";
 * const o = [new Float32Array([1, 2, 3, 4])];
 * deepEqual(outputQuality(o, o, 2), { relL2: 0, cosine: 1, psnrDb: null });
 * ```
 */
export function outputQuality(
  method: Float32Array[],
  dense: Float32Array[],
  headDim: number,
): OutputQuality {
  requireOnePerHead("method", "output", method, dense);
  let diffSquares = 0;
  let denseSquares = 0;
  let peak = 0;
  let cosineSum = 0;
  let rows = 0;
  for (let h = 0; h < dense.length; h++) {
    const o = method[h];
    const od = dense[h];
    if (o.length !== od.length || od.length % headDim !== 0) {
      throw new RangeError(
        `head ${h}: method and dense outputs must have equal lengths, a multiple of headDim ` +
          `${headDim} (got ${o.length} and ${od.length})`,
      );
    }
    for (let base = 0; base < od.length; base += headDim) {
      let dot = 0;
      let norm = 0;
      let normDense = 0;
      for (let c = base; c < base + headDim; c++) {
        const a = o[c];
        const b = od[c];
        dot += a * b;
        norm += a * a;
        normDense += b * b;
        diffSquares += (a - b) * (a - b);
        if (Math.abs(b) > peak) peak = Math.abs(b);
      }
      denseSquares += normDense;
      cosineSum += rowCosine(dot, norm, normDense);
      rows++;
    }
  }
  const relL2 = denseSquares > 0
    ? Math.sqrt(diffSquares / denseSquares)
    : diffSquares === 0
    ? 0
    : null;
  const rmse = Math.sqrt(diffSquares / (rows * headDim));
  const psnrDb = rmse > 0 && peak > 0 ? 20 * Math.log10(peak / rmse) : null;
  return { relL2, cosine: cosineSum / rows, psnrDb };
}

/** Throws a RangeError naming `name` unless it holds one `what` per dense head (at least one). */
function requireOnePerHead(
  name: string,
  what: string,
  method: readonly Float32Array[],
  dense: readonly Float32Array[],
): void {
  if (method.length !== dense.length || dense.length === 0) {
    throw new RangeError(
      `${name} must hold one ${what} per dense head (${dense.length} ≥ 1), got ${method.length}`,
    );
  }
}

function rowCosine(dot: number, norm: number, normDense: number): number {
  if (norm === 0 && normDense === 0) return 1;
  if (norm === 0 || normDense === 0) return 0;
  return dot / Math.sqrt(norm * normDense);
}

/**
 * `count` distinct query indices of [0, tokens), ascending and seeded (every query when
 * `tokens ≤ count`). Default count 1,024, the spec's minimum for `recall`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sampleQueries } from "./quality.ts";
 * deepEqual(sampleQueries(5000, { seed: 3 }), sampleQueries(5000, { seed: 3 }));
 * deepEqual(sampleQueries(5000, { seed: 3 }).length, 1024);
 * ```
 */
export function sampleQueries(
  tokens: number,
  options: { count?: number; seed?: number } = {},
): Int32Array {
  return sampleIndices(tokens, options.count ?? 1024, options.seed ?? 0);
}

/**
 * Recall: the dense softmax mass a method keeps, mean over the sampled queries and all heads.
 * A method attends a subset of the keys with the same scores, so for one query the kept dense
 * mass is exactly exp(lse_method − lse_dense). Arrays are one per head, [tokens], the
 * log-sum-exp of the scaled scores (natural log) in the original token order.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { recallFromLse } from "./quality.ts";
 * const lse = [new Float32Array([0.5, 1.5])];
 * deepEqual(recallFromLse(lse, lse, new Int32Array([0, 1])), 1);
 * ```
 */
export function recallFromLse(
  methodLse: Float32Array[],
  denseLse: Float32Array[],
  sample: Int32Array,
): number {
  requireOnePerHead("methodLse", "array", methodLse, denseLse);
  if (sample.length === 0) throw new RangeError("sample must hold at least one query (got 0)");
  let sum = 0;
  for (let h = 0; h < denseLse.length; h++) {
    const lm = methodLse[h];
    const ld = denseLse[h];
    for (const query of sample) {
      if (!(query >= 0 && query < ld.length && query < lm.length)) {
        throw new RangeError(`sample query ${query} must lie in [0, ${ld.length})`);
      }
      sum += Math.exp(lm[query] - ld[query]);
    }
  }
  return sum / (denseLse.length * sample.length);
}

/** Dense probability mass on earlier-shot keys, summed over one head's sampled queries. */
export interface CrossShotMass {
  /** Queries sampled (video queries of shot ≥ 2). */
  queries: number;
  /** Σ over queries of dense mass on earlier-shot video keys the method attends. */
  kept: number;
  /** Σ over queries of dense mass on all earlier-shot video keys. */
  earlier: number;
}

/** Options of {@link crossShotRows}. */
export interface CrossShotOptions {
  /** Queries sampled per head (default 256). */
  samples?: number;
  /** Sampling seed (default 0). */
  seed?: number;
}

/**
 * The dense softmax rows of one head's sampled cross-shot queries, kept for the keys of earlier
 * shots: what {@link crossShotKept} needs to score any number of methods on the same inputs
 * without computing a softmax row again.
 */
export interface CrossShotRows {
  /** Tokens of the joint sequence (a form scored against these rows must have as many). */
  tokens: number;
  /** Sampled query tokens (video queries of shot ≥ 2). */
  queries: Int32Array;
  /** Per sampled query, the video keys of earlier shots, ascending (shared by a shot's queries). */
  earlierKeys: Int32Array[];
  /**
   * Per sampled query, the dense probability (float64, all keys in the denominator) of each key
   * of `earlierKeys`, stored as f32.
   */
  earlier: Float32Array[];
}

/**
 * For sampled video queries of the second shot on, the dense softmax (float64, all keys in the
 * denominator) over the video keys of EARLIER shots. Text keys are never "earlier shot" keys.
 * Costs samples × L × d multiply-adds (128 queries at 180k tokens, d = 128: about 2 s in V8),
 * which is why the bench computes it once a head and scores every method on it.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { crossShotRows } from "./quality.ts";
 * const scenario = { name: "two", latent: [2, 1, 1] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [1, 1], textSegments: [0],
 *   heads: 1, headDim: 64, modelType: "wan" as const };
 * const q = new Float32Array(128), k = new Float32Array(128);
 * const rows = crossShotRows(scenario, { q, k });
 * deepEqual([...rows.queries], [1]);
 * deepEqual([...rows.earlierKeys[0]], [0]);
 * deepEqual([...rows.earlier[0]], [0.5]);
 * ```
 */
export function crossShotRows(
  scenario: Scenario,
  head: { q: Float32Array; k: Float32Array },
  options: CrossShotOptions = {},
): CrossShotRows {
  const tokens = totalTokens(scenario);
  const d = scenario.headDim;
  checkQkShape(scenario, head);
  const shots = videoShotOfTokens(scenario);
  const candidates: number[] = [];
  for (let t = 0; t < tokens; t++) if (shots[t] >= 1) candidates.push(t);
  const picks = candidates.length === 0
    ? []
    : sampleIndices(candidates.length, options.samples ?? 256, options.seed ?? 0);
  const queries = Int32Array.from(picks, (pick) => candidates[pick]);
  const keysBefore = new Map<number, Int32Array>();
  const earlierKeysOf = (shot: number) => {
    let keys = keysBefore.get(shot);
    if (!keys) {
      const list: number[] = [];
      for (let key = 0; key < tokens; key++) {
        if (shots[key] >= 0 && shots[key] < shot) list.push(key);
      }
      keys = Int32Array.from(list);
      keysBefore.set(shot, keys);
    }
    return keys;
  };
  const probabilities = new Float64Array(tokens);
  const earlierKeys = Array.from(queries, (query) => earlierKeysOf(shots[query]));
  const earlier = Array.from(queries, (query, i) => {
    softmaxRow(head.q, head.k, { headDim: d, query, out: probabilities });
    return Float32Array.from(earlierKeys[i], (key) => probabilities[key]);
  });
  return { tokens, queries, earlierKeys, earlier };
}

/**
 * The dense mass on earlier-shot keys of `rows`' sampled queries, and the part of it `form`
 * attends (a sum over queries, in float64).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { denseForm } from "../form/form.ts";
 * import { crossShotKept, crossShotRows } from "./quality.ts";
 * const scenario = { name: "two", latent: [2, 1, 1] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [1, 1], textSegments: [0],
 *   heads: 1, headDim: 64, modelType: "wan" as const };
 * const rows = crossShotRows(scenario, { q: new Float32Array(128), k: new Float32Array(128) });
 * deepEqual(crossShotKept(rows, denseForm(2)), { queries: 1, kept: 0.5, earlier: 0.5 });
 * ```
 */
export function crossShotKept(rows: CrossShotRows, form: ExecutionForm): CrossShotMass {
  if (form.tokens !== rows.tokens) {
    throw new RangeError(`form.tokens must be ${rows.tokens} (got ${form.tokens})`);
  }
  const listKeys = attendedKeyLister(form);
  const attended = new Uint8Array(rows.tokens);
  let kept = 0;
  let earlier = 0;
  rows.queries.forEach((query, i) => {
    listKeys(query, attended);
    const keys = rows.earlierKeys[i];
    const mass = rows.earlier[i];
    for (let j = 0; j < keys.length; j++) {
      earlier += mass[j];
      if (attended[keys[j]]) kept += mass[j];
    }
  });
  return { queries: rows.queries.length, kept, earlier };
}

/**
 * crossShotRecall (docs/metrics.md): the share of the dense mass on earlier shots that the method
 * keeps, Σ kept / Σ earlier over the sampled queries of every head (a mass-weighted mean, so
 * queries that barely look back weigh little). Null when no query has earlier-shot mass (a
 * single-shot scenario).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { crossShotRecall } from "./quality.ts";
 * deepEqual(crossShotRecall([{ queries: 2, kept: 0.3, earlier: 0.6 }]), 0.5);
 * deepEqual(crossShotRecall([{ queries: 0, kept: 0, earlier: 0 }]), null);
 * ```
 */
export function crossShotRecall(heads: CrossShotMass[]): number | null {
  let kept = 0;
  let earlier = 0;
  for (const head of heads) {
    kept += head.kept;
    earlier += head.earlier;
  }
  return earlier > 0 ? kept / earlier : null;
}

/** The shot of each token of the joint sequence; -1 for text tokens. */
export function videoShotOfTokens(scenario: Scenario): Int32Array {
  const shots = new Int32Array(totalTokens(scenario)).fill(-1);
  const shotOfFrame = shotOfFrames(scenario);
  const perFrame = tokensPerFrame(scenario);
  const start = videoStart(scenario);
  for (let v = 0; v < videoTokens(scenario); v++) {
    shots[start + v] = shotOfFrame[Math.floor(v / perFrame)];
  }
  return shots;
}

/** Throws a RangeError unless `head.q` and `head.k` are [tokens, headDim] of `scenario`. */
export function checkQkShape(
  scenario: Scenario,
  head: { q: Float32Array; k: Float32Array },
): void {
  const tokens = totalTokens(scenario);
  const d = scenario.headDim;
  if (head.q.length !== tokens * d || head.k.length !== tokens * d) {
    throw new RangeError(
      `q and k must be [${tokens}, ${d}] (${tokens * d} values), got ${head.q.length} and ` +
        `${head.k.length}`,
    );
  }
}

/**
 * The scenario's own picture (spec: docs/scenarios.md, "Q/K/V inputs"): dense attention
 * mass against temporal and spatial distance, and for multi-shot scenarios the mass on earlier
 * shots, so a reader can judge the inputs before judging the methods.
 *
 * Normalisation: a point is the mean softmax probability PER KEY at that distance, times L. So 1
 * is what uniform attention would give, 20 means a key at that distance draws 20× its uniform
 * share, and a curve falling with distance is the decay Radial Attention measured. Each point is
 * averaged over the sampled queries that have keys at that distance. Float64 on the CPU; the
 * softmax runs over every key (text included), the curves count video keys only.
 *
 * @module
 */
import {
  type Scenario,
  tokensPerFrame,
  totalTokens,
  videoStart,
  videoTokens,
} from "../scenarios/scenario.ts";
import { sampleIndices } from "./_sample.ts";
import { softmaxRow } from "./_softmax.ts";
import { checkQkShape, videoShotOfTokens } from "./quality.ts";

/** One point of a decay curve. */
export interface DecayPoint {
  /** Distance: latent frames (temporal) or latent patches, rounded (spatial, same frame). */
  distance: number;
  /** Mean probability per key at that distance × L (1 = uniform attention). */
  mass: number;
}

/** A scenario's decay curves for one head. */
export interface AttentionDecay {
  /** Scenario name. */
  scenario: string;
  /** Head the curves are from. */
  head: number;
  /** Video queries sampled. */
  queries: number;
  /** Mass per key against |Δt| in latent frames. */
  temporal: DecayPoint[];
  /** Mass per key against the (h, w) distance inside the query's own frame. */
  spatial: DecayPoint[];
  /** Multi-shot only: mean dense mass of a shot ≥ 2 query on video keys of earlier shots. */
  earlierShotMass?: number;
  /** Multi-shot only: the share of keys those are (what uniform attention would put there). */
  earlierShotKeyShare?: number;
}

/** Options of {@link attentionDecay}. */
export interface DecayOptions {
  /** Video queries sampled (default 128: about 2 s at 115k tokens, d = 128). */
  samples?: number;
  /** Sampling seed (default 0). */
  seed?: number;
  /** Head index, for the label (default 0). */
  head?: number;
}

/**
 * Decay curves of one head's dense attention (see module doc for the normalisation). `q` and `k`
 * are [tokens, d] in the original order.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { attentionDecay } from "./decay.ts";
 * const scenario = { name: "flat", latent: [2, 1, 2] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [2], textSegments: [0],
 *   heads: 1, headDim: 64, modelType: "wan" as const };
 * const zeros = new Float32Array(4 * 64); // equal scores: uniform attention, mass 1 everywhere
 * deepEqual(attentionDecay(scenario, { q: zeros, k: zeros }).temporal,
 *   [{ distance: 0, mass: 1 }, { distance: 1, mass: 1 }]);
 * ```
 */
export function attentionDecay(
  scenario: Scenario,
  head: { q: Float32Array; k: Float32Array },
  options: DecayOptions = {},
): AttentionDecay {
  const tokens = totalTokens(scenario);
  const d = scenario.headDim;
  checkQkShape(scenario, head);
  const [frames, height, width] = scenario.latent;
  const perFrame = tokensPerFrame(scenario);
  const start = videoStart(scenario);
  const picks = sampleIndices(videoTokens(scenario), options.samples ?? 128, options.seed ?? 0);
  const shots = videoShotOfTokens(scenario);
  const multiShot = scenario.shots.length > 1;

  const spatialBuckets = Math.round(Math.hypot(height - 1, width - 1)) + 1;
  const temporal = new MeanCurve(frames);
  const spatial = new MeanCurve(spatialBuckets);
  const frameMass = new Float64Array(frames);
  const bucketMass = new Float64Array(spatialBuckets);
  const bucketKeys = new Float64Array(spatialBuckets);
  const probabilities = new Float64Array(tokens);
  let earlierMass = 0;
  let earlierShare = 0;
  let laterQueries = 0;

  for (const pick of picks) {
    const query = start + pick;
    const frame = Math.floor(pick / perFrame);
    softmaxRow(head.q, head.k, { headDim: d, query, out: probabilities });

    frameMass.fill(0);
    for (let v = 0; v < frames * perFrame; v++) {
      frameMass[Math.floor(v / perFrame)] += probabilities[start + v];
    }
    for (let dt = 0; dt < frames; dt++) {
      const before = frame - dt >= 0 ? frameMass[frame - dt] : 0;
      const after = dt > 0 && frame + dt < frames ? frameMass[frame + dt] : 0;
      const framesAtDistance = (frame - dt >= 0 ? 1 : 0) + (dt > 0 && frame + dt < frames ? 1 : 0);
      if (framesAtDistance > 0) {
        temporal.add(dt, ((before + after) / (framesAtDistance * perFrame)) * tokens);
      }
    }

    bucketMass.fill(0);
    bucketKeys.fill(0);
    const row = Math.floor((pick % perFrame) / width);
    const column = pick % width;
    const frameStart = start + frame * perFrame;
    for (let p = 0; p < perFrame; p++) {
      const bucket = Math.round(Math.hypot(Math.floor(p / width) - row, (p % width) - column));
      bucketMass[bucket] += probabilities[frameStart + p];
      bucketKeys[bucket]++;
    }
    for (let b = 0; b < spatialBuckets; b++) {
      if (bucketKeys[b] > 0) spatial.add(b, (bucketMass[b] / bucketKeys[b]) * tokens);
    }

    const shot = shots[query];
    if (multiShot && shot >= 1) {
      let keys = 0;
      for (let key = 0; key < tokens; key++) {
        if (shots[key] >= 0 && shots[key] < shot) {
          earlierMass += probabilities[key];
          keys++;
        }
      }
      earlierShare += keys / tokens;
      laterQueries++;
    }
  }

  const decay: AttentionDecay = {
    scenario: scenario.name,
    head: options.head ?? 0,
    queries: picks.length,
    temporal: temporal.points(),
    spatial: spatial.points(),
  };
  if (laterQueries > 0) {
    decay.earlierShotMass = earlierMass / laterQueries;
    decay.earlierShotKeyShare = earlierShare / laterQueries;
  }
  return decay;
}

/** Per-distance means over the queries that have keys at that distance. */
class MeanCurve {
  readonly #sums: Float64Array;
  readonly #counts: Float64Array;

  constructor(distances: number) {
    this.#sums = new Float64Array(distances);
    this.#counts = new Float64Array(distances);
  }

  add(distance: number, value: number): void {
    this.#sums[distance] += value;
    this.#counts[distance]++;
  }

  points(): DecayPoint[] {
    const points: DecayPoint[] = [];
    for (let i = 0; i < this.#sums.length; i++) {
      if (this.#counts[i] > 0) points.push({ distance: i, mass: this.#sums[i] / this.#counts[i] });
    }
    return points;
  }
}

/**
 * Structured synthetic Q/K/V (docs/scenarios.md, "Q/K/V inputs", 1): seeded and
 * bit-reproducible, with the structure real video DiTs show, so sparse methods can be told apart.
 *
 * Content: every token is a mix of a few unit content vectors shared by all heads: its shot's
 * scene (30% of its energy common to all shots), the subjects whose Gaussian blobs cover it (cast and
 * moved in `synthetic_scene.ts`; some return in later shots), and for a prompt token a text
 * direction, its shot's scene and the subject it names. Each head maps content to Q, K and V with
 * its own random matrices (K's map correlated with Q's, ρ = {@link QK_CORRELATION}, as trained
 * projections are; V's independent). Subjects are moved to the slowly rotating channels (they are
 * recognised far from where they were seen) and each head gets its own temporal emphasis of the
 * scene (heads differ in how fast attention decays across frames). Then small per-token noise,
 * q/k RMSNorm (as HunyuanVideo and Wan), and 3D rotary position embedding on video tokens
 * (HunyuanVideo's: θ = 256, split t/h/w = 16/56/56 of 128, 8/28/28 of 64), which makes attention
 * decay with temporal and spatial distance. Text tokens get no rotation (as in HunyuanVideo).
 *
 * Maps are applied to the few content vectors once a head, never per token; hot loops use only
 * + − × ÷, Math.sqrt and table lookups, so bytes are identical on every machine.
 *
 * `temperature` divides every logit (logit of identical q and k = {@link LOGIT_SCALE}/temperature).
 * At 1, the default, the decay is plain to see: measured on head 0 of hunyuan-117f-768x1280 and
 * wan-69f-768x1280 (full size), a query puts ~10% of its mass on its own frame, ~30% within ±1
 * frame and 55–65% within ±3, per-frame mass falling ~7× over 12 frames; per-key mass falls
 * several-fold within a few patches; recurring subjects attend the earlier shots they appeared in.
 * Text tokens get about their uniform share (no attention sinks are modelled).
 *
 * The source's `hidden()` gives that content itself, before any head's map, norm or rotation,
 * plus its own small per-token noise (the share of the noise Q and K carry, 0.3 per
 * projected channel, i.e. NOISE/√d per content channel): the hidden state x of every token
 * ([tokens, d], shared by all heads), which MoGA's router reads. Without the noise every token of
 * a plain background would have one and the same x.
 *
 * @example
 * ```ts
 * import { syntheticInputs } from "./synthetic.ts";
 * import { deepEqual } from "node:assert/strict";
 * const scenario = {
 *   name: "tiny", latent: [2, 2, 4] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [2], textSegments: [],
 *   heads: 1, headDim: 64, modelType: "wan" as const,
 * };
 * const a = await syntheticInputs(scenario, { seed: 1 }).head(0);
 * const b = await syntheticInputs(scenario, { seed: 1 }).head(0);
 * deepEqual(a.q, b.q);
 * ```
 *
 * @module
 */
import type { HeadTensors, HiddenStates, QkvSource } from "./inputs.ts";
import { byteNormalAt, Prng, streamKey } from "./prng.ts";
import {
  type Scenario,
  ScenarioError,
  shotOfFrames,
  textStart,
  textTokens,
  totalTokens,
  videoStart,
} from "./scenario.ts";
import { planSyntheticScene, SYNTHETIC_STREAMS, type SyntheticScene } from "./synthetic_scene.ts";
import { ropeSplit, ropeTables, rotatePairs, slowPairGains } from "./_rope.ts";

/** Options of {@link syntheticInputs}. */
export interface SyntheticOptions {
  /** Seed of every draw: an integer, of which the low 32 bits are used. */
  seed: number;
  /** Divides every logit; > 1 flattens attention, < 1 sharpens it. Default {@link DEFAULT_TEMPERATURE}. */
  temperature?: number;
}

/** The default temperature (calibrated so the decay with distance is visible). */
export const DEFAULT_TEMPERATURE = 1;
/** Correlation of a head's K map with its Q map. */
export const QK_CORRELATION = 0.9;
/** Logit of a query with an identical key (cosine 1) at the same place, at temperature 1. */
export const LOGIT_SCALE = 8;
/** Content weights. */
const SCENE_WEIGHT = 1;
const SUBJECT_WEIGHT = 2;
const TEXT_DIRECTION_WEIGHT = 0.7;
const TEXT_SCENE_WEIGHT = 1;
const TEXT_NAME_WEIGHT = 1.5;
/**
 * Range of the energy gain of a head's scene vectors on the temporal rotary channels (drawn per
 * head): heads differ in how fast their attention decays across frames, as in trained models.
 */
const TEMPORAL_ENERGY_GAIN: [number, number] = [2, 6];
/** Share of a scene vector common to every shot. */
const SHARED_SCENE = 0.3;
/** Blob weights below this are left out (far below the noise). */
const NEGLIGIBLE_WEIGHT = 1e-3;
/** Standard deviation of the per-token noise, per projected channel (content gives ~1). */
const NOISE = 0.3;

/** Scales `row` to root-mean-square 1 (the q/k RMSNorm of HunyuanVideo and Wan, without weights). */
function rmsNormalise(row: Float64Array): void {
  let sumSquares = 0;
  for (let c = 0; c < row.length; c++) sumSquares += row[c] * row[c];
  const scale = Math.sqrt(row.length / sumSquares);
  for (let c = 0; c < row.length; c++) row[c] *= scale;
}

/** `description` of a synthetic source: generator, seed and temperature. */
export function describeSynthetic(options: SyntheticOptions): string {
  return `synthetic(seed=${options.seed}, temperature=${
    options.temperature ?? DEFAULT_TEMPERATURE
  })`;
}

/**
 * Unit-scale content vectors: the scene of every shot (a share {@link SHARED_SCENE} of it common
 * to all shots, the look of the film), then every subject, then the text direction.
 */
function contentBasis(scene: SyntheticScene, shots: number, dims: number, seed: number) {
  const count = shots + scene.subjects + 1;
  const random = new Prng(seed, -1, SYNTHETIC_STREAMS.basis);
  const norm = 1 / Math.sqrt(dims);
  const shared = new Float64Array(dims);
  for (let m = 0; m < dims; m++) shared[m] = random.normal() * norm;
  const basis = new Float64Array(count * dims);
  for (let i = 0; i < basis.length; i++) basis[i] = random.normal() * norm;
  const own = Math.sqrt(1 - SHARED_SCENE);
  const common = Math.sqrt(SHARED_SCENE);
  for (let s = 0; s < shots; s++) {
    for (let m = 0; m < dims; m++) {
      basis[s * dims + m] = common * shared[m] + own * basis[s * dims + m];
    }
  }
  return basis;
}

/** `basis` (count × dims) times `map` (dims × dims): one projected vector a content vector. */
function project(basis: Float64Array, map: Float64Array, dims: number): Float64Array {
  const count = basis.length / dims;
  const out = new Float64Array(count * dims);
  for (let b = 0; b < count; b++) {
    for (let m = 0; m < dims; m++) {
      const x = basis[b * dims + m];
      for (let c = 0; c < dims; c++) out[b * dims + c] += x * map[m * dims + c];
    }
  }
  return out;
}

/**
 * Structured synthetic Q/K/V for `scenario` (see module doc). Heads are made on demand, each in
 * O(L·d) with no per-token allocation; the same (scenario, seed, temperature, head) always gives
 * the same bytes.
 */
export function syntheticInputs(scenario: Scenario, options: SyntheticOptions): QkvSource {
  const temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new ScenarioError(`temperature must be a finite number > 0 (got ${temperature})`);
  }
  if (!Number.isInteger(options.seed)) {
    throw new ScenarioError(`seed must be an integer (got ${options.seed})`);
  }
  const seed = options.seed;
  const d = scenario.headDim;
  const scene = planSyntheticScene(scenario, seed);
  const basis = contentBasis(scene, scenario.shots.length, d, seed);
  const tokens = totalTokens(scenario);
  const content: SyntheticContent = { scenario, scene, basis, seed };
  return {
    description: describeSynthetic({ seed, temperature }),
    tokens,
    heads: scenario.heads,
    headDim: d,
    head(h: number): Promise<HeadTensors> {
      if (!Number.isInteger(h) || h < 0 || h >= scenario.heads) {
        return Promise.reject(
          new RangeError(`head must be an integer in 0…${scenario.heads - 1} (got ${h})`),
        );
      }
      return Promise.resolve(generateHead(content, temperature, h));
    },
    hidden(): Promise<HiddenStates> {
      return Promise.resolve({ dims: d, x: generateHidden(content) });
    },
  };
}

/** Adds `weight` × content vector `index` of `basis` to row `token` of `x`. */
function addContent(
  x: Float32Array,
  source: { basis: Float64Array; dims: number },
  mix: { token: number; index: number; weight: number },
): void {
  const { basis, dims } = source;
  for (let c = 0; c < dims; c++) {
    x[mix.token * dims + c] += mix.weight * basis[mix.index * dims + c];
  }
}

/** What every head and the hidden states are drawn from: the scene plan and the content vectors. */
interface SyntheticContent {
  scenario: Scenario;
  scene: SyntheticScene;
  basis: Float64Array;
  seed: number;
}

/** Every token's content mix (the hidden states x; see module doc). */
function generateHidden(content: SyntheticContent): Float32Array {
  const { scenario, scene, basis, seed } = content;
  const dims = scenario.headDim;
  const [frames, rows, columns] = scenario.latent;
  const shots = scenario.shots.length;
  const x = new Float32Array(totalTokens(scenario) * dims);
  const source = { basis, dims };
  const shotOf = shotOfFrames(scenario);
  const first = videoStart(scenario);
  for (let t = 0; t < frames; t++) {
    const shot = shotOf[t];
    for (let h = 0; h < rows; h++) {
      for (let w = 0; w < columns; w++) {
        const token = first + (t * rows + h) * columns + w;
        addContent(x, source, { token, index: shot, weight: SCENE_WEIGHT });
        for (let s = 0; s < scene.slots; s++) {
          const cell = t * scene.slots + s;
          const weight = SUBJECT_WEIGHT * scene.rowWeights[cell * rows + h] *
            scene.columnWeights[cell * columns + w];
          if (weight < NEGLIGIBLE_WEIGHT) continue;
          addContent(x, source, { token, index: shots + scene.shotSubjects[shot][s], weight });
        }
      }
    }
  }
  const start = textStart(scenario);
  for (let i = 0; i < textTokens(scenario); i++) {
    const token = start + i;
    const direction = shots + scene.subjects;
    addContent(x, source, { token, index: direction, weight: TEXT_DIRECTION_WEIGHT });
    if (scene.textShot[i] >= 0) {
      addContent(x, source, { token, index: scene.textShot[i], weight: TEXT_SCENE_WEIGHT });
    }
    if (scene.textSubject[i] >= 0) {
      const index = shots + scene.textSubject[i];
      addContent(x, source, { token, index, weight: TEXT_NAME_WEIGHT });
    }
  }
  const key = streamKey(seed, -1, SYNTHETIC_STREAMS.noiseX);
  const noise = NOISE / Math.sqrt(dims);
  for (let i = 0; i < x.length; i++) x[i] += noise * byteNormalAt(key, i);
  return x;
}

function generateHead(content: SyntheticContent, temperature: number, head: number): HeadTensors {
  const { scenario, scene, basis, seed } = content;
  const d = scenario.headDim;
  const [frames, rows, columns] = scenario.latent;
  const shots = scenario.shots.length;
  const tokens = totalTokens(scenario);
  const random = new Prng(seed, head, SYNTHETIC_STREAMS.maps);
  const mapQ = new Float64Array(d * d);
  const mapK = new Float64Array(d * d);
  const mapV = new Float64Array(d * d);
  const independent = Math.sqrt(1 - QK_CORRELATION * QK_CORRELATION);
  for (let i = 0; i < d * d; i++) {
    mapQ[i] = random.normal();
    mapK[i] = QK_CORRELATION * mapQ[i] + independent * random.normal();
    mapV[i] = random.normal();
  }
  const qScale = LOGIT_SCALE / (temperature * Math.sqrt(d));
  const projectedQ = project(basis, mapQ, d);
  const projectedK = project(basis, mapK, d);
  const projectedV = project(basis, mapV, d);
  const split = ropeSplit(d);
  const gains = slowPairGains(split);
  for (let b = shots; b < shots + scene.subjects; b++) {
    for (let c = 0; c < d; c++) {
      projectedQ[b * d + c] *= gains[c];
      projectedK[b * d + c] *= gains[c];
    }
  }
  const temporalGain = Math.sqrt(random.between(TEMPORAL_ENERGY_GAIN[0], TEMPORAL_ENERGY_GAIN[1]));
  for (let b = 0; b < shots; b++) {
    for (let c = 0; c < split[0]; c++) {
      projectedQ[b * d + c] *= temporalGain;
      projectedK[b * d + c] *= temporalGain;
    }
  }
  const keyQ = streamKey(seed, head, SYNTHETIC_STREAMS.noiseQ);
  const keyK = streamKey(seed, head, SYNTHETIC_STREAMS.noiseK);
  const keyV = streamKey(seed, head, SYNTHETIC_STREAMS.noiseV);
  const q = new Float32Array(tokens * d);
  const k = new Float32Array(tokens * d);
  const v = new Float32Array(tokens * d);
  const rowQ = new Float64Array(d);
  const rowK = new Float64Array(d);
  const rowV = new Float64Array(d);

  const tablesT = ropeTables(frames, split[0]);
  const tablesH = ropeTables(rows, split[1]);
  const tablesW = ropeTables(columns, split[2]);
  const rotate3d = (row: Float64Array, t: number, h: number, w: number) => {
    rotatePairs(row, 0, tablesT, t);
    rotatePairs(row, split[0], tablesH, h);
    rotatePairs(row, split[0] + split[1], tablesW, w);
  };
  const slots = scene.slots;
  const slotOffsets = new Int32Array(slots);
  const activeOffsets = new Int32Array(slots);
  const activeWeights = new Float64Array(slots);
  const shotOf = shotOfFrames(scenario);
  const first = videoStart(scenario);

  for (let t = 0; t < frames; t++) {
    const shot = shotOf[t];
    const sceneOffset = shot * d;
    for (let s = 0; s < slots; s++) slotOffsets[s] = (shots + scene.shotSubjects[shot][s]) * d;
    for (let h = 0; h < rows; h++) {
      for (let w = 0; w < columns; w++) {
        let active = 0;
        for (let s = 0; s < slots; s++) {
          const cell = t * slots + s;
          const weight = SUBJECT_WEIGHT * scene.rowWeights[cell * rows + h] *
            scene.columnWeights[cell * columns + w];
          if (weight < NEGLIGIBLE_WEIGHT) continue;
          activeOffsets[active] = slotOffsets[s];
          activeWeights[active++] = weight;
        }
        const token = first + (t * rows + h) * columns + w;
        const counter = token * d;
        for (let c = 0; c < d; c++) {
          let xq = SCENE_WEIGHT * projectedQ[sceneOffset + c];
          let xk = SCENE_WEIGHT * projectedK[sceneOffset + c];
          let xv = SCENE_WEIGHT * projectedV[sceneOffset + c];
          for (let s = 0; s < active; s++) {
            const weight = activeWeights[s];
            const offset = activeOffsets[s] + c;
            xq += weight * projectedQ[offset];
            xk += weight * projectedK[offset];
            xv += weight * projectedV[offset];
          }
          rowQ[c] = xq + NOISE * byteNormalAt(keyQ, counter + c);
          rowK[c] = xk + NOISE * byteNormalAt(keyK, counter + c);
          rowV[c] = xv + NOISE * byteNormalAt(keyV, counter + c);
        }
        rmsNormalise(rowQ);
        rmsNormalise(rowK);
        rotate3d(rowQ, t, h, w);
        rotate3d(rowK, t, h, w);
        for (let c = 0; c < d; c++) {
          q[counter + c] = rowQ[c] * qScale;
          k[counter + c] = rowK[c];
          v[counter + c] = rowV[c];
        }
      }
    }
  }

  const textOffset = (shots + scene.subjects) * d;
  const start = textStart(scenario);
  for (let i = 0; i < textTokens(scenario); i++) {
    const token = start + i;
    const counter = token * d;
    const shot = scene.textShot[i];
    const subject = scene.textSubject[i];
    for (let c = 0; c < d; c++) {
      let xq = TEXT_DIRECTION_WEIGHT * projectedQ[textOffset + c];
      let xk = TEXT_DIRECTION_WEIGHT * projectedK[textOffset + c];
      let xv = TEXT_DIRECTION_WEIGHT * projectedV[textOffset + c];
      if (shot >= 0) {
        xq += TEXT_SCENE_WEIGHT * projectedQ[shot * d + c];
        xk += TEXT_SCENE_WEIGHT * projectedK[shot * d + c];
        xv += TEXT_SCENE_WEIGHT * projectedV[shot * d + c];
      }
      if (subject >= 0) {
        const offset = (shots + subject) * d + c;
        xq += TEXT_NAME_WEIGHT * projectedQ[offset];
        xk += TEXT_NAME_WEIGHT * projectedK[offset];
        xv += TEXT_NAME_WEIGHT * projectedV[offset];
      }
      rowQ[c] = xq + NOISE * byteNormalAt(keyQ, counter + c);
      rowK[c] = xk + NOISE * byteNormalAt(keyK, counter + c);
      v[counter + c] = xv + NOISE * byteNormalAt(keyV, counter + c);
    }
    rmsNormalise(rowQ);
    rmsNormalise(rowK);
    for (let c = 0; c < d; c++) {
      q[counter + c] = rowQ[c] * qScale;
      k[counter + c] = rowK[c];
    }
  }
  return { q, k, v };
}

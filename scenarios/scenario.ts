/**
 * The scenario: the token layout every method sees (spec: docs/scenarios.md).
 *
 * Video tokens are frame-major, `index = (t·H + h)·W + w` inside the video segment; text tokens sit
 * before (`prefix`), after (`suffix`) or nowhere (`none`).
 *
 * @module
 */

import type { Schedule } from "./schedule.ts";

/** Where the prompt tokens sit in the joint sequence. */
export type TextPosition = "suffix" | "prefix" | "none";

/** The model family, which selects model-specific method rules (Radial's first-frame sink for `wan`). */
export type ModelType = "hunyuan" | "wan" | "mochi";

/** Allowed text positions, for validation messages. */
export const TEXT_POSITIONS: readonly TextPosition[] = ["suffix", "prefix", "none"];
/** Allowed model types, for validation messages. */
export const MODEL_TYPES: readonly ModelType[] = ["hunyuan", "wan", "mochi"];
/** Head dimensions the kernels support. */
export const HEAD_DIMS: readonly number[] = [64, 128];

/** A fully resolved scenario (the scenario file of docs/cli.md, with defaults filled in). */
export interface Scenario {
  /** Name shown in records and reports. */
  name: string;
  /** Latent video shape [T, H, W]: frames, patch rows, patch columns. */
  latent: [number, number, number];
  /** The prompt: its token count and where it sits. */
  text: { tokens: number; position: TextPosition };
  /** Latent frames per shot; sums to T. One entry for a single-shot scenario. */
  shots: number[];
  /** Prompt tokens per shot (multi-shot prompts); sums to `text.tokens`. One entry otherwise. */
  textSegments: number[];
  /** Attention heads. */
  heads: number;
  /** Head dimension d. */
  headDim: number;
  /** Model family. */
  modelType: ModelType;
  /** Where the numbers come from (paper, table, script), and any assumption made. */
  source?: string;
  /** The whole generation run: layers × steps and what runs where (scenarios/schedule.ts). */
  schedule?: Schedule;
}

/** Thrown for a scenario that breaks a rule of docs/scenarios.md; the message names the field. */
export class ScenarioError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the field and the allowed values
   */
  constructor(message: string) {
    super(message);
    this.name = "ScenarioError";
  }
}

/** Tokens per latent frame, P = H·W. */
export function tokensPerFrame(scenario: Scenario): number {
  return scenario.latent[1] * scenario.latent[2];
}

/** Video tokens N = T·H·W. */
export function videoTokens(scenario: Scenario): number {
  return scenario.latent[0] * tokensPerFrame(scenario);
}

/** Text tokens in the self-attention sequence (0 when the position is `none`). */
export function textTokens(scenario: Scenario): number {
  return scenario.text.position === "none" ? 0 : scenario.text.tokens;
}

/** Length of the joint sequence L. */
export function totalTokens(scenario: Scenario): number {
  return videoTokens(scenario) + textTokens(scenario);
}

/** First index of the video segment in the joint sequence. */
export function videoStart(scenario: Scenario): number {
  return scenario.text.position === "prefix" ? textTokens(scenario) : 0;
}

/** First index of the text segment in the joint sequence. */
export function textStart(scenario: Scenario): number {
  return scenario.text.position === "prefix" ? 0 : videoTokens(scenario);
}

/** The latent frame of a joint-sequence index, or -1 for a text token. */
export function frameOfToken(scenario: Scenario, token: number): number {
  const v = token - videoStart(scenario);
  if (v < 0 || v >= videoTokens(scenario)) return -1;
  return Math.floor(v / tokensPerFrame(scenario));
}

/** The first latent frame of every shot, plus T at the end (length shots + 1). */
export function shotFrameBounds(scenario: Scenario): number[] {
  const bounds = [0];
  for (const frames of scenario.shots) bounds.push(bounds[bounds.length - 1] + frames);
  return bounds;
}

/** The shot of each latent frame. */
export function shotOfFrames(scenario: Scenario): Int32Array {
  const shotOf = new Int32Array(scenario.latent[0]);
  const bounds = shotFrameBounds(scenario);
  for (let s = 0; s < scenario.shots.length; s++) shotOf.fill(s, bounds[s], bounds[s + 1]);
  return shotOf;
}

/** Joint-sequence [start, end) of each shot's prompt segment (empty list without text). */
export function textSegmentRanges(scenario: Scenario): Array<[number, number]> {
  if (textTokens(scenario) === 0) return [];
  const ranges: Array<[number, number]> = [];
  let start = textStart(scenario);
  for (const n of scenario.textSegments) {
    ranges.push([start, start + n]);
    start += n;
  }
  return ranges;
}

/** Latent pixels to latent frames: T = (frames − 1)/4 + 1 for the causal VAE (6× for Mochi). */
export function latentFrames(frames: number, temporalStride = 4): number {
  return Math.floor((frames - 1) / temporalStride) + 1;
}

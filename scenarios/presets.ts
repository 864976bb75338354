/**
 * The preset scenarios of docs/scenarios.md ("Presets"), each at two sizes: `full` (the
 * paper's setting) and `ci` (same text position, shot count and model type, shrunk to at most
 * 2,048 tokens, 2 heads of d = 64, so the software adapter runs dense attention in a fraction of
 * a second; STA's window of 3 tiles still skips tiles on the tile-aligned ones). A `@xN` suffix (N = 1, 2, 4, 8) is a length sweep: N times the latent frames, every
 * shot N times longer (Radial Attention, Table 2).
 *
 * Pixels to latents: T = (frames − 1)/4 + 1, H = height/16, W = width/16 (Mochi 1: 6× temporal).
 *
 * @example
 * ```ts
 * import { preset } from "./presets.ts";
 * import { totalTokens } from "./scenario.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(totalTokens(preset("wan-69f-768x1280", "full")), 69_120);
 * deepEqual(preset("hunyuan-117f-768x1280@x2", "full").latent, [60, 48, 80]);
 * ```
 *
 * @module
 */
import { type ModelType, type Scenario, ScenarioError, type TextPosition } from "./scenario.ts";
import { validateScenario } from "./validate.ts";
import type { Schedule, ScheduleRule } from "./schedule.ts";

/** The two sizes of every preset. */
export type PresetSize = "full" | "ci";

/** Allowed sizes, for validation messages. */
export const PRESET_SIZES: readonly PresetSize[] = ["full", "ci"];

/** Allowed length-sweep factors (`NAME@x2`). */
export const SWEEP_FACTORS: readonly number[] = [1, 2, 4, 8];

/** A preset as listed by `deno task list`. */
export interface PresetInfo {
  /** Preset name (without a sweep suffix). */
  name: string;
  /** One line: model, clip and shape. */
  summary: string;
  /** Where the numbers come from, and every assumption made where a paper leaves one open. */
  source: string;
}

interface PresetShape {
  latent: [number, number, number];
  shots: number[];
  textSegments: number[];
  heads: number;
  headDim: number;
  note: string;
}

interface PresetDefinition extends PresetInfo {
  /** The published whole-run schedule (length factor 1 only: longer runs need tuned models). */
  schedule?: Schedule;
  position: TextPosition;
  modelType: ModelType;
  full: PresetShape;
  ci: PresetShape;
}

/** `count` copies of `value`. */
function repeat(value: number, count: number): number[] {
  return new Array<number>(count).fill(value);
}

const CI_HEADS = 2;
const CI_HEAD_DIM = 64;
/**
 * Tile-aligned for STA (6, 8, 8) with 4 tiles along W, so a 3-tile window skips some, and 256
 * tokens a frame (two Radial blocks).
 */
const CI_TILED: [number, number, number] = [6, 8, 32];

function ciShape(
  latent: [number, number, number],
  shots: number[],
  textSegments: number[],
): PresetShape {
  const tokens = latent[0] * latent[1] * latent[2] + textSegments.reduce((a, b) => a + b, 0);
  return {
    latent,
    shots,
    textSegments,
    heads: CI_HEADS,
    headDim: CI_HEAD_DIM,
    note: `ci size: latent ${latent.join("×")}, ${tokens} tokens, ${CI_HEADS} heads × ` +
      `${CI_HEAD_DIM}, same text position, shot count and model type as the full size`,
  };
}

function fullShape(
  latent: [number, number, number],
  shots: number[],
  textSegments: number[],
  heads: number,
): PresetShape {
  return { latent, shots, textSegments, heads, headDim: 128, note: "" };
}

const HUNYUAN_MODEL = "HunyuanVideo: 24 heads × 128, 256-token prompt after the video (MMDiT " +
  "joint attention)";
const WAN_MODEL = "Wan2.1-14B: 40 heads × 128; the prompt enters through cross-attention, so no " +
  "text tokens in self-attention";

const RADIAL_SCRIPTS = "mit-han-lab/radial-attention";
/** Sparse-VideoGen 2's repository (arXiv 2505.18875), where its dense steps and layers are set. */
const SVG2_SCRIPTS = "Sparse-VideoGen (github.com/svg-project/Sparse-VideoGen)";

/**
 * SVG2's k-means over a whole run: the scripts' kmeans_iter_init = 50 rounds once, then the
 * centroids are kept per layer and kmeans_iter_step = 2 rounds run each later step. The first
 * sparse step runs the spec as given (50 rounds by default); the steps after it, `iters` = 2.
 */
function svg2Rounds(denseSteps: number, steps: number): ScheduleRule[] {
  return [{ steps: [denseSteps + 1, steps], set: { iters: 2 } }];
}

const SVG2_ROUNDS = "kmeans_iter_init=50 rounds at the first sparse step, then " +
  "kmeans_iter_step=2 a step from the kept centroids (timed as 2 rounds from a cold start)";

/** STA's dense first steps: FastVideo's mask search (STA_tuning) keeps them full. */
const STA_DENSE_STEPS = {
  denseSteps: 12,
  source: "STA (arXiv 2502.04507) Algorithm 1 keeps the first T0 steps full; T0 = 12 is " +
    "FastVideo's skip_time_steps in its STA mask search (examples/inference/sta_mask_search). " +
    "Its searched per-head windows are prompt-dependent and not shipped as plain JSON: the " +
    "other steps run the spec given; schedule.methods.sta.strategy (or sta:strategy=FILE) " +
    "reads a FastVideo mask-strategy file",
  rules: [],
  denseLayers: 0,
};

/** HunyuanVideo: 20 double-stream + 40 single-stream blocks, 50 steps. */
const HUNYUAN_SCHEDULE: Schedule = {
  layers: 60,
  steps: 50,
  source: "HunyuanVideo: 20 double-stream and 40 single-stream blocks (Radial's " +
    "radial_attn/models/hunyuan/inference.py numbers them 0..59), 50 denoising steps " +
    "(hunyuan_t2v_inference.py default)",
  methods: {
    radial: {
      denseSteps: 12,
      denseLayers: 0,
      rules: [],
      source: `${RADIAL_SCRIPTS} scripts/hunyuan_t2v_inference.sh: dense_timesteps=12, ` +
        "dense_layers=0 (a step runs dense while its index < dense_timesteps)",
    },
    sta: STA_DENSE_STEPS,
    svg2: {
      denseSteps: 5,
      denseLayers: 1,
      rules: svg2Rounds(5, 50),
      source: `${SVG2_SCRIPTS} scripts/hyvideo/hyvideo_t2v_720p_sap.sh: first_times_fp=0.1, ` +
        "first_layers_fp=0.03 → floor(0.1·50) = 5 steps and floor(0.03·60) = 1 layer dense; " +
        `${SVG2_ROUNDS}; with --zero_step_kmeans_init the script also clusters in its dense ` +
        "cells (50 rounds at step 0, then 2 a step, dense layer included), k-means time the " +
        "dense cells here do not count",
    },
  },
};

/** Wan2.1-14B: 40 blocks, 50 steps. */
const WAN_SCHEDULE: Schedule = {
  layers: 40,
  steps: 50,
  source: "Wan2.1-14B: 40 blocks; 50 denoising steps (wan_t2v_inference.py default)",
  methods: {
    radial: {
      denseSteps: 12,
      denseLayers: 1,
      rules: [],
      source: `${RADIAL_SCRIPTS} scripts/wan_t2v_inference.sh: dense_layers=1, ` +
        "dense_timesteps=12 (1× length setting)",
    },
    sta: STA_DENSE_STEPS,
    svg2: {
      denseSteps: 10,
      denseLayers: 1,
      rules: svg2Rounds(10, 50),
      source: `${SVG2_SCRIPTS} scripts/wan/wan_t2v_720p_sap.sh: first_times_fp=0.2, ` +
        "first_layers_fp=0.03 → floor(0.2·50) = 10 steps and floor(0.03·40) = 1 layer dense; " +
        SVG2_ROUNDS,
    },
  },
};

const DEFINITIONS: readonly PresetDefinition[] = [
  {
    name: "hunyuan-117f-768x1280",
    schedule: HUNYUAN_SCHEDULE,
    summary: "HunyuanVideo, 117 frames at 768×1280: 30×48×80 latents + 256 text (suffix)",
    source: `Radial Attention scripts and STA's canvas '30x48x80'. ${HUNYUAN_MODEL}.`,
    position: "suffix",
    modelType: "hunyuan",
    full: fullShape([30, 48, 80], [30], [256], 24),
    ci: ciShape(CI_TILED, [6], [32]),
  },
  {
    name: "hunyuan-117f-720x1280",
    schedule: HUNYUAN_SCHEDULE,
    summary: "HunyuanVideo, 117 frames at 720×1280: 30×45×80 latents + 256 text (suffix)",
    source: `Radial Attention Table 1. ${HUNYUAN_MODEL}. H = 45 is not a multiple of STA's ` +
      `tile, so STA refuses the full size.`,
    position: "suffix",
    modelType: "hunyuan",
    full: fullShape([30, 45, 80], [30], [256], 24),
    ci: ciShape(CI_TILED, [6], [32]),
  },
  {
    name: "wan-81f-720x1280",
    schedule: WAN_SCHEDULE,
    summary: "Wan2.1-14B, 81 frames at 720×1280: 21×45×80 latents, no text in self-attention",
    source: `Radial Attention Table 1 (Wan2.1-14B). ${WAN_MODEL}.`,
    position: "none",
    modelType: "wan",
    full: fullShape([21, 45, 80], [21], [], 40),
    ci: ciShape(CI_TILED, [6], []),
  },
  {
    name: "wan-69f-768x1280",
    schedule: WAN_SCHEDULE,
    summary: "Wan2.1-14B, 69 frames at 768×1280: 18×48×80 latents, no text in self-attention",
    source: `Radial Attention scripts and STA's canvas '18x48x80'. ${WAN_MODEL}.`,
    position: "none",
    modelType: "wan",
    full: fullShape([18, 48, 80], [18], [], 40),
    ci: ciShape(CI_TILED, [6], []),
  },
  {
    name: "mochi-163f-480x848",
    summary: "Mochi 1, 163 frames at 480×848: 28×30×53 latents + 256 text (suffix)",
    source: "Radial Attention (Mochi 1). T = (163 − 1)/6 + 1 (6× temporal VAE), 480/16 × 848/16 " +
      "(8× VAE, 2×2 patch). Mochi 1: 24 heads × 128 (3072 wide), joint attention with a " +
      "256-token prompt after the video. Not STA tile-aligned (neither is the ci size).",
    position: "suffix",
    modelType: "mochi",
    full: fullShape([28, 30, 53], [28], [256], 24),
    ci: ciShape([7, 10, 13], [7], [32]),
  },
  {
    name: "moc-single-shot",
    summary: "MoC single shot, 8 s at 320×192: 25×12×20 latents + 92 text (suffix), L = 6,092",
    source: "MoC (arXiv 2508.21058) Table 1: dense 1.9e10 FLOPs = 4·L²·d for one head, d = 128. " +
      "25 latent frames × 192/16 × 320/16 = 6,000 video tokens; the paper does not give its " +
      "prompt length, 92 tokens is chosen so that 4·6,092²·128 = 1.900e10. Heads 24 × 128 and " +
      "the suffix prompt (MMDiT) are assumptions; MoC's figures are per head.",
    position: "suffix",
    modelType: "hunyuan",
    full: fullShape([25, 12, 20], [25], [92], 24),
    ci: ciShape([16, 6, 10], [16], [32]),
  },
  {
    name: "moc-multi-shot",
    summary: "MoC 8 shots, 64 s at 480p: 8×14 frames of 30×53 + 8×64 text (suffix), L = 178,592",
    source: "MoC (arXiv 2508.21058) Table 2: dense 1.66e13 FLOPs = 4·L²·128 ⇒ L ≈ 180,067, 8 " +
      "shots at 480p. The paper gives neither frame size nor frames per shot: we take 480×848 " +
      "(30×53 latents, as Mochi's 480p), 14 latent frames a shot and a 64-token prompt segment " +
      "a shot, so L = 8·14·1,590 + 8·64 = 178,592 (−0.8%), 4·L²·128 = 1.633e13 (−1.6%). The " +
      "short prompts let MoC's counted FLOPs meet the paper's 2.32e12 (with moc:k=2: +2.4%); " +
      "with 256-token prompts the text and own-shot anchors alone pass it. Heads 24 × 128 are " +
      "an assumption.",
    position: "suffix",
    modelType: "hunyuan",
    full: fullShape([112, 30, 53], repeat(14, 8), repeat(64, 8), 24),
    ci: ciShape([24, 8, 8], repeat(3, 8), repeat(8, 8)),
  },
  {
    name: "moga-minute-480p",
    summary:
      "MoGA one minute at 24 fps, 480p: 361×30×52 latents in 12 shots + 12×256 text (suffix)",
    source:
      "MoGA (arXiv 2510.18692): 60 s × 24 fps = 1,441 frames ⇒ 361 latent frames, 480×832 ⇒ " +
      "30×52, 563,160 video tokens (the paper says ≈580k). The paper fixes neither the shot " +
      "count nor the prompt: we take 12 shots (11 of 30 latent frames, 5 s each, and one of 31) " +
      "and MMDiT-style joint attention with a 256-token prompt segment a shot (L = 566,232); " +
      "heads 24 × 128 are an assumption.",
    position: "suffix",
    modelType: "hunyuan",
    full: fullShape([361, 30, 52], [...repeat(30, 11), 31], repeat(256, 12), 24),
    ci: ciShape([25, 6, 8], [...repeat(2, 11), 3], repeat(8, 12)),
  },
];

/** Every preset, in the order of docs/scenarios.md. */
export const PRESETS: readonly PresetInfo[] = DEFINITIONS.map(({ name, summary, source }) => ({
  name,
  summary,
  source,
}));

/** The preset names (without sweep suffixes). */
export function presetNames(): string[] {
  return DEFINITIONS.map((d) => d.name);
}

function unknownPreset(name: string): ScenarioError {
  return new ScenarioError(
    `--scenario: unknown preset "${name}" (allowed: ${presetNames().join(", ")}, each with an ` +
      `optional length sweep ${SWEEP_FACTORS.map((f) => `@x${f}`).join("|")}; or a .json file)`,
  );
}

/**
 * The preset `name` (optionally with a `@xN` length sweep) at `size`, validated.
 * Throws a {@link ScenarioError} naming `--scenario` and the allowed names for an unknown name.
 */
export function preset(name: string, size: PresetSize): Scenario {
  if (!PRESET_SIZES.includes(size)) {
    throw new ScenarioError(`--size must be one of ${PRESET_SIZES.join(", ")} (got "${size}")`);
  }
  const sweep = /^(.+)@x(\d+)$/.exec(name);
  const baseName = sweep ? sweep[1] : name;
  const definition = DEFINITIONS.find((d) => d.name === baseName);
  if (!definition) throw unknownPreset(name);
  const factor = sweep ? Number(sweep[2]) : 1;
  if (!SWEEP_FACTORS.includes(factor)) {
    throw new ScenarioError(
      `--scenario: length sweep of "${name}" must be one of ` +
        `${SWEEP_FACTORS.map((f) => `@x${f}`).join(", ")} (got @x${sweep?.[2]})`,
    );
  }
  const shape = definition[size];
  const [frames, rows, columns] = shape.latent;
  const notes = [definition.source];
  if (factor > 1) {
    notes.push(`Length sweep ×${factor}: ${factor}× the latent frames of every shot.`);
  }
  if (size === "ci") notes.push(`${shape.note}.`);
  const textTokens = shape.textSegments.reduce((a, b) => a + b, 0);
  const schedule = factor === 1 && definition.schedule
    ? structuredClone(definition.schedule)
    : undefined;
  return validateScenario({
    name,
    latent: [frames * factor, rows, columns],
    text: { tokens: textTokens, position: definition.position },
    shots: shape.shots.map((n) => n * factor),
    textSegments: [...shape.textSegments],
    heads: shape.heads,
    headDim: shape.headDim,
    modelType: definition.modelType,
    source: notes.join(" "),
    ...(schedule ? { schedule } : {}),
  });
}

/**
 * Radial Attention (arXiv 2506.19852; official code mit-han-lab/radial-attention,
 * radial_attn/attn_mask.py), exactly as docs/methods.md states it: a static block mask
 * over the video tokens whose temporal window halves with each doubling of the frame distance,
 * far frames thinned by the split rule, and text rows and columns fully attended.
 *
 * The per-frame-pair token masks are never materialised: each one is a band |c − r| ≤ w (or all
 * on / all off), so the shrink rule's column densities follow from interval arithmetic, block by
 * block, and only blocks the band cuts need a per-column pass.
 *
 * @module
 */
import type { BlockGrid, ExecutionForm } from "../form/form.ts";
import { formFromSegments, jointSegments, uniformBounds } from "../form/mask_predicate.ts";
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { RADIAL_ANALYTIC_NOTE, radialAnalyticFlops } from "./radial_flops.ts";
import { resolveParams } from "./spec.ts";
import {
  type ModelType,
  type Scenario,
  tokensPerFrame,
  videoTokens,
} from "../scenarios/scenario.ts";

/** The split rule's threshold: the constant 128 of the official code, whatever the block size. */
const SPLIT_THRESHOLD = 128;
/** Block sizes the official kernels support. */
const BLOCK_SIZES: readonly number[] = [128, 64];

/** Inputs of {@link radialBlockMask}. */
export interface RadialMaskOptions {
  /** Latent frames F. */
  frames: number;
  /** Tokens per frame P. */
  tokensPerFrame: number;
  /** Block size B (the method allows 128 or 64; the mask itself any B ≥ 1). */
  blockSize: number;
  /** Decay factor δ of the window width. */
  decay: number;
  /** Model type: `wan` adds the first-frame attention sink. */
  modelType: ModelType;
}

/** Bit length: bl(0) = 0, bl(1) = 1, bl(4) = 3. */
export function bitLength(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * The window half-width of frame pair (i, j) as an integer bound on |c − r|, Infinity when the
 * whole frame is on, or -1 when the split rule turns the pair off (docs/methods.md steps 1–3).
 */
function pairWindow(i: number, j: number, options: RadialMaskOptions): number {
  if (options.modelType === "wan" && j === 0) return Infinity;
  const dist = Math.abs(i - j);
  // s = 2^bl(P) / 2^bl(dist), a power of two: exact in floating point.
  const split = 2 ** (bitLength(options.tokensPerFrame) - bitLength(dist));
  if (split < SPLIT_THRESHOLD && dist % Math.floor(SPLIT_THRESHOLD / split) !== 0) return -1;
  if (dist <= 1) return Infinity;
  const decayLength = 2 ** bitLength(options.tokensPerFrame) / 2 ** bitLength(dist) *
    options.decay;
  // torch compares the integer |c − r| with the float width in float32.
  return decayLength >= options.blockSize
    ? Math.floor(Math.fround(decayLength))
    : options.blockSize;
}

/**
 * Whether the shrink rule turns a block on, for the token rectangle rows [r0, r1) × columns
 * [c0, c1) of one frame pair (frame-local indices) under the band |c − r| ≤ window. A column's
 * count is the rows of the block it has on; it is dense when 3·count > B; the block is on when
 * more than 60% of its non-empty columns are dense (5·dense > 3·nonEmpty).
 */
function shrinkBlockOn(
  r0: number,
  r1: number,
  c0: number,
  c1: number,
  window: number,
  blockSize: number,
): boolean {
  const rows = r1 - r0;
  if (3 * rows <= blockSize) return false;
  if (window >= Math.max(c1 - 1 - r0, r1 - 1 - c0)) return true;
  const gap = c1 - 1 < r0 ? r0 - (c1 - 1) : r1 - 1 < c0 ? c0 - (r1 - 1) : 0;
  if (gap > window) return false;
  let nonEmpty = 0;
  let dense = 0;
  for (let c = c0; c < c1; c++) {
    const count = Math.min(r1 - 1, c + window) - Math.max(r0, c - window) + 1;
    if (count > 0) nonEmpty++;
    if (3 * count > blockSize) dense++;
  }
  return 5 * dense > 3 * nonEmpty;
}

/**
 * Radial Attention's block mask over the F·P video tokens (docs/methods.md): ceil(N/B) blocks a side,
 * rows and columns from N div B on all on, each frame pair's token mask shrunk to blocks at its
 * offset and OR-ed in.
 *
 * @example
 * ```ts
 * import { radialBlockMask } from "./radial.ts";
 * import { equal } from "node:assert/strict";
 * const grid = radialBlockMask({
 *   frames: 8, tokensPerFrame: 1024, blockSize: 128, decay: 1, modelType: "hunyuan",
 * });
 * equal(grid.blocks, 64);
 * equal(grid.bits.reduce((a, b) => a + b, 0), 3232);
 * ```
 */
export function radialBlockMask(options: RadialMaskOptions): BlockGrid {
  const { frames, tokensPerFrame: P, blockSize: B } = options;
  for (const [field, value] of [["frames", frames], ["tokensPerFrame", P], ["blockSize", B]]) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new RangeError(`radial: ${field} must be an integer ≥ 1 (got ${value})`);
    }
  }
  if (!(options.decay > 0 && Number.isFinite(options.decay))) {
    throw new RangeError(`radial: decay must be a finite number > 0 (got ${options.decay})`);
  }
  const videoTokenCount = frames * P;
  const blocks = Math.ceil(videoTokenCount / B);
  const bits = new Uint8Array(blocks * blocks);
  const border = Math.floor(videoTokenCount / B);
  for (let row = 0; row < blocks; row++) {
    if (row >= border) bits.fill(1, row * blocks, (row + 1) * blocks);
    else bits.fill(1, row * blocks + border, (row + 1) * blocks);
  }
  const frameBlocks = Math.ceil(P / B);
  for (let i = 0; i < frames; i++) {
    const rowOffset = (i * P) % B;
    const rowBlock = Math.floor((i * P) / B);
    for (let j = 0; j < frames; j++) {
      const window = pairWindow(i, j, options);
      if (window < 0) continue;
      const colOffset = (j * P) % B;
      const colBlock = Math.floor((j * P) / B);
      // The shrink keeps the top-left frameBlocks² blocks of the offset canvas.
      for (let a = 0; a < frameBlocks; a++) {
        const r0 = Math.max(0, a * B - rowOffset);
        const r1 = Math.min(P, (a + 1) * B - rowOffset);
        if (r1 <= r0) continue;
        const gridRow = (rowBlock + a) * blocks;
        for (let b = 0; b < frameBlocks; b++) {
          const cell = gridRow + colBlock + b;
          if (bits[cell] === 1) continue;
          const c0 = Math.max(0, b * B - colOffset);
          const c1 = Math.min(P, (b + 1) * B - colOffset);
          if (c1 > c0 && shrinkBlockOn(r0, r1, c0, c1, window, B)) bits[cell] = 1;
        }
      }
    }
  }
  return { blockSize: B, blocks, bits };
}

/** Default decay factor for a model type: the official scripts' settings (docs/methods.md). */
export function defaultRadialDecay(modelType: ModelType): number {
  return modelType === "hunyuan" ? 0.95 : modelType === "wan" ? 0.2 : 1;
}

const DEFAULTS: Params = { decay: "auto", block: 128 };
/** Per-head decays; a record's params name them only when given. */
const PER_HEAD_DEFAULTS: Params = { decays: "" };

/** `0.5/1/2` → one decay a head, each a finite number > 0. */
export function parseHeadDecays(text: string): number[] {
  const decays = text.split("/").map((part) =>
    /^\s*[0-9.eE+-]+\s*$/.test(part) ? Number(part) : NaN
  );
  if (!decays.every((d) => d > 0 && Number.isFinite(d))) {
    throw new MethodSpecError(
      `radial: parameter "decays" must be one decay > 0 a head joined by "/" ` +
        `(e.g. 0.5/1/2; got "${text}")`,
    );
  }
  return decays;
}

/**
 * Validates the user's parameters; `decay` is a number > 0 or `auto` (model-type default);
 * `decays` (one a head, `0.5/1`) replaces it and stays out of the params unless given.
 */
function radialParams(given: Params): Params {
  const { decay, ...rest } = given;
  // One head's decays is a plain number on the command line (`decays=0.5`).
  if (typeof rest.decays === "number") rest.decays = String(rest.decays);
  const params = resolveParams("radial", { ...DEFAULTS, ...PER_HEAD_DEFAULTS }, rest);
  if (params.decays === "") delete params.decays;
  else {
    parseHeadDecays(params.decays as string);
    if (decay !== undefined) {
      throw new MethodSpecError(`radial: give "decay" or per-head "decays", not both`);
    }
    delete params.decay;
  }
  if (decay !== undefined) {
    if (decay !== "auto" && !(typeof decay === "number" && decay > 0 && Number.isFinite(decay))) {
      throw new MethodSpecError(
        `radial: parameter "decay" must be a number > 0 or auto (got ${String(decay)})`,
      );
    }
    params.decay = decay;
  }
  if (!BLOCK_SIZES.includes(params.block as number)) {
    throw new MethodSpecError(
      `radial: parameter "block" must be one of ${BLOCK_SIZES.join(", ")} (got ${
        String(params.block)
      })`,
    );
  }
  return params;
}

/**
 * Radial Attention over the scenario's joint sequence: query tiles are the video blocks (offset
 * by a text prefix) and text chunks of `block` tokens; each tile's key ranges are its runs of
 * consecutive on-blocks, plus all text; text tiles attend everything.
 */
export const radial: MethodDefinition = {
  name: "radial",
  summary: "Radial Attention: static O(n log n) block mask, window halving with frame distance " +
    "(arXiv 2506.19852)",
  defaults: DEFAULTS,
  paramDocs: {
    decay:
      "window decay factor δ > 0, or auto: 0.95 hunyuan, 0.2 wan, 1.0 mochi (official scripts)",
    decays: "one decay a head, joined by / (e.g. 0.5/1/2); replaces decay",
    block: "block size in tokens: 128 or 64",
  },
  knob: {
    param: "decay",
    summary: "window decay δ: smaller halves the band sooner (sparser)",
    grid: () => [4, 2, 1, 0.5, 0.25, 0.1],
    perHeadParam: "decays",
  },
  create(given: Params): Method {
    const params = radialParams(given);
    const blockSize = params.block as number;
    return {
      name: "radial",
      params,
      dynamic: false,
      layout(scenario: Scenario) {
        const formOf = (decay: number) =>
          radialForm(
            scenario,
            radialBlockMask({
              frames: scenario.latent[0],
              tokensPerFrame: tokensPerFrame(scenario),
              blockSize,
              decay,
              modelType: scenario.modelType,
            }),
          );
        if (params.decays !== undefined) {
          return {
            forms: headDecayForms(params.decays as string, scenario.heads, formOf),
            routingFlops: 0,
            notes: [
              `per-head decays ${params.decays} (official code: one decay for every head)`,
              RADIAL_ANALYTIC_NOTE,
            ],
          };
        }
        const decay = params.decay === "auto"
          ? defaultRadialDecay(scenario.modelType)
          : params.decay as number;
        const notes = [
          "Radial paper setting: the official static block mask (block 128, decay δ per model " +
          "type, frame-0 sink for wan); this record is one sparse layer — the official dense " +
          "steps/layers are the scenario's schedule (results.json wholeRun)",
          RADIAL_ANALYTIC_NOTE,
        ];
        if (params.decay === "auto") {
          notes.push(`decay ${decay}: default for model type ${scenario.modelType}`);
        }
        return {
          forms: [formOf(decay)],
          routingFlops: 0,
          params: { ...params, decay },
          notes,
        };
      },
      analyticFlops: radialAnalyticFlops,
    };
  },
};

/** One form a head for per-head `decays`, heads of equal decay sharing theirs. */
function headDecayForms(
  decays: string,
  heads: number,
  formOf: (decay: number) => ExecutionForm,
): ExecutionForm[] {
  const list = parseHeadDecays(decays);
  if (list.length !== heads) {
    throw new MethodSpecError(
      `radial: parameter "decays" must give one decay for each of the ${heads} heads ` +
        `(got ${list.length})`,
    );
  }
  const formsByDecay = new Map<number, ExecutionForm>();
  return list.map((decay) => {
    if (!formsByDecay.has(decay)) formsByDecay.set(decay, formOf(decay));
    return formsByDecay.get(decay)!;
  });
}

/** The execution form of a radial block grid over the scenario's joint sequence. */
export function radialForm(scenario: Scenario, grid: BlockGrid): ExecutionForm {
  const { bounds, videoSegment } = jointSegments(
    scenario,
    uniformBounds(videoTokens(scenario), grid.blockSize).subarray(1),
    grid.blockSize,
  );
  return formFromSegments(bounds, (q, k) => {
    const qb = videoSegment[q];
    const kb = videoSegment[k];
    return qb < 0 || kb < 0 || grid.bits[qb * grid.blocks + kb] === 1;
  }, { blockSize: grid.blockSize });
}

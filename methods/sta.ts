/**
 * Sliding Tile Attention (arXiv 2502.04507; FastVideo; the FlexAttention port in attention-gym
 * masks/sta.py), as docs/methods.md states it: video tokens grouped into 3D tiles and
 * reordered tile-major, each query tile attending a window of key tiles that border tiles shift
 * inward (never cut), video queries attending all text, text queries attending everything.
 *
 * @module
 */
import type { ExecutionForm } from "../form/form.ts";
import { formFromSegments, jointSegments } from "../form/mask_predicate.ts";
import {
  type Method,
  type MethodDefinition,
  MethodSpecError,
  type Params,
  UnsupportedScenarioError,
} from "./method.ts";
import { resolveParams } from "./spec.ts";
import { readMaskStrategy, strategyWindow } from "./sta_strategy.ts";
import { type Scenario, textTokens, totalTokens, videoTokens } from "../scenarios/scenario.ts";

/** Name of STA's token order. */
export const STA_PERMUTATION = "sta-tile-major";

/** A (t, h, w) triple: tile shape in latent units, or window in tiles. */
export type Triple = [number, number, number];

/** The tile grid of a canvas: tiles per axis and tokens per tile. */
export interface TileGrid {
  /** Tiles along t, h, w (Ft, Ht, Wt). */
  tiles: Triple;
  /** Tile shape (tt, th, tw). */
  tile: Triple;
  /** Tokens of one tile, tt·th·tw. */
  tileTokens: number;
}

/**
 * The tile grid of `latent` in tiles of `tile`; refuses a canvas that does not divide into whole
 * tiles (docs/methods.md: no silent padding).
 */
export function tileGrid(latent: Triple, tile: Triple): TileGrid {
  const rest = latent.map((n, axis) => n % tile[axis]);
  if (rest.some((r) => r !== 0)) {
    const axes = ["T", "H", "W"].filter((_, axis) => rest[axis] !== 0).join(", ");
    throw new UnsupportedScenarioError(
      `sta: latent ${latent.join("x")} does not divide into whole tiles of ${tile.join("x")} ` +
        `(${axes} not a multiple); use a scenario whose T, H, W are multiples of the tile, ` +
        `or sta:tile=TxHxW`,
    );
  }
  return {
    tiles: latent.map((n, axis) => n / tile[axis]) as Triple,
    tile,
    tileTokens: tile[0] * tile[1] * tile[2],
  };
}

/**
 * The tile-major order: `permutation[p]` is the frame-major video index at tile-major position p.
 * Tile id = (Tt·Ht + Th)·Wt + Tw; inside a tile, t-major, then h, then w.
 */
export function tileMajorOrder(latent: Triple, grid: TileGrid): Uint32Array {
  const [, H, W] = latent;
  const [tt, th, tw] = grid.tile;
  const [Ft, Ht, Wt] = grid.tiles;
  const order = new Uint32Array(latent[0] * H * W);
  let p = 0;
  for (let a = 0; a < Ft; a++) {
    for (let b = 0; b < Ht; b++) {
      for (let c = 0; c < Wt; c++) {
        for (let dt = 0; dt < tt; dt++) {
          for (let dh = 0; dh < th; dh++) {
            const rowStart = ((a * tt + dt) * H + b * th + dh) * W + c * tw;
            for (let dw = 0; dw < tw; dw++) order[p++] = rowStart + dw;
          }
        }
      }
    }
  }
  return order;
}

/**
 * The key-tile interval [lo, hi] along one axis for query coordinate `q`, window `k` and grid
 * size `n`: centre clamped into [left, n − 1 − right] (torch's clamp: the upper bound wins when a
 * window is wider than the grid, which then covers the whole axis).
 */
export function windowInterval(q: number, k: number, n: number): [number, number] {
  const left = Math.floor(k / 2);
  const right = Math.floor(k / 2) - (k % 2 === 0 ? 1 : 0);
  const centre = Math.min(Math.max(q, left), n - 1 - right);
  return [centre - left, centre + right];
}

/** Whether query tile `q` attends key tile `k` (tile ids) under `window`. */
export function tileAttends(grid: TileGrid, window: Triple, q: number, k: number): boolean {
  const [, Ht, Wt] = grid.tiles;
  const qc = [Math.floor(q / (Ht * Wt)), Math.floor(q / Wt) % Ht, q % Wt];
  const kc = [Math.floor(k / (Ht * Wt)), Math.floor(k / Wt) % Ht, k % Wt];
  for (let axis = 0; axis < 3; axis++) {
    const [lo, hi] = windowInterval(qc[axis], window[axis], grid.tiles[axis]);
    if (kc[axis] < lo || kc[axis] > hi) return false;
  }
  return true;
}

/**
 * STA's execution form for a scenario: tile-major permutation (text keeps its place), query tiles
 * = the video tiles and text chunks of one tile's size, key ranges = runs of consecutive attended
 * tiles merged, plus the text range.
 *
 * @example
 * ```ts
 * import { staForm } from "./sta.ts";
 * import { attendedPairs } from "../form/form.ts";
 * import { equal } from "node:assert/strict";
 * const scenario = {
 *   name: "two-by-two", latent: [12, 16, 16] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [12], textSegments: [0],
 *   heads: 1, headDim: 64, modelType: "hunyuan" as const,
 * };
 * // 2×2×2 tiles of 384 tokens; a 1×1×1 window: each tile attends itself.
 * equal(attendedPairs(staForm(scenario, [6, 8, 8], [1, 1, 1])), 8 * 384 * 384);
 * ```
 */
export function staForm(scenario: Scenario, tile: Triple, window: Triple): ExecutionForm {
  const grid = tileGrid(scenario.latent, tile);
  const video = videoTokens(scenario);
  const text = textTokens(scenario);
  const videoOffset = scenario.text.position === "prefix" ? text : 0;
  const permutation = new Uint32Array(totalTokens(scenario));
  const order = tileMajorOrder(scenario.latent, grid);
  const textOffset = videoOffset > 0 ? 0 : video;
  for (let p = textOffset; p < textOffset + text; p++) permutation[p] = p;
  for (let p = 0; p < video; p++) permutation[p + videoOffset] = order[p] + videoOffset;
  const tileCount = grid.tiles[0] * grid.tiles[1] * grid.tiles[2];
  const tileEnds = Array.from({ length: tileCount }, (_, id) => (id + 1) * grid.tileTokens);
  const { bounds, videoSegment } = jointSegments(scenario, tileEnds, grid.tileTokens);
  return formFromSegments(bounds, (q, k) => {
    const qt = videoSegment[q];
    const kt = videoSegment[k];
    return qt < 0 || kt < 0 || tileAttends(grid, window, qt, kt);
  }, { blockSize: grid.tileTokens, permutation, permutationName: STA_PERMUTATION });
}

const DEFAULTS: Params = { window: [3, 3, 3], tile: [6, 8, 8] };
/** Per-head settings; a record's params name them only when given. */
const PER_HEAD_DEFAULTS: Params = { windows: "", strategy: "", step: 0, layer: 0 };

function triple(params: Params, key: string): Triple {
  const value = params[key] as number[];
  if (value.length !== 3 || !value.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new MethodSpecError(
      `sta: parameter "${key}" must be three integers ≥ 1 as TxHxW (got ${value.join("x")})`,
    );
  }
  return value as Triple;
}

/** `3x3x3/1x6x10` → one window a head. */
function parseHeadWindows(text: string): Triple[] {
  return text.split("/").map((part) => {
    if (!/^\d+x\d+x\d+$/.test(part)) {
      throw new MethodSpecError(
        `sta: parameter "windows" must be one TxHxW window a head joined by "/" ` +
          `(e.g. 3x3x3/1x6x10; got "${text}")`,
      );
    }
    return triple({ windows: part.split("x").map(Number) }, "windows");
  });
}

/** How the windows are chosen: one for all heads, a list, or a strategy file's (step, layer). */
type WindowChoice =
  | { kind: "uniform"; window: Triple }
  | { kind: "per-head"; windows: (heads: number) => Triple[]; note: string };

function windowChoice(params: Params): WindowChoice {
  const { windows, strategy, step, layer } = params;
  if (windows !== "" && strategy !== "") {
    throw new MethodSpecError(`sta: give "windows" or "strategy", not both`);
  }
  if (strategy === "" && (step !== 0 || layer !== 0)) {
    throw new MethodSpecError(`sta: "step" and "layer" select a cell of "strategy"; give it too`);
  }
  for (const key of ["step", "layer"]) {
    const value = params[key] as number;
    if (!Number.isInteger(value) || value < 0) {
      throw new MethodSpecError(`sta: parameter "${key}" must be an integer ≥ 0 (got ${value})`);
    }
  }
  if (windows !== "") {
    const list = parseHeadWindows(windows as string);
    return {
      kind: "per-head",
      windows: (heads) => {
        if (list.length !== heads) {
          throw new MethodSpecError(
            `sta: parameter "windows" must give one window for each of the ${heads} heads ` +
              `(got ${list.length})`,
          );
        }
        return list;
      },
      note: `per-head windows ${windows}`,
    };
  }
  if (strategy !== "") {
    const file = readMaskStrategy(strategy as string);
    return {
      kind: "per-head",
      windows: (heads) =>
        Array.from(
          { length: heads },
          (_, head) => strategyWindow(file, step as number, layer as number, head),
        ),
      note: `per-head windows of step ${step}, layer ${layer} from mask-strategy file ${strategy}`,
    };
  }
  return { kind: "uniform", window: triple(params, "window") };
}

/** STA's own count for one head: each video query attends the window's tiles, plus text. */
function analyticHeadFlops(scenario: Scenario, tile: Triple, window: Triple): number {
  // A window wider than the grid covers the whole axis (docs/methods.md), so each axis is clamped.
  const grid = tileGrid(scenario.latent, tile);
  const video = videoTokens(scenario);
  const text = textTokens(scenario);
  const windowTiles = window.reduce((tiles, k, axis) => tiles * Math.min(k, grid.tiles[axis]), 1);
  const windowTokens = windowTiles * grid.tileTokens;
  const pairs = video * (windowTokens + text) + text * (video + text);
  return 4 * scenario.headDim * pairs;
}

/**
 * The STA method: parameters `window` (in tiles) and `tile` (in latent t, h, w); per head,
 * `windows` (`3x3x3/1x6x10`) or a FastVideo mask-strategy file (`strategy`, with the `step` and
 * `layer` whose windows run).
 */
/**
 * Windows a frontier sweep tries on `scenario` with tiles of `tile`, largest first: the whole tile
 * grid, the whole frame over three tile frames, then cubes of 5, 3 and 1 tiles (each clamped to
 * the grid). Empty when the canvas does not divide into whole tiles.
 */
export function staWindowGrid(scenario: Scenario, tile: Triple): Triple[] {
  let tiles: Triple;
  try {
    tiles = tileGrid(scenario.latent, tile).tiles;
  } catch (error) {
    if (error instanceof UnsupportedScenarioError) return [];
    throw error;
  }
  const [t, h, w] = tiles;
  const shapes: Triple[] = [[t, h, w], [3, h, w], [5, 5, 5], [3, 5, 5], [3, 3, 3], [1, 3, 3]];
  const windows = [...shapes, [1, 1, 1] as Triple]
    .map((window) => window.map((n, axis) => Math.min(n, tiles[axis])) as Triple);
  const seen = new Set<string>();
  return windows
    .filter((window) => !seen.has(window.join("x")) && seen.add(window.join("x")))
    .sort((a, b) => b[0] * b[1] * b[2] - a[0] * a[1] * a[2]);
}

/** The note of a record that runs one window for every head. */
export const UNIFORM_WINDOW_NOTE =
  "STA paper setting: tiles of 6x8x8 tokens and a 3D window of tiles; FastVideo searches a " +
  "window per (step, layer, head) after dense first steps — this record runs one window for " +
  "every head (sta:windows=… or sta:strategy=FILE for per-head windows; the scenario's schedule " +
  "gives the dense steps, results.json wholeRun)";

export const sta: MethodDefinition = {
  name: "sta",
  summary: "Sliding Tile Attention: 3D window of tiles, tile-major order (arXiv 2502.04507)",
  defaults: DEFAULTS,
  paramDocs: {
    window: "window in tiles TxHxW (e.g. 3x3x3, 3x6x10; the full window is the tile grid)",
    tile: "tile shape in latent frames x rows x columns (default 6x8x8 = 384 tokens)",
    windows: "one window a head, joined by / (e.g. 3x3x3/1x6x10); replaces window",
    strategy: 'FastVideo mask-strategy JSON ({"step_layer_head": [t, h, w]}); replaces window',
    step: "denoising step whose windows run, with strategy (default 0)",
    layer: "layer whose windows run, with strategy (default 0)",
  },
  knob: {
    param: "window",
    summary: "window in tiles TxHxW: smaller is sparser",
    grid: (scenario: Scenario) => staWindowGrid(scenario, DEFAULTS.tile as Triple),
    perHeadParam: "windows",
  },
  create(given: Params): Method {
    const resolved = resolveParams("sta", { ...DEFAULTS, ...PER_HEAD_DEFAULTS }, given);
    const choice = windowChoice(resolved);
    const tile = triple(resolved, "tile");
    // Per-head keys stay out of the params (and so the case key) unless they were given.
    const params: Params = Object.fromEntries(
      Object.entries(resolved).filter(([key]) => key in DEFAULTS || key in given),
    );
    if (choice.kind === "per-head") {
      if ("window" in given) {
        throw new MethodSpecError(`sta: give "window" or per-head "windows"/"strategy", not both`);
      }
      delete params.window;
    }
    return {
      name: "sta",
      params,
      dynamic: false,
      layout(scenario) {
        if (choice.kind === "uniform") {
          return {
            forms: [staForm(scenario, tile, choice.window)],
            routingFlops: 0,
            notes: [UNIFORM_WINDOW_NOTE],
          };
        }
        const windows = choice.windows(scenario.heads);
        return {
          forms: windows.map((window) => staForm(scenario, tile, window)),
          routingFlops: 0,
          stats: { windows: windows.map((w) => w.join("x")).join("/") },
          notes: [choice.note],
        };
      },
      analyticFlops(scenario) {
        if (choice.kind === "uniform") {
          return scenario.heads * analyticHeadFlops(scenario, tile, choice.window);
        }
        return choice.windows(scenario.heads)
          .reduce((sum, window) => sum + analyticHeadFlops(scenario, tile, window), 0);
      },
    };
  },
};

/**
 * The content plan of the structured synthetic inputs (docs/scenarios.md, "Q/K/V
 * inputs"), shared by every head: which subjects each shot shows, where each subject's blob sits
 * in every frame, and what each text token names. The per-head projections live in
 * `synthetic.ts`.
 *
 * Casting: one shot shows subjects 0, 1, 2. With n > 1 shots and m = ceil(n/2), shot k shows
 * subject k mod m (so subject j returns in shots j, j + m, …: the long-range memory MoC is
 * about) and subject m, the protagonist, who is in every shot.
 *
 * @module
 */
import { Prng } from "./prng.ts";
import { type Scenario, shotFrameBounds, textSegmentRanges } from "./scenario.ts";

/**
 * The {@link Prng} stream number of every draw of the synthetic inputs, in one table so that no two
 * draws share a stream: trajectories and text are head-independent (head −1), as are the basis
 * and the hidden states' noise; the maps and the Q/K/V noise are per head.
 */
export const SYNTHETIC_STREAMS = {
  trajectories: 1,
  text: 2,
  basis: 3,
  maps: 4,
  noiseQ: 5,
  noiseK: 6,
  noiseV: 7,
  noiseX: 8,
} as const;

/** Blob radius (Gaussian σ) as a share of the shorter latent side. */
const BLOB_RADIUS_SHARE = 0.15;
/** A blob's start lies in the middle share of the canvas on each axis. */
const BLOB_START_MARGIN = 0.15;
/** Largest travel of a blob over one shot, as a share of the canvas side. */
const BLOB_TRAVEL_SHARE = 0.3;
/** Share of prompt tokens that name a subject (the others are filler words). */
const NAMING_SHARE = 0.5;

/** The content plan of a scenario (see module doc). */
export interface SyntheticScene {
  /** Number of distinct subjects. */
  subjects: number;
  /** Subject ids shown in each shot (the shot's slots, in order). */
  shotSubjects: number[][];
  /** Slots a shot (subjects shown in every shot). */
  slots: number;
  /**
   * Blob weight along the rows: `rowWeights[(t·slots + slot)·H + h]` for latent frame t; a
   * video token's weight for a slot is `rowWeights[…h] · columnWeights[…w]`.
   */
  rowWeights: Float64Array;
  /** Blob weight along the columns: `columnWeights[(t·slots + slot)·W + w]`. */
  columnWeights: Float64Array;
  /** Shot of every text token (in sequence order), or −1 when its segment spans all shots. */
  textShot: Int32Array;
  /** Subject named by every text token, or −1 for a filler token. */
  textSubject: Int32Array;
}

/** Subjects of every shot under the casting rule of the module doc. */
export function castSubjects(shots: number): number[][] {
  if (shots === 1) return [[0, 1, 2]];
  const recurring = Math.ceil(shots / 2);
  return Array.from({ length: shots }, (_, k) => [k % recurring, recurring]);
}

function gaussianTable(length: number, centre: number, radius: number): Float64Array {
  const table = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const distance = (i - centre) / radius;
    table[i] = Math.exp(-0.5 * distance * distance);
  }
  return table;
}

/** The content plan of `scenario` for `seed`. Head-independent; cheap (tables of T·(H + W)). */
export function planSyntheticScene(scenario: Scenario, seed: number): SyntheticScene {
  const [frames, rows, columns] = scenario.latent;
  const shotSubjects = castSubjects(scenario.shots.length);
  const subjects = Math.max(...shotSubjects.flat()) + 1;
  const slots = shotSubjects[0].length;
  const radius = Math.max(0.75, BLOB_RADIUS_SHARE * Math.min(rows, columns));
  const rowWeights = new Float64Array(frames * slots * rows);
  const columnWeights = new Float64Array(frames * slots * columns);
  const bounds = shotFrameBounds(scenario);
  const random = new Prng(seed, -1, SYNTHETIC_STREAMS.trajectories);
  const place = (side: number) =>
    (BLOB_START_MARGIN + (1 - 2 * BLOB_START_MARGIN) * random.uniform()) * (side - 1);
  const travel = (side: number, start: number) =>
    Math.min(side - 1, Math.max(0, start + random.between(-1, 1) * BLOB_TRAVEL_SHARE * side));
  for (let shot = 0; shot < scenario.shots.length; shot++) {
    for (let slot = 0; slot < slots; slot++) {
      const startRow = place(rows);
      const startColumn = place(columns);
      const endRow = travel(rows, startRow);
      const endColumn = travel(columns, startColumn);
      const length = bounds[shot + 1] - bounds[shot];
      for (let t = bounds[shot]; t < bounds[shot + 1]; t++) {
        const progress = length > 1 ? (t - bounds[shot]) / (length - 1) : 0;
        const row = startRow + (endRow - startRow) * progress;
        const column = startColumn + (endColumn - startColumn) * progress;
        rowWeights.set(gaussianTable(rows, row, radius), (t * slots + slot) * rows);
        columnWeights.set(gaussianTable(columns, column, radius), (t * slots + slot) * columns);
      }
    }
  }
  const ranges = textSegmentRanges(scenario);
  const textCount = ranges.reduce((n, [start, end]) => n + end - start, 0);
  const textShot = new Int32Array(textCount);
  const textSubject = new Int32Array(textCount);
  const perShot = ranges.length === scenario.shots.length;
  const naming = new Prng(seed, -1, SYNTHETIC_STREAMS.text);
  let token = 0;
  ranges.forEach(([start, end], segment) => {
    const named = perShot ? shotSubjects[segment] : [...new Set(shotSubjects.flat())];
    for (let i = start; i < end; i++, token++) {
      textShot[token] = perShot ? segment : -1;
      const choice = naming.uniform();
      textSubject[token] = choice < NAMING_SHARE
        ? named[Math.floor((choice / NAMING_SHARE) * named.length)]
        : -1;
    }
  });
  return { subjects, shotSubjects, slots, rowWeights, columnWeights, textShot, textSubject };
}

/** The blob weight of `slot` at latent (t, h, w) — the plan's weight of that token's subject. */
export function subjectWeight(
  scene: SyntheticScene,
  scenario: Scenario,
  slot: number,
  position: [number, number, number],
): number {
  const [, rows, columns] = scenario.latent;
  const [t, h, w] = position;
  const cell = t * scene.slots + slot;
  return scene.rowWeights[cell * rows + h] * scene.columnWeights[cell * columns + w];
}

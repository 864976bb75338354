/**
 * The two fixed branches of MoGA as published (arXiv 2510.18692; docs/methods.md, "Mixture-of-Groups
 * Attention"), each its own execution form whose output is averaged with the group branch's:
 *
 * - spatial-temporal groups: the frame is cut into a fixed grid of spatial partitions; a video
 *   query attends the keys of its own partition in every frame of its own shot and in the
 *   `adjacent` frames on either side of the shot (frames of the neighbouring shots);
 * - per-frame attention: a video query attends every key of its own frame.
 *
 * Video queries attend the text keys too when `textKeys` is set (joint MMDiT attention); text
 * queries attend every key in both forms (they are not part of MoGA's visual blocks).
 *
 * @module
 */
import {
  type Scenario,
  shotFrameBounds,
  textStart,
  textTokens,
  tokensPerFrame,
  totalTokens,
  videoStart,
} from "../scenarios/scenario.ts";
import { type ExecutionForm, FormBuilder } from "../form/form.ts";

/** Largest query tile (rows) of both forms. */
export const BRANCH_TILE_ROWS = 128;

/** Name of the spatial-temporal branch's token order. */
export const SPATIAL_TEMPORAL_PERMUTATION_NAME = "moga-partition-major";

/** What both branch forms need besides the scenario. */
export interface BranchOptions {
  /** Video queries also attend every text key. */
  textKeys: boolean;
  /** Reporting block size. */
  blockSize: number;
}

/** The spatial-temporal branch's grid and temporal reach. */
export interface SpatialTemporalOptions extends BranchOptions {
  /** Spatial partitions [rows, columns] of the frame's H × W latent grid. */
  partitions: [number, number];
  /** Frames of the neighbouring shots a shot's temporal group reaches on each side. */
  adjacent: number;
}

/** The spatial partition of latent cell (h, w): row-major over the `partitions` grid. */
export function spatialPartitionOf(
  scenario: Scenario,
  cell: { h: number; w: number },
  partitions: [number, number],
): number {
  const [, H, W] = scenario.latent;
  const row = Math.floor(cell.h * partitions[0] / H);
  const column = Math.floor(cell.w * partitions[1] / W);
  return row * partitions[1] + column;
}

/** Adds the text tiles: every text query attends the whole sequence. */
function addTextTiles(builder: FormBuilder, first: number, count: number, tokens: number): void {
  for (let t0 = first; t0 < first + count; t0 += BRANCH_TILE_ROWS) {
    builder.range(0, tokens).endTile(Math.min(first + count, t0 + BRANCH_TILE_ROWS));
  }
}

/** Adds tiles over queries [q0, q1) that each attend `ranges` (ascending, disjoint). */
function addTiles(builder: FormBuilder, queries: [number, number], ranges: [number, number][]) {
  for (let t0 = queries[0]; t0 < queries[1]; t0 += BRANCH_TILE_ROWS) {
    for (const [start, end] of ranges) builder.range(start, end);
    builder.endTile(Math.min(queries[1], t0 + BRANCH_TILE_ROWS));
  }
}

/** Per-frame attention in the original order (see module doc). */
export function frameForm(scenario: Scenario, options: BranchOptions): ExecutionForm {
  const L = totalTokens(scenario);
  const P = tokensPerFrame(scenario);
  const v0 = videoStart(scenario);
  const text: [number, number] = [textStart(scenario), textStart(scenario) + textTokens(scenario)];
  const textRanges: [number, number][] = options.textKeys && text[1] > text[0] ? [text] : [];
  const builder = new FormBuilder(L, options.blockSize);
  if (v0 > 0) addTextTiles(builder, 0, v0, L);
  for (let t = 0; t < scenario.latent[0]; t++) {
    const frame: [number, number] = [v0 + t * P, v0 + (t + 1) * P];
    const ranges = [frame, ...textRanges].sort((a, b) => a[0] - b[0]);
    addTiles(builder, frame, ranges);
  }
  if (v0 === 0 && text[1] > text[0]) addTextTiles(builder, text[0], text[1] - text[0], L);
  return builder.build();
}

/**
 * The spatial-temporal branch (see module doc) in partition-major order: partition, then frame,
 * then the partition's cells row-major, text last; a temporal group's keys are then one
 * contiguous range.
 */
export function spatialTemporalForm(
  scenario: Scenario,
  options: SpatialTemporalOptions,
): ExecutionForm {
  const [T, H, W] = scenario.latent;
  const { partitions, adjacent } = options;
  const parts = partitions[0] * partitions[1];
  const L = totalTokens(scenario);
  const v0 = videoStart(scenario);
  const cellsOf: number[][] = Array.from({ length: parts }, () => []);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      cellsOf[spatialPartitionOf(scenario, { h, w }, partitions)].push(h * W + w);
    }
  }
  const permutation = new Uint32Array(L);
  const frameStart: number[][] = [];
  let p = 0;
  for (let s = 0; s < parts; s++) {
    frameStart.push([]);
    for (let t = 0; t < T; t++) {
      frameStart[s].push(p);
      for (const cell of cellsOf[s]) permutation[p++] = v0 + t * H * W + cell;
    }
    frameStart[s].push(p);
  }
  const N = p;
  const textFirst = textStart(scenario);
  for (let i = 0; i < L - N; i++) permutation[p++] = textFirst + i;
  const textRanges: [number, number][] = options.textKeys && L > N ? [[N, L]] : [];
  const bounds = shotFrameBounds(scenario);
  const builder = new FormBuilder(L, options.blockSize);
  for (let s = 0; s < parts; s++) {
    if (cellsOf[s].length === 0) continue;
    for (let shot = 0; shot + 1 < bounds.length; shot++) {
      const [a, b] = [bounds[shot], bounds[shot + 1]];
      const keys: [number, number] = [
        frameStart[s][Math.max(0, a - adjacent)],
        frameStart[s][Math.min(T, b + adjacent)],
      ];
      addTiles(builder, [frameStart[s][a], frameStart[s][b]], [keys, ...textRanges]);
    }
  }
  if (L > N) addTextTiles(builder, N, L - N, L);
  return builder.build(permutation, SPATIAL_TEMPORAL_PERMUTATION_NAME);
}

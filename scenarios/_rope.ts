/**
 * 3D rotary position embedding as in HunyuanVideo (rope_theta = 256, head dim split t/h/w =
 * 16/56/56 of 128): tables built once with Math.cos/sin, rotations with + − × only.
 *
 * @module
 */

/** Rotary base of HunyuanVideo's 3D RoPE. */
export const ROPE_THETA = 256;

/** cos and sin of position·θ_j, row-major [position][pair]. */
export interface RopeTables {
  /** Number of rotary pairs of the axis. */
  pairs: number;
  /** cos(position·θ_j). */
  cos: Float64Array;
  /** sin(position·θ_j). */
  sin: Float64Array;
}

/** The split of the head dim between the t, h and w axes (each even): 16/56/56 of 128. */
export function ropeSplit(headDim: number): [number, number, number] {
  const temporal = 2 * Math.floor(headDim / 16);
  const spatial = (headDim - temporal) / 2;
  return [temporal, spatial, spatial];
}

/** Tables for positions 0…length−1 of an axis of `dims` channels, θ_j = θ^(−2j/dims). */
export function ropeTables(length: number, dims: number): RopeTables {
  const pairs = dims / 2;
  const cos = new Float64Array(length * pairs);
  const sin = new Float64Array(length * pairs);
  for (let j = 0; j < pairs; j++) {
    const frequency = Math.pow(ROPE_THETA, (-2 * j) / dims);
    for (let p = 0; p < length; p++) {
      cos[p * pairs + j] = Math.cos(p * frequency);
      sin[p * pairs + j] = Math.sin(p * frequency);
    }
  }
  return { pairs, cos, sin };
}

/** Rotates the channel pairs (2j, 2j + 1) of `row` from `offset` by the table row of `position`. */
export function rotatePairs(
  row: Float64Array,
  offset: number,
  tables: RopeTables,
  position: number,
): void {
  const base = position * tables.pairs;
  for (let j = 0; j < tables.pairs; j++) {
    const c = offset + 2 * j;
    const x0 = row[c];
    const x1 = row[c + 1];
    const cos = tables.cos[base + j];
    const sin = tables.sin[base + j];
    row[c] = x0 * cos - x1 * sin;
    row[c + 1] = x0 * sin + x1 * cos;
  }
}

/**
 * Per-channel gains that move energy to the slowly rotating pairs of every axis (gain² of pair j
 * of P = 2(j + 1)/(P + 1), mean 1): features carried there survive large distances.
 */
export function slowPairGains(split: [number, number, number]): Float64Array {
  const gains = new Float64Array(split[0] + split[1] + split[2]);
  let offset = 0;
  for (const dims of split) {
    const pairs = dims / 2;
    for (let j = 0; j < pairs; j++) {
      const gain = (j + 1) * Math.sqrt(6 / ((pairs + 1) * (2 * pairs + 1)));
      gains[offset + 2 * j] = gain;
      gains[offset + 2 * j + 1] = gain;
    }
    offset += dims;
  }
  return gains;
}

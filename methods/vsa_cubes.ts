/**
 * VSA's cubes (arXiv 2505.13389; FastVideo's `get_tile_partition_indices` and
 * `construct_variable_block_sizes`): the latent video cut into cubes of `cube` = (t, h, w) latent
 * tokens, cube-major (t-cube, then h-cube, then w-cube; inside a cube t, then h, then w). Cubes at
 * the far edge of an axis that does not divide are partial, so cubes have variable sizes.
 *
 * @module
 */
import {
  type Scenario,
  textTokens,
  totalTokens,
  videoStart,
  videoTokens,
} from "../scenarios/scenario.ts";
import type { TokenPooling } from "../form/pooling.ts";

/** Name of VSA's token order. */
export const VSA_PERMUTATION = "vsa-cube-major";

/** A (t, h, w) triple of latent tokens. */
export type CubeShape = [number, number, number];

/** The cube structure of a scenario in VSA's cube-major order. */
export interface VsaCubes {
  /** Sequence length L. */
  tokens: number;
  /** Number of cubes C. */
  cubes: number;
  /** `permutation[p]`: the original token at position p (text keeps its place). */
  permutation: Uint32Array;
  /** Cube c holds positions [cubeStart[c], cubeStart[c + 1]) of the permuted sequence (C + 1). */
  cubeStart: Uint32Array;
  /** Text positions [start, end) of the permuted sequence (empty without text). */
  text: [number, number];
}

/** Cubes along each axis: ceil(latent / cube). */
export function cubeGridOf(latent: CubeShape, cube: CubeShape): CubeShape {
  return latent.map((n, axis) => Math.ceil(n / cube[axis])) as CubeShape;
}

/** The cubes of `scenario` (see module doc). */
export function vsaCubes(scenario: Scenario, cube: CubeShape): VsaCubes {
  const [T, H, W] = scenario.latent;
  const [nt, nh, nw] = cubeGridOf(scenario.latent, cube);
  const L = totalTokens(scenario);
  const v0 = videoStart(scenario);
  const permutation = new Uint32Array(L);
  const textStartPos = v0 > 0 ? 0 : videoTokens(scenario);
  for (let i = 0; i < textTokens(scenario); i++) {
    permutation[textStartPos + i] = textStartPos + i;
  }
  const cubeStart = new Uint32Array(nt * nh * nw + 1);
  let p = v0;
  let c = 0;
  for (let a = 0; a < nt; a++) {
    for (let b = 0; b < nh; b++) {
      for (let e = 0; e < nw; e++) {
        cubeStart[c++] = p;
        for (let t = a * cube[0]; t < Math.min(T, (a + 1) * cube[0]); t++) {
          for (let h = b * cube[1]; h < Math.min(H, (b + 1) * cube[1]); h++) {
            for (let w = e * cube[2]; w < Math.min(W, (e + 1) * cube[2]); w++) {
              permutation[p++] = v0 + (t * H + h) * W + w;
            }
          }
        }
      }
    }
  }
  cubeStart[c] = p;
  const text = textTokens(scenario);
  return {
    tokens: L,
    cubes: c,
    permutation,
    cubeStart,
    text: [textStartPos, textStartPos + text],
  };
}

/** The pooling of the coarse branch: cube c = the original tokens of its positions. */
export function cubePooling(cubes: VsaCubes): TokenPooling {
  const first = cubes.cubeStart[0];
  const offsets = cubes.cubeStart.map((start) => start - first);
  const members = cubes.permutation.slice(first, cubes.cubeStart[cubes.cubes]);
  return { offsets, members };
}

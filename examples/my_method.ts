/**
 * An example user method for `--methods ./examples/my_method.ts`: a temporal window. A video query
 * attends the video keys of latent frames within ±`FRAME_WINDOW` of its own frame, and all text;
 * a text query attends everything. Longshot compiles the predicate to its execution form (full
 * blocks as plain ranges, partial blocks with exact token bits), as FlexAttention does with a
 * `mask_mod`.
 *
 * @module
 */
import { frameOfToken, type Scenario } from "../scenarios/scenario.ts";

/** How many latent frames either side a video query sees. */
const FRAME_WINDOW = 1;

/** Block size the predicate is compiled at (and block sparsity is reported at). */
export const blockSize = 128;

/**
 * True when query `q` attends key `k` (indices of the joint sequence, original order).
 *
 * @example
 * ```ts
 * import { mask } from "./my_method.ts";
 * import { equal } from "node:assert/strict";
 * const scenario = {
 *   name: "tiny", latent: [4, 2, 2] as [number, number, number],
 *   text: { tokens: 2, position: "suffix" as const }, shots: [4], textSegments: [2],
 *   heads: 1, headDim: 64, modelType: "hunyuan" as const,
 * };
 * equal(mask(0, 4, scenario), true); // frame 0 → frame 1
 * equal(mask(0, 8, scenario), false); // frame 0 → frame 2
 * equal(mask(0, 16, scenario), true); // video → text
 * ```
 */
export function mask(q: number, k: number, scenario: Scenario): boolean {
  const queryFrame = frameOfToken(scenario, q);
  const keyFrame = frameOfToken(scenario, k);
  if (queryFrame < 0 || keyFrame < 0) return true;
  return Math.abs(queryFrame - keyFrame) <= FRAME_WINDOW;
}

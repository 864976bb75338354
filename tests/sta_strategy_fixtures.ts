/**
 * A hand-made FastVideo mask-strategy file and the two-tile scenario it is written for, shared by
 * the STA strategy tests (methods/sta_strategy_test.ts) and the runner's per-head run
 * (bench/sta_strategy_run_test.ts).
 *
 * @module
 */
import type { Scenario } from "../scenarios/scenario.ts";

/** Two tiles of 6×8×8 = 384 tokens side by side along W, no text, 2 heads of d = 64. */
export const TWO_TILES: Scenario = {
  name: "two-tiles",
  latent: [6, 8, 16],
  text: { tokens: 0, position: "none" },
  shots: [6],
  textSegments: [],
  heads: 2,
  headDim: 64,
  modelType: "hunyuan",
};

/** Step 1, layer 0 gives head 0 its own tile, head 1 both tiles; step 0 both tiles to each. */
const HAND_MADE = {
  "1_0_0": [1, 1, 1],
  "1_0_1": [1, 1, 2],
  "0_0_0": [1, 1, 2],
  "0_0_1": [1, 1, 2],
};

/** Writes the hand-made mask-strategy file to a temporary file and returns its path. */
export async function handMadeStrategyFile(): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(HAND_MADE));
  return path;
}

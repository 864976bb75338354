/**
 * Times the CPU cost of the cross-shot recall at a preset's size (docs/frontier.md): the sampled
 * dense softmax rows of one head (`crossShotRows`, computed once a scenario and head) and the
 * scoring of one form on them (`crossShotKept`, once a point), on deterministic synthetic Q/K.
 *
 * Usage: `deno run -A tools/cross_shot_cost.ts [PRESET] [SIZE]` (default moc-multi-shot full).
 *
 * @module
 */
import { preset } from "../scenarios/presets.ts";
import { totalTokens } from "../scenarios/scenario.ts";
import { crossShotKept, crossShotRows } from "../metrics/quality.ts";
import { denseForm } from "../form/form.ts";

const scenario = preset(Deno.args[0] ?? "moc-multi-shot", Deno.args[1] === "ci" ? "ci" : "full");
const tokens = totalTokens(scenario);
const d = scenario.headDim;
const q = Float32Array.from({ length: tokens * d }, (_, i) => Math.sin(i * 0.37));
const k = Float32Array.from({ length: tokens * d }, (_, i) => Math.cos(i * 0.11));
let start = performance.now();
const rows = crossShotRows(scenario, { q, k }, { samples: 128, seed: 1 });
const rowsMs = performance.now() - start;
start = performance.now();
crossShotKept(rows, denseForm(tokens));
const keptMs = performance.now() - start;
console.log(
  `${scenario.name}, L ${tokens}, 128 sampled queries: rows ${rowsMs.toFixed(0)} ms once a ` +
    `head, kept ${keptMs.toFixed(0)} ms a point`,
);

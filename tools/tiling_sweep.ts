/**
 * Measures dense attention for several kernel tilings on this adapter, one head: the experiment
 * behind kernels/attention.ts `defaultTiling`. Run it on a new GPU before changing the defaults:
 * `deno run -A tools/tiling_sweep.ts --tokens 32768 --head-dims 64,128`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runCommand } from "../cli/_usage.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import { uploadHead } from "../gpu/upload_qkv.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import type { AttentionTiling } from "../kernels/attention_work.ts";
import { denseForm } from "../methods/form.ts";
import { preset } from "../scenarios/presets.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";

const TILINGS: AttentionTiling[] = [
  { blockQ: 128, blockK: 16 },
  { blockQ: 64, blockK: 16 },
  { blockQ: 128, blockK: 8 },
  { blockQ: 256, blockK: 8 },
  { blockQ: 64, blockK: 32 },
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      tokens: { type: "string", default: "32768" },
      "head-dims": { type: "string", default: "64,128" },
      repeats: { type: "string", default: "5" },
    },
  });
  const tokens = Number(values.tokens);
  const runtime = await GpuRuntime.open();
  console.log(`${runtime.facts.description} (fallback: ${runtime.facts.fallback}), L = ${tokens}`);
  for (const headDim of values["head-dims"].split(",").map(Number)) {
    // Structured inputs of the right size: a wan-like canvas cut to `tokens` rows.
    const scenario = { ...preset("wan-69f-768x1280", "full"), heads: 1, headDim };
    const head = await syntheticInputs(scenario, { seed: 1 }).head(0);
    const rows = (t: Float32Array) => t.subarray(0, tokens * headDim);
    const buffers = uploadHead(
      runtime,
      { q: rows(head.q), k: rows(head.k), v: rows(head.v) },
      "f32",
      0,
    );
    for (const tiling of TILINGS) {
      const program = await AttentionProgram.create(runtime, [denseForm(tokens)], {
        precision: "f32",
        q: [buffers.q],
        k: [buffers.k],
        v: [buffers.v],
      }, { tiling });
      const timing = await timeComputePass(runtime, (pass) => program.encode(pass), {
        warmup: 1,
        repeats: Number(values.repeats),
      });
      const { median } = summarizeSamples(timing.samples);
      const tflops = 4 * tokens * tokens * headDim / (median * 1e-3) / 1e12;
      console.log(
        `d=${headDim} ${tiling.blockQ}×${tiling.blockK}: ${median.toFixed(2)} ms, ${
          tflops.toFixed(2)
        } TFLOP/s (${timing.timer})`,
      );
      program.release();
    }
    runtime.release([buffers.q, buffers.k, buffers.v]);
  }
  return 0;
}

if (import.meta.main) await runCommand("tiling_sweep", main);

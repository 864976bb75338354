/**
 * Measures dense attention for every candidate kernel tiling on this adapter (the tuner's
 * candidates, kernels/attention_tuner.ts, or `--tilings`), after checking each one against the
 * float64 reference at a size that is not a tile multiple; prints a table and can write it as
 * JSON. The experiment behind the tuner and docs/results/<adapter>/kernel-v4.md:
 * `deno run -A tools/tiling_sweep.ts --tokens 32768 --heads 8 --head-dims 64,128 --math f32,f16`.
 *
 * @module
 */
import { parseCommandLine, runCommand } from "../cli/_usage.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import { summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import {
  type AttentionTiling,
  f16ScoreChunkFor,
  type KernelMath,
  parseTiling,
  tilingName,
} from "../kernels/attention_tiling.ts";
import { tuningCandidates } from "../kernels/attention_tuner.ts";
import { referenceAttention } from "../kernels/reference.ts";
import { denseForm } from "../form/form.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";

/** Tokens of the correctness check (not a multiple of any tile). */
const CHECK_TOKENS = 1000;

/** One measured tiling. */
interface SweepRow {
  headDim: number;
  math: KernelMath;
  /** f16 math: dims summed in f16 before a score is flushed to f32. */
  f16ScoreChunk: number | null;
  tiling: string;
  maxError: number | null;
  ms: number | null;
  tflops: number | null;
  compileMs: number | null;
  error?: string;
}

function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 * 2 - 1;
  });
}

function upload(runtime: GpuRuntime, values: Float32Array, math: KernelMath): GPUBuffer {
  return runtime.upload("sweep", math === "f16" ? Float16Array.from(values) : values);
}

/** Q, K, V of `heads` heads (distinct buffers, so caches see the real footprint). */
function inputsOf(
  runtime: GpuRuntime,
  shape: { tokens: number; headDim: number; heads: number },
  math: KernelMath,
): { gpu: GpuQkv; cpu: Float32Array[] } {
  const cpu = [1, 2, 3].map((seed) => randomValues(shape.tokens * shape.headDim, seed));
  cpu[0] = cpu[0].map((x) => 3 * x);
  const gpu: GpuQkv = { precision: math === "f16" ? "f16" : "f32", q: [], k: [], v: [] };
  for (let h = 0; h < shape.heads; h++) {
    gpu.q.push(upload(runtime, cpu[0], math));
    gpu.k.push(upload(runtime, cpu[1], math));
    gpu.v.push(upload(runtime, cpu[2], math));
  }
  return { gpu, cpu };
}

function release(runtime: GpuRuntime, gpu: GpuQkv): void {
  runtime.release([...gpu.q, ...gpu.k, ...gpu.v]);
}

async function checkTiling(
  runtime: GpuRuntime,
  small: { gpu: GpuQkv; reference: Float64Array },
  kernel: { math: KernelMath; tiling: AttentionTiling; f16ScoreChunk: number },
): Promise<number> {
  const program = await AttentionProgram.create(
    runtime,
    [denseForm(CHECK_TOKENS)],
    small.gpu,
    kernel,
  );
  submitComputePass(runtime, (pass) => program.encode(pass));
  const out = new Float32Array(await runtime.read(program.outputs.out[0]));
  program.release();
  let max = 0;
  for (let i = 0; i < out.length; i++) {
    const e = Math.abs(out[i] - small.reference[i]);
    max = Number.isNaN(e) ? Infinity : Math.max(max, e);
  }
  return max;
}

const USAGE = `usage: deno run -A tools/tiling_sweep.ts [options]

--tokens N          sequence length L of the timed runs (default 32768)
--heads N           heads of the timed runs (default 8)
--head-dims D[,…]   head dims to sweep (default 64,128)
--math f32[,f16]    kernel arithmetic to sweep; f16 needs shader-f16 (default f32)
--tilings NAME[,…]  tilings to try, e.g. rows128x16,64x32.s4x4.o8x8 (default: the tuner's)
--f16-chunks N[,…]  f16 math: dims summed in f16 before a score's flush to f32 (default: the
                    kernel's, f16ScoreChunkFor in kernels/attention_tiling.ts)
--repeats N         timed runs per tiling (default 3)
--out FILE          also write the table as JSON`;

async function main(): Promise<number> {
  const { values } = parseCommandLine({
    args: Deno.args,
    options: {
      help: { type: "boolean", short: "h" },
      tokens: { type: "string", default: "32768" },
      heads: { type: "string", default: "8" },
      "head-dims": { type: "string", default: "64,128" },
      math: { type: "string", default: "f32" },
      tilings: { type: "string" },
      "f16-chunks": { type: "string" },
      repeats: { type: "string", default: "3" },
      out: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const tokens = Number(values.tokens);
  const heads = Number(values.heads);
  const runtime = await GpuRuntime.open();
  const limits = runtime.device.limits;
  console.log(
    `${runtime.facts.description} (${runtime.facts.backend}, fallback: ${runtime.facts.fallback}), ` +
      `workgroup memory ${limits.maxComputeWorkgroupStorageSize} B, ` +
      `${limits.maxComputeInvocationsPerWorkgroup} threads; L = ${tokens}, ${heads} heads`,
  );
  const device = runtime.device as GPUDevice & { adapterInfo?: GPUAdapterInfo };
  console.log(JSON.stringify(device.adapterInfo ?? {}));
  const rows: SweepRow[] = [];
  for (const headDim of values["head-dims"].split(",").map(Number)) {
    for (const math of values.math.split(",") as KernelMath[]) {
      if (math === "f16" && !runtime.facts.shaderF16) continue;
      const tilings = values.tilings
        ? values.tilings.split(",").map(parseTiling)
        : tuningCandidates(runtime, { headDim, math });
      const small = inputsOf(runtime, { tokens: CHECK_TOKENS, headDim, heads: 1 }, math);
      const rounded = math === "f16"
        ? small.cpu.map((t) => Float32Array.from(Float16Array.from(t)))
        : small.cpu;
      const reference = referenceAttention(
        { q: rounded[0], k: rounded[1], v: rounded[2] },
        { tokens: CHECK_TOKENS, headDim },
      ).out;
      const big = inputsOf(runtime, { tokens, headDim, heads }, math);
      const chunks = math === "f16" && values["f16-chunks"]
        ? values["f16-chunks"].split(",").map(Number)
        : [f16ScoreChunkFor(headDim)];
      const kernels = tilings.flatMap((tiling) =>
        chunks.map((f16ScoreChunk) => ({ math, tiling, f16ScoreChunk }))
      );
      for (const kernel of kernels) {
        const { tiling, f16ScoreChunk } = kernel;
        const row: SweepRow = {
          headDim,
          math,
          f16ScoreChunk: math === "f16" ? f16ScoreChunk : null,
          tiling: tilingName(tiling),
          maxError: null,
          ms: null,
          tflops: null,
          compileMs: null,
        };
        try {
          row.maxError = await checkTiling(runtime, { gpu: small.gpu, reference }, kernel);
          const program = await AttentionProgram.create(
            runtime,
            [denseForm(tokens)],
            big.gpu,
            kernel,
          );
          row.compileMs = program.compileMs;
          const timing = await timeComputePass(runtime, (pass) => program.encode(pass), {
            warmup: 1,
            repeats: Number(values.repeats),
          });
          program.release();
          row.ms = summarizeSamples(timing.samples).median;
          row.tflops = 4 * tokens * tokens * headDim * heads / (row.ms * 1e-3) / 1e12;
        } catch (error) {
          row.error = (error as Error).message.slice(0, 200);
        }
        rows.push(row);
        console.log(
          `d=${headDim} ${math}${row.f16ScoreChunk ? `/${row.f16ScoreChunk}` : ""} ${
            row.tiling.padEnd(22)
          } err ${row.maxError?.toExponential(1)} ` +
            `${row.ms?.toFixed(2)} ms ${row.tflops?.toFixed(2)} TFLOP/s${
              row.error ? " " + row.error : ""
            }`,
        );
      }
      release(runtime, small.gpu);
      release(runtime, big.gpu);
    }
  }
  console.log("\nbest per head dim and math:");
  for (const key of new Set(rows.map((r) => `${r.headDim} ${r.math}`))) {
    const best = rows.filter((r) => `${r.headDim} ${r.math}` === key && r.tflops !== null)
      .sort((a, b) => b.tflops! - a.tflops!)[0];
    if (best) {
      console.log(
        `d=${best.headDim} ${best.math}: ${best.tiling} ${best.tflops!.toFixed(2)} TFLOP/s`,
      );
    }
  }
  if (values.out) {
    await Deno.writeTextFile(
      values.out,
      JSON.stringify({ adapter: runtime.facts, tokens, heads, rows }, null, 2) + "\n",
    );
  }
  return 0;
}

if (import.meta.main) await runCommand("tiling_sweep", main);

import { match, rejects, strictEqual } from "node:assert/strict";
import { loadFileInputs } from "../scenarios/file_inputs.ts";
import { qkvValue, roundToDtype } from "../tools/make_qkv_files.ts";
import { type CliRun, runCli } from "./_cli.ts";

const SCRIPT = new URL("../tools/make_qkv_files.ts", import.meta.url).pathname;

function runScript(args: string[]): Promise<CliRun> {
  return runCli(SCRIPT, args);
}

Deno.test("make_qkv_files writes files that loadFileInputs reads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["--latent", "2x2x3", "--text", "4", "--heads", "2", "--dtype", "f16"];
    const { code, stdout } = await runScript([
      ...args,
      "--layout",
      "nhd",
      "--seed",
      "7",
      "--out",
      dir,
    ]);
    strictEqual(code, 0);
    strictEqual(stdout.trim(), `wrote ${dir}/qkv.safetensors (16 tokens) and ${dir}/qkv.json`);
    const { scenario, inputs } = await loadFileInputs(`${dir}/qkv.safetensors`);
    strictEqual(scenario.name, "generated-seed7");
    strictEqual(inputs.layout, "nhd");
    const { v } = await inputs.head(1);
    strictEqual(
      v[15 * 64 + 9],
      roundToDtype(qkvValue(7, { tensor: "v", head: 1, token: 15, dim: 9 }), "f16"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("make_qkv_files names a bad option, exits 2 and writes nothing", async () => {
  const out = `${await Deno.makeTempDir()}/never`;
  const { code, stderr } = await runScript(["--dtype", "f64", "--out", out]);
  strictEqual(code, 2);
  match(stderr, /^make_qkv_files: --dtype must be one of f32, f16, bf16 \(got f64\)$/m);
  const npyBf16 = await runScript(["--format", "npy", "--dtype", "bf16", "--out", out]);
  strictEqual(npyBf16.code, 2);
  match(npyBf16.stderr, /dtype bf16 has no npy descr \(allowed: f32, f16; use safetensors\)/);
  await rejects(Deno.stat(out), Deno.errors.NotFound);
  await Deno.remove(out.slice(0, -"/never".length));
});

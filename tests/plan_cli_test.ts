import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import type { LayoutFile, PlanFile } from "../plan/plan.ts";
import { type CliRun, runCli } from "./_cli.ts";

const root = new URL("..", import.meta.url).pathname;

function plan(args: string[]): Promise<CliRun> {
  return runCli("cli/plan.ts", args, { cwd: root });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("plan end to end: plan.json, layout files and mask pictures of a ci scenario", async () => {
  const out = join(await Deno.makeTempDir(), "plan");
  try {
    const { code, stdout, stderr } = await plan([
      "--scenario",
      "hunyuan-117f-768x1280",
      "--size",
      "ci",
      "--methods",
      "dense,radial:block=64,sta:window=1x1x1",
      "--out",
      out,
    ]);
    equal(code, 0, stderr);
    match(stdout, /radial/);
    const planFile = JSON.parse(await Deno.readTextFile(join(out, "plan.json"))) as PlanFile;
    deepEqual(planFile.cases.map((c) => c.method), ["dense", "radial", "sta"]);
    for (const c of planFile.cases) {
      equal(c.error, undefined);
      ok(c.tokenSparsity !== null && c.tokenSparsity >= 0 && c.tokenSparsity < 1);
      equal(c.layoutFile, `${c.method}.layout.json`);
      const layout = JSON.parse(await Deno.readTextFile(join(out, c.layoutFile!))) as LayoutFile;
      for (const key of ["method", "params", "scenario", "tokens", "textTokens", "permutation"]) {
        ok(key in layout, key);
      }
      const blocks = Math.ceil(layout.tokens / layout.blockSize);
      equal(layout.blockMask.length, blocks);
      ok(layout.blockMask.every((row) => row.length === blocks && /^[01]+$/.test(row)));
      const ones = layout.blockMask.join("").replaceAll("0", "").length;
      equal(1 - ones / blocks ** 2, c.blockSparsity);
      const image = decode(await Deno.readFile(join(out, c.maskFile!)));
      ok(image.width > 0 && image.width <= 1000 && image.width === image.height);
    }
    const [dense, radial, sta] = planFile.cases;
    equal(dense.tokenSparsity, 0);
    const { tokens, textTokens, heads, headDim } = dense;
    equal(dense.flops, 4 * tokens ** 2 * headDim * heads);
    equal(dense.denseFlops, dense.flops);
    // STA with a 1×1×1 window, counted by hand: a video query attends its own 6×8×8 tile and all
    // text, a text query attends every token.
    const video = tokens - textTokens;
    const staPairs = video * (6 * 8 * 8) + video * textTokens + textTokens * tokens;
    equal(sta.flops, 4 * headDim * heads * staPairs);
    equal(sta.tokenSparsity, 1 - staPairs / tokens ** 2);
    equal(radial.blockSize, 64);
    equal(radial.params.decay, 0.95);
    equal(sta.permutation, "sta-tile-major");
    ok(sta.tokenSparsity! > 0);
  } finally {
    await Deno.remove(join(out, ".."), { recursive: true });
  }
});

Deno.test("plan: a bad option exits 2 with one line and writes nothing", async () => {
  const out = join(await Deno.makeTempDir(), "plan");
  try {
    for (
      const args of [
        ["--scenario", "hunyuan-117f-768x1280", "--size", "ci", "--bogus"],
        ["--scenario", "hunyuan-117f-768x1280", "--size", "ci", "--methods", "sta:window=3x3"],
      ]
    ) {
      const { code, stderr } = await plan([...args, "--out", out]);
      equal(code, 2);
      equal(stderr.trim().split("\n").length, 1, stderr);
      match(stderr, /^plan: /);
      equal(await exists(out), false);
    }
  } finally {
    await Deno.remove(join(out, ".."), { recursive: true });
  }
});

Deno.test("plan: a method that refuses a scenario is recorded, the others still run, exit 1", async () => {
  const out = join(await Deno.makeTempDir(), "plan");
  try {
    const { code, stderr } = await plan([
      "--scenario",
      "moc-single-shot",
      "--size",
      "ci",
      "--methods",
      "sta,radial",
      "--out",
      out,
    ]);
    equal(code, 1);
    match(stderr, /sta failed: sta: latent .* tiles of 6x8x8/);
    const planFile = JSON.parse(await Deno.readTextFile(join(out, "plan.json"))) as PlanFile;
    match(planFile.cases[0].error ?? "", /does not divide into whole tiles/);
    equal(planFile.cases[1].error, undefined);
    ok(await exists(join(out, "radial.layout.json")));
    equal(await exists(join(out, "sta.layout.json")), false);
  } finally {
    await Deno.remove(join(out, ".."), { recursive: true });
  }
});

Deno.test('plan keeps every file inside --out for a scenario named ".."', async () => {
  const root = await Deno.makeTempDir();
  const scenarioFile = join(root, "dots.json");
  await Deno.writeTextFile(
    scenarioFile,
    JSON.stringify({ name: "..", latent: [2, 4, 4], heads: 1, headDim: 64 }),
  );
  const out = join(root, "nest", "out");
  const { code, stderr } = await plan([
    "--scenario",
    `${scenarioFile},moc-single-shot`,
    "--size",
    "ci",
    "--methods",
    "dense",
    "--out",
    out,
  ]);
  equal(code, 0, stderr);
  const beside = [];
  for await (const entry of Deno.readDir(join(root, "nest"))) beside.push(entry.name);
  deepEqual(beside, ["out"], "nothing written beside --out");
  const planFile = JSON.parse(await Deno.readTextFile(join(out, "plan.json"))) as PlanFile;
  ok(planFile.cases.every((c) => !c.layoutFile!.startsWith("..")), "layout paths stay inside");
});

Deno.test("plan never writes into an existing default folder (results/plan-<date-time>)", async () => {
  const cwd = await Deno.makeTempDir();
  const now = Date.now();
  const taken: string[] = [];
  for (let s = -2; s < 120; s++) {
    const stamp = new Date(now + s * 1000).toISOString().replace(/:/g, "-").replace(/\..*$/, "");
    const folder = join(cwd, "results", `plan-${stamp}`);
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(join(folder, "plan.json"), "another run's");
    taken.push(folder);
  }
  const { code, stderr } = await runCli(join(root, "cli/plan.ts"), [
    "--scenario",
    "moc-single-shot",
    "--size",
    "ci",
    "--methods",
    "dense",
  ], { cwd });
  equal(code, 0, stderr);
  for (const folder of taken) {
    equal(await Deno.readTextFile(join(folder, "plan.json")), "another run's");
  }
  const written = [];
  for await (const entry of Deno.readDir(join(cwd, "results"))) {
    if (!taken.includes(join(cwd, "results", entry.name))) written.push(entry.name);
  }
  equal(written.length, 1, written.join());
  match(written[0], /-2$/);
  ok(JSON.parse(await Deno.readTextFile(join(cwd, "results", written[0], "plan.json"))).cases);
});

Deno.test("plan --export-layouts: block lists of every head and a manifest; --heads sets heads", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const layouts = join(dir, "layouts");
    const { code, stderr } = await plan([
      "--scenario",
      "hunyuan-117f-768x1280",
      "--size",
      "ci",
      "--methods",
      "dense,sta",
      "--heads",
      "3",
      "--out",
      join(dir, "plan"),
      "--export-layouts",
      layouts,
    ]);
    equal(code, 0, stderr);
    const manifest = JSON.parse(await Deno.readTextFile(join(layouts, "manifest.json")));
    equal(manifest.schema, "longshot.layouts/1");
    deepEqual(manifest.cases.map((c: { methodSpec: string }) => c.methodSpec), [
      "dense:block=128",
      "sta:tile=6x8x8;window=3x3x3",
    ]);
    const planFile: PlanFile = JSON.parse(await Deno.readTextFile(join(dir, "plan", "plan.json")));
    for (const [i, c] of manifest.cases.entries()) {
      equal(c.heads, 3);
      equal(c.flops, planFile.cases[i].flops);
      for (const file of Object.values(c.files)) {
        if (file !== null) ok(await exists(join(layouts, file as string)), String(file));
      }
    }
    equal(manifest.cases[1].files.permutation, "hunyuan-117f-768x1280/sta/permutation.npy");
    const bad = await plan(["--scenario", "hunyuan-117f-768x1280", "--heads", "0"]);
    equal(bad.code, 2);
    match(bad.stderr, /^plan: --heads must be an integer 1\.\.256 \(got "0"\)\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plan's table says sparsity as bench does, explains its columns, and counts 1 case", async () => {
  const out = await Deno.makeTempDir();
  const run = await plan([
    ...["--scenario", "tests/fixtures/tiny_tiled.json", "--methods", "radial", "--out", out],
  ]);
  equal(run.code, 0, run.stderr);
  const [header, row] = run.stdout.split("\n");
  deepEqual(header.split(/ {2,}/), [
    "scenario",
    "method",
    "tokens",
    "sparsity",
    "block sparsity",
    "FLOPs",
    "layout ms",
  ]);
  const record = JSON.parse(await Deno.readTextFile(join(out, "plan.json"))).cases[0];
  equal(row.split(/ {2,}/)[3], `${(record.tokenSparsity * 100).toFixed(2)}%`);
  ok(record.tokenSparsity > 0, "radial skips pairs: sparsity, not density");
  match(run.stdout, /layout ms: wall time to build the layout/);
  match(run.stdout, /\n1 case \(0 failed\) → /);
});

/**
 * End-to-end checks of `deno task compare` (docs/cli.md): exit codes 0 / 1 / 2, the summary file,
 * shard folders, `--latency info`, `--fail-on-change` and `--allow-missing`, on tiny results
 * files written here and on the committed software baseline with the flags CI passes. Every run
 * also checks that the headline's ✅ / ❌ says what the exit code says.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatShard, shardCases } from "../records/shards.ts";
import { jitteredSamples, latencyOf, makeRecord, makeResults } from "./results_fixtures.ts";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

const COMPARE = fileURLToPath(new URL("../cli/compare.ts", import.meta.url));
const SOFTWARE_BASELINE = fileURLToPath(
  new URL("../baselines/software-llvmpipe.json", import.meta.url),
);
/** The flags CI's software job passes (.ci/run, examples/ci/longshot.yml). */
const CI_FLAGS = ["--latency", "info", "--fail-on-change"];

async function compare(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", COMPARE, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const run = { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  if (run.code === 0 || run.code === 1) {
    const mark = run.stdout.slice(0, 4);
    equal(mark, run.code === 0 ? "## ✅" : "## ❌", `exit ${run.code}, headline ${run.stdout}`);
  }
  return run;
}

async function write(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(value));
  return path;
}

/** Three records with jittered samples; `slowed` multiplies one method's samples. */
function suite(seed: number, slowed?: { method: string; factor: number }): BenchRecord[] {
  return ["dense", "radial", "sta"].map((method, i) => {
    const factor = method === slowed?.method ? slowed.factor : 1;
    const samples = jitteredSamples(seed + i, 20, 10, 0.05).map((ms) => factor * ms);
    return makeRecord({ method, params: { block: 128 }, latency: latencyOf(samples) });
  });
}

Deno.test("compare exits 0, 1 or 2 as docs/cli.md says", async (t) => {
  const dir = await Deno.makeTempDir();
  const base = await write(dir, "base.json", makeResults(suite(100)));
  const rerun = await write(dir, "rerun.json", makeResults(suite(200)));
  const slowed = await write(
    dir,
    "slow.json",
    makeResults(suite(300, { method: "radial", factor: 1.3 })),
  );

  await t.step("0: a rerun within noise", async () => {
    const summary = join(dir, "out", "summary.md");
    const run = await compare([base, rerun, "--summary", summary]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /^## ✅ Longshot compare passed: 0 regressions/);
    equal((await Deno.readTextFile(summary)).trim(), run.stdout.trim());
  });

  await t.step("1: one method slowed 30%", async () => {
    const run = await compare([base, slowed]);
    equal(run.code, 1, run.stderr);
    match(run.stdout, /1 regression,/);
    match(run.stdout, /\| tiny · radial:block=128 · f32 · vulkan vendor 0 fallback \| latency \|/);
  });

  await t.step("0: the same slowdown with --latency info is listed, not failed", async () => {
    const run = await compare([base, slowed, "--latency", "info"]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /### Latency slower \(information only\)/);
  });

  await t.step("0 / 1: a FLOPs change is listed; --fail-on-change fails on it", async () => {
    const changed = makeResults(suite(100).map((r, i) => i === 0 ? { ...r, flops: 1 } : r));
    const path = await write(dir, "changed.json", changed);
    const listed = await compare([base, path]);
    equal(listed.code, 0, listed.stderr);
    match(listed.stdout, /### Changes/);
    const failed = await compare([base, path, "--fail-on-change"]);
    equal(failed.code, 1);
    match(failed.stdout, /^## ❌ Longshot compare FAILED \(1 change \(--fail-on-change\)\)/);
  });

  await t.step("1: a dropped case fails; --allow-missing lets it pass", async () => {
    const dropped = await write(dir, "dropped.json", makeResults(suite(200).slice(0, 2)));
    const run = await compare([base, dropped]);
    equal(run.code, 1, run.stderr);
    match(run.stdout, /^## ❌ Longshot compare FAILED \(1 missing case\)/);
    match(
      run.stdout,
      /### Missing cases\n\n- tiny · sta:block=128 · f32 · vulkan vendor 0 fallback/,
    );
    equal((await compare([base, dropped, "--allow-missing"])).code, 0);
  });

  await t.step("1: no case matched fails; --allow-missing lets it pass", async () => {
    const gl = suite(200).map((r) => ({ ...r, adapter: { ...r.adapter, backend: "gl" } }));
    const other = await write(dir, "gl.json", makeResults(gl));
    const run = await compare([base, other]);
    equal(run.code, 1, run.stderr);
    match(run.stdout, /^## ❌ Longshot compare FAILED \(no case matched; 3 missing cases\)/);
    match(run.stdout, /\(0 cases matched\)/);
    equal((await compare([base, other, "--allow-missing"])).code, 0);
  });

  await t.step("1: 3 repeats slowed 100× fail although the rank test lacks samples", async () => {
    const three = (factor: number) =>
      makeResults([makeRecord({ latency: latencyOf([10, 10.2, 10.4].map((x) => x * factor)) })]);
    const fast = await write(dir, "three.json", three(1));
    const slow = await write(dir, "three-slow.json", three(100));
    const run = await compare([fast, slow]);
    equal(run.code, 1, run.stderr);
    match(run.stdout, /too few samples: n 3\/3 cannot reach p < 0\.01/);
    match(run.stdout, /^## ❌ Longshot compare FAILED \(1 regression\)/);
  });

  await t.step("0: a folder of shard folders is merged first", async () => {
    const records = suite(200);
    for (const index of [1, 2]) {
      const shard = { index, count: 2 };
      const results = makeResults(shardCases(records, shard), { shard: formatShard(shard) });
      await write(dir, join("sharded", `shard-${index}`, "results.json"), results);
    }
    const run = await compare([base, join(dir, "sharded")]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /\(3 cases matched\)/);
  });

  await t.step("2: bad input names file and field in one line, writes nothing", async () => {
    const broken: ResultsFile = makeResults(suite(1));
    (broken.records[1] as unknown as Record<string, unknown>).tokenSparsity = "high";
    const path = await write(dir, "broken.json", broken);
    const summary = join(dir, "never.md");
    const run = await compare([base, path, "--summary", summary]);
    equal(run.code, 2);
    equal(run.stdout, "");
    equal(run.stderr.trim().split("\n").length, 1);
    match(run.stderr, /broken\.json: records\[1\]\.tokenSparsity must be a number or null/);
    equal(await Deno.stat(summary).catch(() => null), null);

    const options = [
      [[base], /needs two paths, BASE and CUR \(got 1\)/],
      [[base, rerun, "--threshold", "ten"], /--threshold must be a number/],
      [[base, rerun, "--latency", "loud"], /--latency must be fail or info/],
      [[base, rerun, "--alpha", "1.5"], /alpha must be in \(0, 1\)/],
      [[base, rerun, "--bogus"], /bogus/],
      [[base, join(dir, "missing.json")], /missing\.json: no such file or folder/],
    ] as const;
    for (const [args, message] of options) {
      const bad = await compare([...args]);
      deepEqual([bad.code, bad.stdout], [2, ""], args.join(" "));
      match(bad.stderr, message);
    }
  });

  await Deno.remove(dir, { recursive: true });
});

Deno.test("with CI's flags, the software baseline is matched by adapter class", async (t) => {
  const dir = await Deno.makeTempDir();
  const baseline: ResultsFile = JSON.parse(await Deno.readTextFile(SOFTWARE_BASELINE));
  const description = "llvmpipe (LLVM 19.1.7, 256 bits)";
  const onRunner = (records: BenchRecord[]): ResultsFile => ({
    ...baseline,
    records: records.map((r) => ({ ...r, adapter: { ...r.adapter, description } })),
  });

  await t.step("0: another LLVM version, nothing else changed", async () => {
    const path = await write(dir, "runner.json", onRunner(baseline.records));
    const run = await compare([SOFTWARE_BASELINE, path, ...CI_FLAGS]);
    equal(run.code, 0, run.stdout);
    match(run.stdout, new RegExp(`\\(${baseline.records.length} cases matched\\)`));
    match(run.stdout, /### Adapter changes/);
    match(
      run.stdout,
      /\| adapter\.description \| llvmpipe \(LLVM 15\.0\.6, 256 bits\) \| llvmpipe \(LLVM 19\.1\.7/,
    );
  });

  await t.step("1: another LLVM version and doubled FLOPs", async () => {
    const doubled = baseline.records.map((r, i) => i === 0 ? { ...r, flops: r.flops! * 2 } : r);
    const path = await write(dir, "doubled.json", onRunner(doubled));
    const run = await compare([SOFTWARE_BASELINE, path, ...CI_FLAGS]);
    equal(run.code, 1, run.stdout);
    match(run.stdout, /^## ❌ Longshot compare FAILED \(1 change \(--fail-on-change\)\)/);
  });

  await t.step("1: another LLVM version and a dropped case", async () => {
    const path = await write(dir, "dropped.json", onRunner(baseline.records.slice(1)));
    const run = await compare([SOFTWARE_BASELINE, path, ...CI_FLAGS]);
    equal(run.code, 1, run.stdout);
    match(run.stdout, /^## ❌ Longshot compare FAILED \(1 missing case\)/);
  });

  await t.step("1: another backend matches nothing", async () => {
    const gl = onRunner(
      baseline.records.map((r) => ({ ...r, adapter: { ...r.adapter, backend: "gl" } })),
    );
    const path = await write(dir, "gl.json", gl);
    const run = await compare([SOFTWARE_BASELINE, path, ...CI_FLAGS]);
    equal(run.code, 1, run.stdout);
    match(run.stdout, /^## ❌ Longshot compare FAILED \(no case matched; /);
  });

  await Deno.remove(dir, { recursive: true });
});

Deno.test("compare --peers: the H200 records against PyTorch, ratio now and in BASE", async () => {
  const results = fileURLToPath(
    new URL("../docs/results/nvidia-h200/hunyuan-8h-schedules/results.json", import.meta.url),
  );
  const peers = fileURLToPath(
    new URL("../docs/results/nvidia-h200/peers-hunyuan/peers.json", import.meta.url),
  );
  const base = JSON.parse(await Deno.readTextFile(results));
  const peerFile = JSON.parse(await Deno.readTextFile(peers));
  // The current run: Radial twice as slow, every other case unchanged.
  const current = structuredClone(base);
  const radial = current.records.find((r: { method: string }) => r.method === "radial");
  radial.latency.median *= 2;
  radial.latency.samples = radial.latency.samples.map((s: number) => s * 2);
  const dir = await Deno.makeTempDir();
  try {
    const currentPath = await write(dir, "current.json", current);
    const run = await compare([results, currentPath, "--latency", "info", "--peers", peers]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /### Longshot vs PyTorch/);
    const flexF32 = (method: string) =>
      peerFile.records.find((p: { method: string; peer: string; dtype: string }) =>
        p.method === method && p.peer === "torch-flex" && p.dtype === "f32"
      ).latency.median;
    const baseRadial = base.records.find((r: { method: string }) => r.method === "radial");
    const row = run.stdout.split("\n").find((line) =>
      line.startsWith("| hunyuan-117f-768x1280 | radial") && line.includes("torch-flex f32")
    );
    const cells = row!.split("|").map((c) => c.trim());
    const [ratio, baseRatio] = [Number(cells[8]), Number(cells[9])];
    equal(ratio.toPrecision(3), (flexF32("radial") / radial.latency.median).toPrecision(3));
    equal(baseRatio.toPrecision(3), (flexF32("radial") / baseRadial.latency.median).toPrecision(3));
    // Every peer record of a case Longshot ran has its row: 4 dense, 2 radial, 2 sta.
    equal(run.stdout.split("\n").filter((l) => /^\| hunyuan-117f.*\| torch-/.test(l)).length, 8);
    const bad = await compare([results, currentPath, "--peers", join(dir, "none.json")]);
    equal(bad.code, 2);
    match(bad.stderr, /none\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

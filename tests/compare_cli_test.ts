/**
 * End-to-end checks of `deno task compare` (cli.md): exit codes 0 / 1 / 2, the summary file,
 * shard folders, `--latency info` and `--fail-on-change`, on tiny results files written here.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatShard, shardCases } from "../regress/shards.ts";
import { jitteredSamples, latencyOf, makeRecord, makeResults } from "../regress/_test_fixtures.ts";
import type { BenchRecord, ResultsFile } from "../reports/schema.ts";

const COMPARE = fileURLToPath(new URL("../cli/compare.ts", import.meta.url));

async function compare(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", COMPARE, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
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

Deno.test("compare exits 0, 1 or 2 as cli.md says", async (t) => {
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
    match(run.stdout, /^## ✅ Longshot compare: 0 regressions/);
    equal((await Deno.readTextFile(summary)).trim(), run.stdout.trim());
  });

  await t.step("1: one method slowed 30%", async () => {
    const run = await compare([base, slowed]);
    equal(run.code, 1, run.stderr);
    match(run.stdout, /1 regression,/);
    match(run.stdout, /\| tiny · radial:block=128 · f32 · test adapter \| latency \|/);
  });

  await t.step("0: the same slowdown with --latency info is listed, not failed", async () => {
    const run = await compare([base, slowed, "--latency", "info"]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /### Latency \(information only\)/);
  });

  await t.step("0 / 1: a FLOPs change is listed; --fail-on-change fails on it", async () => {
    const changed = makeResults(suite(100).map((r, i) => i === 0 ? { ...r, flops: 1 } : r));
    const path = await write(dir, "changed.json", changed);
    const listed = await compare([base, path]);
    equal(listed.code, 0, listed.stderr);
    match(listed.stdout, /### Changes/);
    equal((await compare([base, path, "--fail-on-change"])).code, 1);
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

import assert from "node:assert/strict";
import type { ResultsFile } from "../records/schema.ts";
import { runCli } from "./_cli.ts";

const MERGE = new URL("../cli/merge.ts", import.meta.url).pathname;
const BENCH = new URL("../cli/bench.ts", import.meta.url).pathname;
const SCENARIO = new URL("./fixtures/tiny_tiled.json", import.meta.url).pathname;

async function readResults(path: string): Promise<ResultsFile> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("merge: two bench shards become one results file and a baseline", async () => {
  const dir = await Deno.makeTempDir();
  for (const shard of ["1/2", "2/2"]) {
    const run = await runCli(BENCH, [
      ...["--scenario", SCENARIO, "--methods", "dense,radial", "--shard", shard],
      ...["--warmup", "0", "--repeats", "1", "--no-quality", "--no-history", "--quiet"],
      ...["--out", `${dir}/shard-${shard[0]}`],
    ]);
    assert.equal(run.code, 0, run.stderr);
  }
  const merge = await runCli(
    MERGE,
    ["merged", "shard-2", "shard-1/results.json", "--save-baseline", "tiny"],
    { cwd: dir },
  );
  assert.equal(merge.code, 0, merge.stderr);
  const merged = await readResults(`${dir}/merged/results.json`);
  assert.equal(merged.shard, null);
  assert.deepEqual(merged.records.map((r) => r.method), ["dense", "radial"]);
  assert.match(await Deno.readTextFile(`${dir}/merged/results.csv`), /^[^\n]*method/);
  const baseline = await readResults(`${dir}/baselines/tiny.json`);
  assert.deepEqual(baseline.records.map((r) => r.method), ["dense", "radial"]);
  assert.match(merge.stdout, /baseline saved to baselines\/tiny\.json/);

  const missing = await runCli(MERGE, ["again", "shard-1"], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), "merge: missing shard 2/2 (have 1/2)");
  await assert.rejects(Deno.stat(`${dir}/again`), Deno.errors.NotFound);
});

Deno.test("merge: no SHARD or an unknown option is one line, exit 2; --help prints usage", async () => {
  const none = await runCli(MERGE, ["out"]);
  assert.equal(none.code, 2);
  assert.equal(none.stderr.trim(), "merge: needs OUT and at least one SHARD (got 1 paths)");
  const bogus = await runCli(MERGE, ["--bogus"]);
  assert.equal(bogus.code, 2);
  assert.equal(
    bogus.stderr.trim(),
    "merge: unknown option '--bogus' (valid: --save-baseline, --help)",
  );
  const help = await runCli(MERGE, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: deno task merge OUT SHARD/);
});

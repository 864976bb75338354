import assert from "node:assert/strict";
import type { ResultsFile } from "../records/schema.ts";

const EXAMPLE = "examples/scenarios/sta-windows-ci.json";

async function bench(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli/bench.ts", "--no-history", "--quiet", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("bench runs a mask-strategy schedule's windows once each and sums the whole run", async () => {
  const out = await Deno.makeTempDir();
  const { code, stdout, stderr } = await bench([
    ...["--scenario", EXAMPLE, "--methods", "sta", "--warmup", "0", "--repeats", "1"],
    ...["--no-quality", "--attention-share", "0.5", "--out", out],
  ]);
  assert.equal(code, 0, stderr);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  // The file's windows, each once, after dense and the spec as given.
  assert.deepEqual(results.records.map((r) => r.params.window ?? null), [
    null,
    [3, 3, 3],
    [1, 1, 1],
    [1, 1, 2],
    [1, 1, 4],
  ]);
  const [whole] = results.wholeRun!;
  // By hand from the file: step 0 dense (2 layers × 2 heads); head 0 always 1x1x1; head 1 1x1x2
  // except step 2, layer 1 (1x1x4).
  assert.deepEqual(whole.configs.map((c) => [c.spec, c.cells]), [
    ["dense", 4],
    ["sta:window=1x1x1", 4],
    ["sta:window=1x1x2", 3],
    ["sta:window=1x1x4", 1],
  ]);
  // 1,536 tokens in 4 tiles of 384: a head attends 384·w_W tiles' keys per query.
  const perHead = (tilesW: number) => 4 * 64 * 1536 * 384 * tilesW;
  assert.equal(whole.flops, 4 * perHead(4) + 4 * perHead(1) + 3 * perHead(2) + perHead(4));
  assert.equal(whole.denseFlops, 12 * perHead(4));
  assert.equal(whole.attentionShare, 0.5);
  assert.equal(whole.endToEndSpeedup, 1 / (0.5 + 0.5 / whole.speedup!));
  assert.match(stdout, /whole run/);
});

Deno.test("bench refuses a bad --attention-share in one line, exit 2", async () => {
  for (const value of ["0", "1.5", "x"]) {
    const { code, stderr } = await bench(["--attention-share", value]);
    assert.equal(code, 2);
    assert.match(stderr, /--attention-share must be a number in \(0, 1\] \(got "/);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

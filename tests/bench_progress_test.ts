import assert from "node:assert/strict";
import { ProgressLine } from "../bench/progress.ts";
import { runCli } from "./_cli.ts";

/** Seconds since midnight of a progress line's `HH:MM:SS` stamp. */
function stampSeconds(line: string): number {
  const [h, m, s] = line.slice(0, 8).split(":").map(Number);
  return h * 3600 + m * 60 + s;
}

/** The gap asked for with --progress-every, s (the default is 10; a short one keeps the test fast). */
const EVERY_S = 2;

Deno.test("bench piped to a file: a line per case, and inside a case one at least every --progress-every", async () => {
  const out = await Deno.makeTempDir();
  // 60 timed dense runs at 1,568 tokens: several seconds on any software adapter, so well over
  // EVERY_S whatever the machine's speed; radial is a second case.
  const { code, stderr } = await runCli("cli/bench.ts", [
    "--scenario",
    "hunyuan-117f-768x1280",
    "--size",
    "ci",
    "--heads",
    "1",
    "--methods",
    "dense,radial",
    "--no-quality",
    "--no-history",
    "--warmup",
    "1",
    "--repeats",
    "60",
    "--progress-every",
    String(EVERY_S),
    "--budget-ms",
    "1000000",
    "--out",
    out,
  ]);
  assert.equal(code, 0, stderr);
  const lines = stderr.split("\n").filter((l) => /^\d\d:\d\d:\d\d \[\d\/2\]/.test(l));
  const starts = lines.filter((l) => l.includes("elapsed · ETA"));
  assert.deepEqual(
    starts.map((l) => l.slice(9, l.indexOf(" ·"))),
    ["[1/2] hunyuan-117f-768x1280 × dense", "[2/2] hunyuan-117f-768x1280 × radial"],
  );
  const inCase = lines.filter((l) => /in case · timed \d+\/60 runs done · ~\d+s left/.test(l));
  assert.ok(inCase.length >= 1, `a line inside the slow case: ${stderr}`);
  const stamps = lines.slice(0, lines.indexOf(starts[1])).map(stampSeconds);
  // Stamps have one-second resolution: a gap of EVERY_S can read as EVERY_S + 1.
  for (let i = 1; i < stamps.length; i++) {
    assert.ok(stamps[i] - stamps[i - 1] <= EVERY_S + 1, `≤ ${EVERY_S} s apart: ${stderr}`);
  }
});

Deno.test("bench without XDG_RUNTIME_DIR: Mesa's 'XDG_RUNTIME_DIR is invalid' never reaches stderr", async () => {
  const out = await Deno.makeTempDir();
  const { code, stderr } = await runCli("cli/bench.ts", [
    "--scenario",
    "tests/fixtures/tiny_tiled.json",
    "--methods",
    "dense",
    "--no-quality",
    "--no-history",
    "--warmup",
    "0",
    "--repeats",
    "1",
    "--out",
    out,
  ], { env: { XDG_RUNTIME_DIR: "" } });
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /XDG_RUNTIME_DIR/);
  assert.doesNotMatch(stderr, /--size to choose/, "size means nothing for a scenario file");
});

Deno.test("ProgressLine on a terminal: the live line shows the case's runs done and time left", () => {
  const written: string[] = [];
  const progress = new ProgressLine({ terminal: true, write: (text) => written.push(text) });
  progress.startCase(0, 3, "s × dense");
  progress.step({ phase: "warmup", done: 1, of: 1 });
  progress.step({ phase: "timed", done: 2, of: 5 });
  progress.finish();
  assert.equal(written[0], "\r\x1b[2K[1/3] s × dense · 0s elapsed · ETA …");
  assert.match(written[1], /\[1\/3\] s × dense · 0s in case · warm-up 1\/1 runs done$/);
  assert.match(written[2], /\[1\/3\] s × dense · 0s in case · timed 2\/5 runs done · ~0s left/);
  assert.equal(written[3], "\r\x1b[2K");
});

Deno.test("ProgressLine without a terminal: case lines only until a heartbeat is due; --quiet prints nothing", () => {
  const written: string[] = [];
  const progress = new ProgressLine({ terminal: false, write: (text) => written.push(text) });
  progress.startCase(0, 2, "s × dense");
  progress.step({ phase: "timed", done: 1, of: 5 });
  progress.startCase(1, 2, "s × moc");
  progress.finish();
  assert.equal(written.length, 2);
  assert.match(written[0], /^\d\d:\d\d:\d\d \[1\/2\] s × dense · 0s elapsed · ETA …\n$/);
  assert.match(written[1], /^\d\d:\d\d:\d\d \[2\/2\] s × moc · 0s elapsed · ETA 0s\n$/);
  const quiet: string[] = [];
  const silent = new ProgressLine({ quiet: true, terminal: false, write: (t) => quiet.push(t) });
  silent.startCase(0, 1, "s × dense");
  silent.finish();
  assert.deepEqual(quiet, []);
});

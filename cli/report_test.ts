import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { DECAY_FILE_NAME } from "../reports/report_extras.ts";
import { type CliRun, runCli } from "../tests/_cli.ts";

const FIXTURE = new URL("../tests/fixtures/report_results.json", import.meta.url);
const CLI = new URL("./report.ts", import.meta.url).pathname;

function report(args: string[]): Promise<CliRun> {
  return runCli(CLI, args);
}

async function resultsFolder(): Promise<string> {
  const folder = await Deno.makeTempDir({ prefix: "longshot-report-cli-" });
  await Deno.copyFile(FIXTURE, join(folder, "results.json"));
  return folder;
}

async function listFolder(folder: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) names.push(entry.name);
  return names.sort();
}

Deno.test("report: a folder → report.html beside its results.json, with its decay and masks", async () => {
  const folder = await resultsFolder();
  const decay = [{
    scenario: "hunyuan-ci",
    head: 0,
    queries: 1,
    temporal: [{ distance: 0, mass: 3 }, { distance: 1, mass: 0.5 }],
    spatial: [{ distance: 0, mass: 9 }],
  }];
  await Deno.writeTextFile(join(folder, DECAY_FILE_NAME), JSON.stringify(decay));
  const png = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);
  await Deno.writeFile(join(folder, "radial.mask.png"), png);
  const result = await report([folder]);
  equal(result.code, 0, result.stderr);
  deepEqual(await listFolder(folder), [
    "decay.json",
    "radial.mask.png",
    "report.html",
    "results.json",
  ]);
  const html = await Deno.readTextFile(join(folder, "report.html"));
  ok(html.startsWith("<!doctype html>"));
  ok(html.includes('data-chart="decay"'), "the decay chart is missing");
  ok(html.includes(`src="data:image/png;base64,${btoa(String.fromCharCode(...png))}"`));
  ok(html.includes("StaShapeError"), "the failed case is missing");
  await Deno.remove(folder, { recursive: true });
});

Deno.test("report: two results files side by side into --out", async () => {
  const folder = await resultsFolder();
  const out = join(folder, "sub", "both.html");
  const result = await report([join(folder, "results.json"), folder, "--out", out]);
  equal(result.code, 0, result.stderr);
  const html = await Deno.readTextFile(out);
  match(html, /2 runs side by side/);
  await Deno.remove(folder, { recursive: true });
});

Deno.test("report: bad input is one line on stderr, exit 2, nothing written", async () => {
  const folder = await resultsFolder();
  const cases = [
    [join(folder, "missing.json")],
    [],
    [folder, "--out", join(folder, "report.txt")],
    [folder, "--colour"],
  ];
  for (const args of cases) {
    const result = await report(args);
    equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    match(result.stderr, /^report: /);
  }
  await Deno.remove(folder, { recursive: true });
});

Deno.test("report: a corrupt decay.json leaves out the decay chart, says so, writes the rest", async () => {
  for (const corrupt of ['[{"scenario": 1}]', "{not json"]) {
    const folder = await resultsFolder();
    await Deno.writeTextFile(join(folder, DECAY_FILE_NAME), corrupt);
    const result = await report([folder]);
    equal(result.code, 0, result.stderr);
    match(result.stderr, /decay\.json: (\[0\]\.scenario must be a string|not JSON)/);
    match(result.stderr, /written without its decay chart/);
    const html = await Deno.readTextFile(join(folder, "report.html"));
    ok(!html.includes('data-chart="decay"'), "no decay chart");
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("report --peers: Longshot vs the peers per case, from one or more files; a bad file exits 2", async () => {
  const folder = await resultsFolder();
  const peers = join(folder, "peers.json");
  const record = {
    scenario: "hunyuan-ci",
    method: "dense",
    params: { block: 128 },
    tokens: 1024,
    heads: 2,
    headDim: 64,
    peer: "torch-sdpa",
    backend: "efficient",
    dtype: "f32",
    flops: 536870912,
    latency: { median: 40, p10: 39, p90: 41, n: 10, samples: [] },
    tflops: null,
    check: null,
  };
  const file = { schema: "longshot.peers/1", date: "", command: "", device: "", versions: {} };
  await Deno.writeTextFile(peers, JSON.stringify({ ...file, records: [record] }));
  const result = await report([folder, "--peers", peers]);
  equal(result.code, 0, result.stderr);
  const html = await Deno.readTextFile(join(folder, "report.html"));
  match(html, /<section id="peers">/);
  match(html, /<td>120<\/td><td class="text">torch-sdpa f32<\/td><td>40<\/td><td>0\.333<\/td>/);
  const second = join(folder, "peers-bf16.json");
  await Deno.writeTextFile(
    second,
    JSON.stringify({ ...file, records: [{ ...record, dtype: "bf16" }] }),
  );
  equal((await report([folder, "--peers", `${peers},${second}`])).code, 0);
  match(
    await Deno.readTextFile(join(folder, "report.html")),
    /torch-sdpa f32<\/td>[^]*torch-sdpa bf16<\/td>/,
  );
  await Deno.writeTextFile(
    peers,
    JSON.stringify({ ...file, records: [{ ...record, heads: "2" }] }),
  );
  const bad = await report([folder, "--peers", peers]);
  equal(bad.code, 2);
  match(bad.stderr, /^report: .*peers\.json: records\[0\]\.heads must be an integer\n$/);
  await Deno.remove(folder, { recursive: true });
});

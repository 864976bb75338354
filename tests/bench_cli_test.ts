import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { RESULTS_SCHEMA, type ResultsFile } from "../records/schema.ts";
import { type CliRun, isEmptyOrMissing, runCli, spawnCli } from "./_cli.ts";

function bench(args: string[]): Promise<CliRun> {
  return runCli("cli/bench.ts", ["--quiet", "--no-history", ...args]);
}

Deno.test("bench end to end: a tiny suite writes results.json, results.csv and report.html", async () => {
  const out = await Deno.makeTempDir();
  const { code, stdout, stderr } = await bench([
    "--scenario",
    "hunyuan-117f-768x1280",
    "--size",
    "ci",
    "--methods",
    "dense",
    "--heads",
    "1",
    "--warmup",
    "1",
    "--repeats",
    "3",
    "--out",
    out,
  ]);
  assert.equal(code, 0, stderr);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.equal(results.schema, RESULTS_SCHEMA);
  assert.ok(results.adapter && typeof results.adapter.fallback === "boolean");
  assert.equal(results.records.length, 1);
  const [record] = results.records;
  assert.equal(record.method, "dense");
  assert.equal(record.flops, 4 * record.tokens ** 2 * record.headDim * record.heads);
  assert.equal(record.flops, record.denseFlops);
  assert.equal(record.latency?.n, 3);
  assert.equal(record.latency?.samples.length, 3);
  assert.ok(
    record.latency!.p10 <= record.latency!.median && record.latency!.median <= record.latency!.p90,
  );
  assert.ok(record.quality!.relL2! < 1e-4, "dense kernel agrees with the float64 reference");
  const rows: Record<string, string>[] = parse(await Deno.readTextFile(`${out}/results.csv`), {
    columns: true,
  });
  assert.equal(rows.length, 1);
  assert.equal(rows[0]["latency.n"], "3");
  const html = await Deno.readTextFile(`${out}/report.html`);
  assert.match(html, /<html/);
  assert.match(stdout, /dense/);
});

/** Placeholder for a path under a regular file, which no user (root included) can create. */
const UNDER_A_FILE = "{file}/results";

const BAD_OPTIONS: Array<[string, string[], RegExp]> = [
  ["unknown preset", ["--scenario", "no-such-preset"], /scenario.*(allowed|presets?)/i],
  ["unknown method", ["--methods", "nosuch"], /unknown method "nosuch".*allowed/],
  ["--repeats 0", ["--repeats", "0"], /--repeats must be an integer/],
  ["unknown option", ["--frobnicate"], /frobnicate/],
  ["bad precision", ["--precision", "f8"], /--precision must be f32 or f16/],
  ["unwritable --out", ["--out", UNDER_A_FILE], /--out .* not writable/],
  ["empty --methods", ["--methods", ""], /--methods must name at least one method \(got ""\)/],
  ["empty --scenario", ["--scenario", " , "], /--scenario must name at least one/],
  ["negative --seed", ["--seed", "-1"], /--seed must be an integer 0\.\.4294967295 \(got "-1"\)/],
  ["a parameter given twice", ["--methods", "moc:k=2;k=3"], /parameter "k" given twice/],
  [
    "a methods file that is not one",
    ["--methods", "dense,{file}.json"],
    /--methods .*file\.json: cannot be read/,
  ],
  [
    "a baseline path",
    ["--save-baseline", "../../x"],
    /baseline name must be .* \(got "\.\.\/\.\.\/x"\)/,
  ],
  [
    "a baseline of a shard",
    ["--save-baseline", "x", "--shard", "1/2"],
    /--save-baseline needs the whole run/,
  ],
];

for (const [name, args, message] of BAD_OPTIONS) {
  Deno.test(`bench rejects ${name}: exit 2, one line naming the field, nothing written`, async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "");
    const given = args.map((arg) => arg.replace("{file}", file));
    const withOut = given.includes("--out") ? given : [...given, "--out", `${dir}/run`];
    const { code, stderr } = await bench(["--size", "ci", ...withOut]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, `one line, before the adapter: ${stderr}`);
    const written = [];
    for await (const entry of Deno.readDir(dir)) written.push(entry.name);
    assert.deepEqual(written, ["file"], "nothing written beside the blocking file");
  });
}

Deno.test("bench checks method and scenario specs before opening the adapter", async () => {
  // With no adapter to be had (wgpu has no DX12 on Linux), the spec error must still come first.
  const env = { DENO_WEBGPU_BACKEND: "dx12" };
  const dir = await Deno.makeTempDir();
  const cases: Array<[string[], RegExp]> = [
    [["--methods", "nosuch"], /^bench: --methods: unknown method "nosuch"/],
    [["--scenario", "no-such-preset"], /^bench: .*no-such-preset/],
    [["--scenario", `${dir}/missing.json`], /^bench: .*missing\.json/],
    [
      ["--scenario", `${dir}/bad-rule.json`, "--methods", "svg2"],
      /^bench: .*bad-rule\.json: schedule\.methods\.svg2\.rules\[0\] runs "svg2:itres=2": .*unknown parameter "itres"/,
    ],
  ];
  // A whole run whose rule sets a parameter SVG2 does not have.
  await Deno.writeTextFile(
    `${dir}/bad-rule.json`,
    JSON.stringify({
      name: "bad-rule",
      latent: [6, 8, 32],
      heads: 2,
      headDim: 64,
      schedule: { layers: 2, steps: 3, methods: { svg2: { rules: [{ set: { itres: 2 } }] } } },
    }),
  );
  for (const [args, message] of cases) {
    const run = await runCli("cli/bench.ts", ["--no-history", "--out", `${dir}/run`, ...args], {
      env,
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /adapter/);
  }
});

const QUICK = ["--warmup", "0", "--repeats", "1", "--no-quality", "--heads", "1", "--size", "ci"];

Deno.test("bench --shard 1/2 and 2/2 run disjoint cases that together are the unsharded list", async () => {
  const root = await Deno.makeTempDir();
  const cases = ["--scenario", "moc-single-shot,wan-69f-768x1280", "--methods", "dense,radial,sta"];
  const keys = async (out: string) => {
    const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    return results.records.map((r) => `${r.scenario}/${r.method}`);
  };
  for (const shard of ["1/2", "2/2", null]) {
    const out = `${root}/${shard?.replace("/", "-") ?? "all"}`;
    const { code, stderr } = await bench([
      ...QUICK,
      ...cases,
      ...(shard ? ["--shard", shard] : []),
      "--out",
      out,
    ]);
    assert.equal(code, 0, stderr);
  }
  const [first, second, all] = await Promise.all(
    ["1-2", "2-2", "all"].map((d) => keys(`${root}/${d}`)),
  );
  assert.equal(first.length + second.length, all.length);
  assert.deepEqual([...first, ...second].sort(), [...all].sort());
});

Deno.test("bench --inputs reads Q/K/V from a safetensors file and names it in the records", async () => {
  const { writeQkvFiles } = await import("../tools/make_qkv_files.ts");
  const dir = await Deno.makeTempDir();
  const files = await writeQkvFiles(dir, {
    scenario: {
      name: "captured",
      latent: [6, 8, 16],
      text: { tokens: 16, position: "suffix" },
      heads: 2,
      headDim: 64,
      modelType: "hunyuan",
    },
    dtype: "bf16",
    layout: "nhd",
  });
  const out = `${dir}/run`;
  const { code, stderr } = await bench([
    "--inputs",
    files.path,
    "--methods",
    "dense,radial",
    "--warmup",
    "0",
    "--repeats",
    "1",
    "--out",
    out,
  ]);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /--size to choose/, "size means nothing for an inputs file");
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.deepEqual(results.records.map((r) => r.scenario), ["captured", "captured"]);
  assert.ok(results.records.every((r) => r.inputs.includes("qkv.safetensors") && r.heads === 2));
  assert.ok(
    results.records[1].quality!.recall! > 0 && results.records[1].quality!.recall! <= 1 + 1e-6,
  );
});

/** A scenario file small enough for a software adapter: 32 tokens, one head. */
async function tinyScenario(dir: string, fields: Record<string, unknown> = {}): Promise<string> {
  const path = `${dir}/tiny.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({ name: "tiny", latent: [2, 4, 4], heads: 1, headDim: 64, ...fields }),
  );
  return path;
}

Deno.test("bench: a user mask that hangs or calls Deno.exit fails its case; dense is written", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/spin.ts`,
    "export const blockSize = 8; export const mask = () => { while (true) {} };",
  );
  await Deno.writeTextFile(
    `${dir}/quit.ts`,
    "export const blockSize = 8; export const mask = () => Deno.exit(0);",
  );
  const out = `${dir}/run`;
  const { code, stderr } = await bench([
    ...QUICK,
    "--scenario",
    await tinyScenario(dir),
    "--methods",
    `dense,${dir}/spin.ts,${dir}/quit.ts`,
    "--time-limit-s",
    "2",
    "--out",
    out,
  ]);
  assert.equal(code, 1, stderr);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  const [dense, spin, quit] = results.records;
  assert.equal(dense.error, undefined);
  assert.ok(dense.latency!.median > 0);
  assert.match(spin.error!, /^UserCodeTimeoutError: .*spin\.ts.* did not finish within 2 s/);
  assert.match(quit.error!, /Deno\.exit\(0\)/);
});

Deno.test("bench: non-finite outputs and negative routingFlops are errors; an empty mask warns", async () => {
  const dir = await Deno.makeTempDir();
  const form = `import { formFromPredicate } from "${Deno.cwd()}/form/mask_predicate.ts";`;
  await Deno.writeTextFile(
    `${dir}/nan_scale.ts`,
    `${form}
    export const method = { name: "nan_scale", params: {}, dynamic: false, layout: (s) => {
      const f = formFromPredicate(32, 8, () => true);
      return { forms: [{ ...f, outputScale: new Float32Array(32).fill(NaN) }], routingFlops: 0 };
    } };`,
  );
  await Deno.writeTextFile(
    `${dir}/negative.ts`,
    `${form}
    export const method = { name: "negative", params: {}, dynamic: false,
      layout: () => ({ forms: [formFromPredicate(32, 8, () => true)], routingFlops: -5 }) };`,
  );
  await Deno.writeTextFile(
    `${dir}/none.ts`,
    "export const blockSize = 8; export const mask = () => false;",
  );
  const out = `${dir}/run`;
  const { code, stdout, stderr } = await bench([
    ...QUICK,
    "--scenario",
    await tinyScenario(dir),
    "--methods",
    `dense,${dir}/nan_scale.ts,${dir}/negative.ts,${dir}/none.ts`,
    "--out",
    out,
  ]);
  assert.equal(code, 1, stderr);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  const [, nanScale, negative, none] = results.records;
  assert.match(nanScale.error!, /^NonFiniteOutputError: output of head 0 row 0 column 0 is NaN/);
  assert.match(negative.error!, /negative: routingFlops must be a finite number ≥ 0 \(got -5\)/);
  assert.equal(none.error, undefined);
  assert.ok(none.notes.some((n) => n.startsWith("nothing attended")), none.notes.join());
  assert.match(stdout, /warning: tiny × none: nothing attended/);
});

Deno.test("bench refuses an unusable --history before any work: one line, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/run`;
  for (
    const [history, message] of [[dir, /--history .* must be a file/], [
      "/proc/version",
      /--history \/proc\/version is not writable/,
    ]] as const
  ) {
    const { code, stderr } = await runCli("cli/bench.ts", [
      "--quiet",
      "--methods",
      "nosuch",
      "--history",
      history,
      "--out",
      out,
    ]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.ok(await isEmptyOrMissing(out), "nothing written");
  }
});

Deno.test("bench never writes into an existing default folder (results/<date-time>)", async () => {
  const cwd = await Deno.makeTempDir();
  const taken: string[] = [];
  const now = Date.now();
  for (let s = -2; s < 180; s++) {
    const folder = `${cwd}/results/${
      new Date(now + s * 1000).toISOString().replace(/:/g, "-")
        .replace(/\..*$/, "")
    }`;
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(`${folder}/results.json`, "another run's");
    taken.push(folder);
  }
  const { code, stderr } = await runCli(`${Deno.cwd()}/cli/bench.ts`, [
    ...QUICK,
    "--quiet",
    "--no-history",
    "--scenario",
    await tinyScenario(cwd),
    "--methods",
    "dense",
  ], { cwd });
  assert.equal(code, 0, stderr);
  for (const folder of taken) {
    assert.equal(await Deno.readTextFile(`${folder}/results.json`), "another run's");
  }
  const written = [];
  for await (const entry of Deno.readDir(`${cwd}/results`)) {
    if (!taken.includes(`${cwd}/results/${entry.name}`)) written.push(entry.name);
  }
  assert.equal(written.length, 1, written.join());
  assert.match(written[0], /-2$/);
  const results: ResultsFile = JSON.parse(
    await Deno.readTextFile(`${cwd}/results/${written[0]}/results.json`),
  );
  assert.equal(results.records[0].method, "dense");
});

Deno.test("bench killed while writing leaves the whole set or nothing, and history only after it", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/run`;
  const history = `${dir}/history.jsonl`;
  const child = spawnCli("cli/bench.ts", [
    ...QUICK,
    "--quiet",
    "--scenario",
    await tinyScenario(dir),
    "--methods",
    "dense",
    "--history",
    history,
    "--out",
    out,
  ]);
  const resultsFileExists = async () => {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory) continue;
      if (await Deno.stat(`${dir}/${entry.name}/results.json`).catch(() => null)) return true;
    }
    return false;
  };
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  while (!exited && !(await resultsFileExists())) await new Promise((r) => setTimeout(r, 5));
  if (!exited) child.kill("SIGKILL");
  await status;
  const names: string[] = [];
  if (!(await isEmptyOrMissing(out))) {
    for await (const entry of Deno.readDir(out)) names.push(entry.name);
  }
  const complete = ["report.html", "results.csv", "results.json"].every((n) => names.includes(n));
  assert.ok(complete || names.length === 0, `a partial set: ${names.sort().join(", ")}`);
  const historyLines = (await Deno.readTextFile(history).catch(() => "")).trim();
  assert.ok(complete || historyLines === "", "a history line without the run's files");
});

Deno.test("bench refuses scenario files too big for the machine in one line, before allocating", async () => {
  const dir = await Deno.makeTempDir();
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ latent: [4, 8, 8], heads: 1000000 }, /heads must be an integer 1\.\.256 \(got 1000000\)/],
    [
      { latent: [100000, 1000, 1000], heads: 1 },
      /needs .* for one head's Q\/K\/V\/O buffer; the adapter allows .* \(max\w+\)/,
    ],
    [
      { latent: [4, 8, 8], heads: 8, text: { tokens: 1e9 } },
      /needs .*(the adapter allows|the host has)/,
    ],
  ];
  for (const [fields, message] of cases) {
    const started = Date.now();
    const out = `${dir}/run`;
    const { code, stderr } = await bench([
      "--scenario",
      await tinyScenario(dir, fields),
      "--methods",
      "dense",
      "--out",
      out,
    ]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    const lines = stderr.trim().split("\n").filter((l) => !l.startsWith('bench: adapter "'));
    assert.equal(lines.length, 1, stderr);
    assert.ok(Date.now() - started < 30_000, "refused before any work");
    assert.ok(await isEmptyOrMissing(out), "nothing written");
  }
});

import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { RESULTS_SCHEMA, type ResultsFile } from "../reports/schema.ts";

const decoder = new TextDecoder();

async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli/bench.ts", "--quiet", "--no-history", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
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
    assert.equal(
      stderr.trim().split("\n").filter((l) => l.startsWith("bench:") && !l.includes("adapter"))
        .length,
      1,
    );
    const written = [];
    for await (const entry of Deno.readDir(dir)) written.push(entry.name);
    assert.deepEqual(written, ["file"], "nothing written beside the blocking file");
  });
}

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
  const { writeQkvFiles } = await import("./make_qkv_files.ts");
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
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.deepEqual(results.records.map((r) => r.scenario), ["captured", "captured"]);
  assert.ok(results.records.every((r) => r.inputs.includes("qkv.safetensors") && r.heads === 2));
  assert.ok(
    results.records[1].quality!.recall! > 0 && results.records[1].quality!.recall! <= 1 + 1e-6,
  );
});

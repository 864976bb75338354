/**
 * `deno task calibrate` end to end on the adapter at hand, at ci size (issue 17's acceptance
 * test): calibrate on moc-multi-shot writes a methods file, and `bench --methods FILE` on a third
 * seed meets the target with every method the file holds; bad input is one line, exit 2,
 * nothing written.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CalibrationRecord } from "../bench/calibration_record.ts";
import { METHODS_FILE_SCHEMA, type MethodsFile } from "../methods/methods_file.ts";
import type { ResultsFile } from "../records/schema.ts";
import { isEmptyOrMissing, runCli } from "./_cli.ts";
import { writeQkvFiles } from "../tools/make_qkv_files.ts";

const TARGET = 0.9;

Deno.test("calibrate on moc-multi-shot (ci) writes a methods file that bench meets on another seed", async () => {
  const out = await Deno.makeTempDir();
  try {
    const calibrate = await runCli("cli/calibrate.ts", [
      "--scenario",
      "moc-multi-shot",
      "--size",
      "ci",
      "--target",
      `recall>=${TARGET}`,
      "--methods",
      "moc,sta",
      "--seed",
      "1",
      "--quiet",
      "--out",
      `${out}/calibration`,
    ]);
    assert.equal(calibrate.code, 0, calibrate.stderr + calibrate.stdout);
    const record: CalibrationRecord = JSON.parse(
      await Deno.readTextFile(`${out}/calibration/calibration.json`),
    );
    assert.equal(record.target, `recall>=${TARGET}`);
    assert.equal(record.calibrationInputs.seed, 1);
    assert.equal(record.holdoutInputs.seed, 2);
    assert.deepEqual(record.methods.map((m) => m.method), ["moc", "sta"]);
    for (const m of record.methods) {
      assert.ok(m.sweep.length > 0, `${m.method} swept its grid`);
      assert.match(calibrate.stdout, new RegExp(`^${m.method}: `, "m"), "a note a method");
      if (m.chosen) {
        assert.ok(m.calibration!.quality!.recall! >= TARGET, `${m.method} met on calibration`);
      }
      assert.equal(m.carriedOver, m.holdout?.met === true && m.calibration?.met === true);
    }
    const file: MethodsFile = JSON.parse(
      await Deno.readTextFile(`${out}/calibration/methods.json`),
    );
    assert.equal(file.schema, METHODS_FILE_SCHEMA);
    assert.deepEqual(
      file.methods,
      record.methods.filter((m) => m.carriedOver).map((m) => m.chosen!.spec),
    );
    assert.ok(file.methods.length > 0, "at least one method carried over");

    const bench = await runCli("cli/bench.ts", [
      "--scenario",
      "moc-multi-shot",
      "--size",
      "ci",
      "--methods",
      `${out}/calibration/methods.json`,
      "--seed",
      "3",
      "--warmup",
      "0",
      "--repeats",
      "1",
      "--quiet",
      "--no-history",
      "--out",
      `${out}/bench`,
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/bench/results.json`));
    const sparse = results.records.filter((r) => r.method !== "dense");
    assert.equal(sparse.length, file.methods.length);
    for (const r of sparse) {
      assert.ok(
        r.quality!.recall! >= TARGET,
        `${r.method} ${JSON.stringify(r.params)}: recall ${r.quality!.recall} on seed 3`,
      );
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

const BAD_OPTIONS: Array<[string, string[], RegExp]> = [
  ["no target", ["--scenario", "moc-multi-shot"], /--target is required/],
  ["a bad target", ["--scenario", "moc-multi-shot", "--target", "psnr>=30"], /--target must be/],
  ["two scenarios", ["--scenario", "a,b", "--target", "recall>=0.9"], /one scenario \(got 2\)/],
  [
    "a method without a knob",
    ["--scenario", "moc-multi-shot", "--target", "recall>=0.9", "--methods", "dense"],
    /"dense" has no knob to calibrate \(allowed: moc, moga, moga-kmeans, radial, sta, svg2, vsa, sparge\)/,
  ],
  [
    "the knob given",
    ["--scenario", "moc-multi-shot", "--target", "recall>=0.9", "--methods", "sta:window=1x1x1"],
    /"window" is the knob calibrate turns/,
  ],
  ["an unknown preset", ["--scenario", "nope", "--target", "recall>=0.9"], /unknown preset "nope"/],
  [
    "equal seeds",
    ["--scenario", "moc-multi-shot", "--target", "recall>=0.9", "--holdout-seed", "1"],
    /--holdout-seed must differ from --seed \(both 1\)/,
  ],
];

for (const [name, args, message] of BAD_OPTIONS) {
  Deno.test(`calibrate rejects ${name}: exit 2, one line, nothing written`, async () => {
    const out = `${await Deno.makeTempDir()}/out`;
    const { code, stderr } = await runCli("cli/calibrate.ts", [...args, "--out", out]);
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, /^calibrate: /);
    assert.match(stderr, message);
    assert.ok(await isEmptyOrMissing(out));
  });
}

Deno.test("calibrate reads calibration and held-out inputs from files of one shape", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = {
      name: "clip",
      latent: [4, 4, 8] as [number, number, number],
      heads: 2,
      headDim: 64,
      modelType: "wan" as const,
    };
    const calibration = await writeQkvFiles(dir, { scenario, seed: 1, name: "a" });
    const holdout = await writeQkvFiles(dir, { scenario, seed: 2, name: "b" });
    const other = await writeQkvFiles(dir, { scenario: { ...scenario, heads: 1 }, name: "c" });
    const args = ["--target", "relL2<=0.5", "--methods", "radial:block=64", "--quiet"];
    const run = await runCli("cli/calibrate.ts", [
      ...args,
      "--inputs",
      calibration.path,
      "--holdout-inputs",
      holdout.path,
      "--out",
      `${dir}/out`,
    ]);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    const record: CalibrationRecord = JSON.parse(
      await Deno.readTextFile(`${dir}/out/calibration.json`),
    );
    assert.equal(record.scenario, "clip");
    assert.equal(record.size, null);
    assert.match(record.calibrationInputs.inputs, /a\.safetensors/);
    assert.match(record.holdoutInputs.inputs, /b\.safetensors/);
    assert.equal(record.methods[0].sweep.length, 6, "radial's six decays");

    const mismatch = await runCli("cli/calibrate.ts", [
      ...args,
      "--inputs",
      calibration.path,
      "--holdout-inputs",
      other.path,
      "--out",
      `${dir}/mismatch`,
    ]);
    assert.equal(mismatch.code, 2, mismatch.stderr);
    assert.match(
      mismatch.stderr,
      /^calibrate: --holdout-inputs .*c\.safetensors: its scenario .* must have the shape of the calibration scenario/,
    );
    assert.ok(await isEmptyOrMissing(`${dir}/mismatch`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

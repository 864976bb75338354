import assert from "node:assert/strict";
import { loadResultsFolder, replaceTableBlock, resultsTables } from "../reports/results_table.ts";
import { runCli } from "./_cli.ts";
import { makeRecord, makeResults } from "./results_fixtures.ts";

const PAGE = "docs/results/nvidia-h200/README.md";

Deno.test(`${PAGE}: its GPU tables are exactly what tools/results_table.ts --write writes`, async () => {
  const page = await Deno.readTextFile(PAGE);
  const tables = resultsTables(await loadResultsFolder("docs/results/nvidia-h200"));
  assert.equal(replaceTableBlock(page, tables), page, "regenerating changes nothing");
});

Deno.test("tools/results_table.ts --write is idempotent on the committed results", async () => {
  const copy = await Deno.makeTempFile({ suffix: ".md" });
  await Deno.copyFile(PAGE, copy);
  const run = await runCli("tools/results_table.ts", ["docs/results/nvidia-h200", "--write", copy]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await Deno.readTextFile(copy), await Deno.readTextFile(PAGE));
});

Deno.test("the GPU tables show a method that does not apply as n/a, never as failed", async () => {
  const tables = resultsTables(await loadResultsFolder("docs/results/nvidia-h200"));
  assert.doesNotMatch(tables, /failed: MethodSpecError/);
  assert.match(
    tables,
    /\| sta:tile=6x8x8;window=3x3x3 \| 178592 \| 24 \| f32 \| n\/a: sta: latent/,
  );
});

Deno.test("loadResultsFolder skips a sub-folder without results.json (a peers folder)", async () => {
  const folder = await Deno.makeTempDir();
  await Deno.mkdir(`${folder}/run`);
  await Deno.copyFile(
    "docs/results/nvidia-h200/dense-f32/results.json",
    `${folder}/run/results.json`,
  );
  await Deno.mkdir(`${folder}/peers`);
  await Deno.writeTextFile(`${folder}/peers/peers.json`, "{}");
  const runs = await loadResultsFolder(folder);
  assert.deepEqual(runs.map(({ name }) => name), ["run"]);
  await Deno.remove(folder, { recursive: true });
});

Deno.test("the GPU tables name the fastest frontier setting per quality target, or none", () => {
  const point = (value: number, speedup: number, recall: number) =>
    makeRecord({
      params: { decay: value, block: 128 },
      knob: { param: "decay", value },
      speedup,
      quality: { relL2: 0.2, cosine: 0.9, psnrDb: 20, recall, crossShotRecall: null },
    });
  // The faster setting meets recall ≥ 0.90 only; the slower one meets 0.95; none meets 0.99.
  const run = makeResults([point(0.9, 3, 0.93), point(0.99, 1.5, 0.97)]);
  const tables = resultsTables([{ name: "frontier", run }]);
  assert.match(tables, /\| recall ≥ 0\.9 \| radial decay=0\.9 \(3\.00×\) \|/);
  assert.match(tables, /\| recall ≥ 0\.95 \| radial decay=0\.99 \(1\.50×\) \|/);
  assert.match(tables, /\| recall ≥ 0\.99 \| none \|/);
  assert.match(tables, /\| relL2 ≤ 0\.1 \| none \|/);
  const plain = resultsTables([{ name: "plain", run: makeResults([makeRecord()]) }]);
  assert.doesNotMatch(plain, /Fastest setting/, "a run without knobs has no target table");
});

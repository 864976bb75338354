import assert from "node:assert/strict";
import { loadResultsFolder, replaceTableBlock, resultsTables } from "../reports/results_table.ts";
import { runCli } from "./_cli.ts";

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

import assert from "node:assert/strict";
import { loadResultsFolder, replaceTableBlock, resultsTables } from "../reports/results_table.ts";

Deno.test("README's GPU tables are generated from docs/results/nvidia-h200 (not typed by hand)", async () => {
  const readme = await Deno.readTextFile("README.md");
  const tables = resultsTables(await loadResultsFolder("docs/results/nvidia-h200"));
  const regenerated = replaceTableBlock(readme, tables);
  const normalise = (text: string) =>
    text.replace(/\s+/g, " ").replace(/ ?\| ?/g, "|").replace(/-{3,}/g, "---");
  assert.equal(normalise(readme), normalise(regenerated));
});

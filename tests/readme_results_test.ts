import assert from "node:assert/strict";
import { loadResultsFolder, replaceTableBlock, resultsTables } from "../reports/results_table.ts";

Deno.test("README's GPU tables are generated from docs/results/h100 (not typed by hand)", async () => {
  const readme = await Deno.readTextFile("README.md");
  const tables = resultsTables(await loadResultsFolder("docs/results/h100"));
  const regenerated = replaceTableBlock(readme, tables);
  const normalise = (text: string) =>
    text.replace(/\s+/g, " ").replace(/ ?\| ?/g, "|").replace(/-{3,}/g, "---");
  assert.equal(normalise(readme), normalise(regenerated));
});

import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";

/** A table row without its last cell (layout ms, a wall time that varies). */
function figures(row: string): string {
  return row.trim().split(/ {2,}/).slice(0, -1).join(" | ");
}

Deno.test("README's plan example is what that command prints (all but the layout time)", async () => {
  const readme = await Deno.readTextFile("README.md");
  const block = readme.match(/```\n\$ deno task plan (.*)\n([\s\S]*?)```/);
  assert.ok(block, "README quotes a plan command");
  const [, args, quoted] = block;
  const out = await Deno.makeTempDir();
  const run = await runCli("cli/plan.ts", [...args.split(" "), "--out", out]);
  assert.equal(run.code, 0, run.stderr);
  const quotedRows = quoted.trim().split("\n");
  const printedRows = run.stdout.split("\n").slice(0, quotedRows.length);
  assert.deepEqual(printedRows.map(figures), quotedRows.map(figures));
});

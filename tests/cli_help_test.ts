import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";

const HELP_SCRIPTS = [
  ["cli/list.ts", "usage: deno task list"],
  ["tools/tiling_sweep.ts", "usage: deno run -A tools/tiling_sweep.ts"],
  ["tools/results_table.ts", "usage: deno run -A tools/results_table.ts"],
  ["tools/make_qkv_files.ts", "usage: deno run -A tools/make_qkv_files.ts"],
] as const;

for (const [script, usage] of HELP_SCRIPTS) {
  Deno.test(`${script} --help prints its usage and exits 0`, async () => {
    const { code, stdout, stderr } = await runCli(script, ["--help"]);
    assert.equal(code, 0, stderr);
    assert.ok(stdout.startsWith(usage), stdout);
  });
}

Deno.test("an unknown option is one line naming the valid options, exit 2", async () => {
  const { code, stderr } = await runCli("cli/bench.ts", ["--bogus"]);
  assert.equal(code, 2);
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(
    lines[0],
    /^bench: unknown option '--bogus' \(valid: --scenario, --size, .*--tiling.*\)$/,
  );
});

Deno.test("--heads -1 is one line naming the allowed range, exit 2", async () => {
  const { code, stderr } = await runCli("cli/bench.ts", ["--heads", "-1"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim(), 'bench: --heads must be an integer 1..256 (got "-1")');
});

/**
 * A run killed with SIGKILL in the middle leaves what earlier runs wrote untouched: their
 * results folder and the history file, byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

function benchArgs(out: string, history: string, extra: string[]): string[] {
  return [
    ...["run", "--allow-all", "cli/bench.ts", "--quiet", "--no-quality", "--warmup", "0"],
    ...["--history", history, "--out", out, ...extra],
  ];
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) files.set(entry.name, await Deno.readTextFile(join(dir, entry.name)));
  }
  return files;
}

Deno.test("SIGKILL during a run leaves earlier results and the history intact", async () => {
  const dir = await Deno.makeTempDir();
  const history = join(dir, "history.jsonl");
  const earlier = join(dir, "earlier");
  const first = await new Deno.Command(Deno.execPath(), {
    args: benchArgs(earlier, history, [
      ...["--scenario", "tests/fixtures/tiny_tiled.json", "--methods", "dense", "--repeats", "3"],
    ]),
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
  const historyBefore = await Deno.readTextFile(history);
  assert.equal(historyBefore.trim().split("\n").length, 1);
  const earlierBefore = await snapshot(earlier);
  assert.ok(earlierBefore.has("results.json") && earlierBefore.has("results.csv"));

  // About a minute of work (dense at ci size, 1.2 s a repeat on llvmpipe), killed after 5 s.
  const killed = join(dir, "killed");
  const child = new Deno.Command(Deno.execPath(), {
    args: benchArgs(killed, history, [
      ...["--scenario", "hunyuan-117f-768x1280", "--size", "ci", "--heads", "1"],
      ...["--methods", "dense,radial", "--repeats", "50", "--budget-ms", "600000"],
    ]),
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "the run was still going when killed");

  assert.equal(await Deno.readTextFile(history), historyBefore, "history unchanged");
  assert.deepEqual(await snapshot(earlier), earlierBefore, "earlier results unchanged");
  await Deno.remove(dir, { recursive: true });
});

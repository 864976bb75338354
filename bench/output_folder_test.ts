import { deepEqual, equal, notEqual } from "node:assert/strict";
import { join } from "node:path";
import { publishFolder, publishNewFolder, stagingFolder } from "./output_folder.ts";

async function stagedRun(target: string, text: string): Promise<string> {
  const staged = await stagingFolder(target);
  await Deno.writeTextFile(join(staged, "results.json"), text);
  await Deno.mkdir(join(staged, "masks", "s"), { recursive: true });
  await Deno.writeTextFile(join(staged, "masks", "s", "m.mask.png"), text);
  return staged;
}

async function names(dir: string): Promise<string[]> {
  const found = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("two runs publishing to the same default folder at once get two folders", async () => {
  const root = await Deno.makeTempDir();
  const base = join(root, "results", "2026-01-01T00-00-00");
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(join(base, "results.json"), "older run");
  const [first, second] = await Promise.all([
    publishNewFolder(await stagedRun(base, "run 1"), base),
    publishNewFolder(await stagedRun(base, "run 2"), base),
  ]);
  notEqual(first, second);
  deepEqual([first, second].sort(), [`${base}-2`, `${base}-3`]);
  equal(await Deno.readTextFile(join(base, "results.json")), "older run");
  const texts = await Promise.all(
    [first, second].map((d) => Deno.readTextFile(`${d}/results.json`)),
  );
  deepEqual(texts.sort(), ["run 1", "run 2"]);
  deepEqual(await names(join(root, "results")), [
    "2026-01-01T00-00-00",
    "2026-01-01T00-00-00-2",
    "2026-01-01T00-00-00-3",
  ]);
});

Deno.test("publishing into an existing folder replaces the set's files and keeps the others", async () => {
  const root = await Deno.makeTempDir();
  const target = join(root, "out");
  await Deno.mkdir(target);
  await Deno.writeTextFile(join(target, "results.json"), "old");
  await Deno.writeTextFile(join(target, "notes.txt"), "mine");
  await publishFolder(await stagedRun(target, "new"), target);
  equal(await Deno.readTextFile(join(target, "results.json")), "new");
  equal(await Deno.readTextFile(join(target, "masks", "s", "m.mask.png")), "new");
  equal(await Deno.readTextFile(join(target, "notes.txt")), "mine");
  deepEqual(await names(root), ["out"], "the staging folder is gone");
});

import { equal } from "node:assert/strict";
import { join } from "node:path";
import { COMMIT_ENV, gitCommit } from "./run_meta.ts";

const HASH = "0123456789abcdef0123456789abcdef01234567";
const noEnv = () => undefined;

/** A folder whose `.git` holds only HEAD and refs: git itself cannot read it, the file path can. */
async function fakeRepo(head: string, files: Record<string, string> = {}): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "longshot-commit-" });
  await Deno.mkdir(join(root, ".git", "refs", "heads"), { recursive: true });
  await Deno.writeTextFile(join(root, ".git", "HEAD"), head);
  for (const [path, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(root, ".git", path), text);
  }
  return root;
}

Deno.test(`${COMMIT_ENV} names the commit where the copy has no git (the GPU machine)`, async () => {
  const empty = await Deno.makeTempDir();
  equal(await gitCommit({ env: (name) => name === COMMIT_ENV ? "abc1234" : undefined }), "abc1234");
  equal(await gitCommit({ env: noEnv, cwd: empty }), null, "nothing tells: null, shown as unknown");
  await Deno.remove(empty);
});

Deno.test("without the git binary's help, .git/HEAD is read through a loose or packed ref", async () => {
  const loose = await fakeRepo("ref: refs/heads/main\n", { "refs/heads/main": `${HASH}\n` });
  equal(await gitCommit({ env: noEnv, cwd: loose }), HASH.slice(0, 12));
  const packed = await fakeRepo("ref: refs/heads/main\n", {
    "packed-refs": `# pack-refs with: peeled\n${HASH} refs/heads/main\n`,
  });
  equal(await gitCommit({ env: noEnv, cwd: packed }), HASH.slice(0, 12));
  const detached = await fakeRepo(`${HASH}\n`);
  equal(await gitCommit({ env: noEnv, cwd: detached }), HASH.slice(0, 12));
  for (const root of [loose, packed, detached]) await Deno.remove(root, { recursive: true });
});

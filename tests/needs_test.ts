import assert from "node:assert/strict";
import { GPU_GROUP_PREFIX, GROUP_ENV, IGNORE_LOG_ENV, REQUIRED_ENV } from "./needs.ts";
import { runDeno } from "./_cli.ts";

const FIXTURE = new URL("./fixtures/needs_fixture.ts", import.meta.url).pathname;

/** `deno test` of the fixture with `env` (none of the parent's switches): exit code and report. */
async function runFixture(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const run = await runDeno(["test", "--allow-all", "--no-check", FIXTURE], {
    env: { [IGNORE_LOG_ENV]: "", [REQUIRED_ENV]: "", [GROUP_ENV]: "", ...env },
  });
  return { code: run.code, out: run.stdout + run.stderr };
}

Deno.test("an unmet need ignores the test, names what is missing and logs it", async () => {
  const log = await Deno.makeTempFile();
  const { code, out } = await runFixture({ [IGNORE_LOG_ENV]: log });
  assert.equal(code, 0, out);
  assert.match(out, /met need \.\.\. ok/);
  assert.match(out, /unmet need \(ignored: no chromium here\) \.\.\. ignored/);
  assert.match(out, /ok \| 1 passed \| 0 failed \| 1 ignored/);
  assert.doesNotMatch(out, /group on/, "the GPU group is left out of a plain run");
  const lines = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines, [{ need: "chromium", test: "unmet need", missing: "no chromium here" }]);
  await Deno.remove(log);
});

Deno.test("a need the machine must meet fails the test instead of ignoring it", async () => {
  const { code, out } = await runFixture({ [REQUIRED_ENV]: "shader-f16,chromium" });
  assert.equal(code, 1, out);
  assert.match(out, /requires chromium on this machine, but no chromium here/);
  assert.match(out, /1 passed \| 1 failed/);
  const bad = await runFixture({ [REQUIRED_ENV]: "chrome" });
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.out,
    /LONGSHOT_TEST_REQUIRES must list needs of shader-f16, chromium, gpu, gl-adapter \(got chrome\)/,
  );
});

Deno.test("the GPU group runs under its switch, ignored on a software adapter", async () => {
  const { code, out } = await runFixture({ [GROUP_ENV]: "gpu" });
  assert.equal(code, 0, out);
  const prefix = GPU_GROUP_PREFIX.replace("[", "\\[").replace("]", "\\]");
  assert.match(out, new RegExp(`${prefix}group on hardware \\.\\.\\. ok`));
  assert.match(
    out,
    new RegExp(`${prefix}group on software \\(ignored: adapter "soft adapter" is a software`),
  );
});

Deno.test("deno task test:gpu names every test file that registers a GPU-group test", async () => {
  const task: string = JSON.parse(await Deno.readTextFile("deno.json")).tasks["test:gpu"];
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory && !/^(\.|node_modules|results)/.test(entry.name)) await walk(path);
      if (entry.isFile && path.endsWith("_test.ts")) {
        if (/^\s*gpuGroupTest\(/m.test(await Deno.readTextFile(path))) files.push(path);
      }
    }
  };
  await walk(".");
  assert.ok(files.length > 0, "no test file registers a GPU-group test");
  for (const file of files) {
    assert.ok(task.includes(file), `deno task test:gpu does not run ${file}`);
  }
});

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { denseMask } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { methodKnob, resolveMethod } from "./registry.ts";
import { loadUserMethod } from "./user_module.ts";
import { frameOfToken, type Scenario } from "../scenarios/scenario.ts";

const scenario: Scenario = {
  name: "tiny",
  latent: [5, 4, 6],
  text: { tokens: 10, position: "prefix" },
  shots: [5],
  textSegments: [10],
  heads: 1,
  headDim: 64,
  modelType: "hunyuan",
};

const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;

async function withModules(
  sources: Record<string, string>,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "longshot-user-module-" });
  try {
    for (const [name, text] of Object.entries(sources)) {
      await Deno.writeTextFile(join(dir, name), text.replaceAll("$ROOT", root));
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the example module's mask compiles to exactly its pairs", async () => {
  const method = await resolveMethod(join(here, "../examples/my_method.ts"));
  equal(method.name, "my_method");
  const layout = await method.layout(scenario, {});
  const form = layout.forms[0];
  equal(form.blockSize, 128);
  const mask = denseMask(form);
  const L = form.tokens;
  for (let q = 0; q < L; q++) {
    for (let k = 0; k < L; k++) {
      const fq = frameOfToken(scenario, q);
      const fk = frameOfToken(scenario, k);
      const want = fq < 0 || fk < 0 || Math.abs(fq - fk) <= 1 ? 1 : 0;
      equal(mask[q * L + k], want, `pair (${q}, ${k})`);
    }
  }
});

Deno.test("a module exporting a MethodDefinition gets the spec's parameters", async () => {
  await withModules({
    "def.ts": `
      import { denseForm } from "$ROOT/form/form.ts";
      import { resolveParams } from "$ROOT/methods/spec.ts";
      export const method = {
        name: "mine", summary: "test", defaults: { width: 2 }, paramDocs: {},
        create(given) {
          const params = resolveParams("mine", { width: 2 }, given);
          return { name: "mine", params, dynamic: false,
            layout: (s) => ({ forms: [denseForm(4)], routingFlops: 0 }) };
        },
      };`,
  }, async (dir) => {
    const method = await resolveMethod(`${join(dir, "def.ts")}:width=5`);
    deepEqual(method.params, { width: 5 });
    await rejects(resolveMethod(`${join(dir, "def.ts")}:depth=5`), /unknown parameter "depth"/);
  });
});

Deno.test("a bad module gets a MethodSpecError saying what is missing", async () => {
  await withModules({
    "empty.ts": "export const nothing = 1;",
    "no_block.ts": "export const mask = () => true;",
    "bad_method.ts": "export const method = { name: 'x' };",
    "mask.ts": "export const mask = () => true; export const blockSize = 64;",
  }, async (dir) => {
    const expect = async (spec: string, pattern: RegExp) => {
      await rejects(loadUserMethod(spec, {}), (e: Error) => {
        ok(e instanceof MethodSpecError, e.message);
        ok(pattern.test(e.message), e.message);
        ok(!e.message.includes("\n"), "one line");
        return true;
      });
    };
    await expect(join(dir, "empty.ts"), /must export "method".*or "mask"/);
    await expect(join(dir, "no_block.ts"), /exports "mask" but no "blockSize"/);
    await expect(join(dir, "bad_method.ts"), /"method" must be a Method/);
    await expect(join(dir, "missing.ts"), /cannot load module/);
    await rejects(
      loadUserMethod(join(dir, "mask.ts"), { k: 3 }),
      /takes no parameters \(got k\)/,
    );
    const method = await loadUserMethod(join(dir, "mask.ts"), {});
    equal(method.name, "mask");
    equal(method.params.block, 64);
  });
});

Deno.test("user code that hangs or exits fails its own call within the time limit", async () => {
  await withModules({
    "spin.ts": "export const blockSize = 8; export const mask = () => { while (true) {} };",
    "never.ts": `
      export const method = { name: "never", params: {}, dynamic: false,
        layout: () => new Promise(() => {}) };`,
    "exit_top.ts": "Deno.exit(0); export const blockSize = 8; export const mask = () => true;",
    "exit_mask.ts": "export const blockSize = 8; export const mask = () => Deno.exit(0);",
  }, async (dir) => {
    const limit = { timeLimitMs: 1500 };
    for (const name of ["spin.ts", "never.ts"]) {
      const method = await loadUserMethod(join(dir, name), {}, limit);
      await rejects(Promise.resolve(method.layout(scenario, {})), (e: Error) => {
        equal(e.name, "UserCodeTimeoutError");
        match(e.message, /layout\(\) did not finish within 1\.5 s/);
        return true;
      });
    }
    await rejects(loadUserMethod(join(dir, "exit_top.ts"), {}, limit), /Deno\.exit\(0\)/);
    const exiting = await loadUserMethod(join(dir, "exit_mask.ts"), {}, limit);
    await rejects(Promise.resolve(exiting.layout(scenario, {})), /Deno\.exit\(0\)/);
  });
});

Deno.test("a mask must return a boolean; create() errors are one line", async () => {
  await withModules({
    "nan.ts": "export const blockSize = 8; export const mask = () => NaN;",
    "yes.ts": "export const blockSize = 8; export const mask = () => 'yes';",
    "create.ts": `export const method = { name: "c", summary: "", defaults: {}, paramDocs: {},
      create() { return null.layout; } };`,
  }, async (dir) => {
    for (const [name, shown] of [["nan.ts", "null"], ["yes.ts", '"yes"']]) {
      const method = await loadUserMethod(join(dir, name), {});
      await rejects(Promise.resolve(method.layout(scenario, {})), (e: Error) => {
        ok(e.message.includes(`mask must return a boolean (got ${shown} for q=0, k=0)`), e.message);
        return true;
      });
    }
    await rejects(loadUserMethod(join(dir, "create.ts"), {}), (e: Error) => {
      ok(e instanceof MethodSpecError);
      match(e.message, /create\(\) threw TypeError: Cannot read properties of null/);
      ok(!e.message.includes("\n"), "one line");
      return true;
    });
  });
});

Deno.test("a module's knob joins sweeps: its grid is read in the worker", async () => {
  const knob = await methodKnob(join(root, "tests/fixtures/knob_method.ts"), scenario);
  deepEqual(knob, { param: "band", summary: "narrower is sparser", values: [2, 1, 0] });
  equal(await methodKnob(join(here, "../examples/my_method.ts"), scenario), null, "a mask module");
});

Deno.test("a malformed knob is a MethodSpecError naming the module", async () => {
  await withModules({
    "bad_param.ts": `export const method = { name: "m", defaults: { a: 1 }, create() {},
      knob: { param: "b", summary: "", grid: () => [1] } };`,
    "bad_grid.ts": `export const method = { name: "m", defaults: { a: 1 }, create() {},
      knob: { param: "a", summary: "", grid: () => [{}] } };`,
  }, async (dir) => {
    await rejects(
      methodKnob(join(dir, "bad_param.ts"), scenario),
      (error: Error) =>
        error instanceof MethodSpecError &&
        /knob\.param must name a parameter of defaults \(allowed: a; got b\)/.test(error.message),
    );
    await rejects(
      methodKnob(join(dir, "bad_grid.ts"), scenario),
      /knob\.grid\(scenario\) must return a non-empty list/,
    );
  });
});

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { attendedPairs, denseMask, executedPairs, validateForm } from "../form/form.ts";
import { radial } from "../methods/radial.ts";
import { preset } from "../scenarios/presets.ts";
import { method } from "./slowed_method.ts";

Deno.test("the slowed test method attends exactly Radial's pairs but executes all L² of them", async () => {
  const scenario = { ...preset("hunyuan-117f-768x1280", "ci"), heads: 1 };
  const [base] = (await radial.create({}).layout(scenario, {})).forms;
  const slowed = method.create({});
  equal(slowed.name, "radial");
  deepEqual(slowed.params, radial.create({}).params);
  const [padded] = (await slowed.layout(scenario, {})).forms;
  validateForm(padded);
  equal(attendedPairs(padded), attendedPairs(base));
  deepEqual(denseMask(padded), denseMask(base));
  equal(executedPairs(padded), padded.tokens ** 2);
  ok(executedPairs(base) < executedPairs(padded), "Radial itself skips work");
});

const decoder = new TextDecoder();

async function cli(script: string, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("compare catches a real slowdown end to end: bench, bench slowed, compare exits 1", async () => {
  const dir = await Deno.makeTempDir();
  const sta = "tile=2x4x4;window=1x1x1";
  const bench = (methods: string, out: string) =>
    cli("cli/bench.ts", [
      ...["--quiet", "--no-history", "--no-quality", "--warmup", "1", "--repeats", "10"],
      ...["--scenario", "tests/fixtures/small_tiled.json", "--methods", methods, "--out", out],
    ]);
  const base = await bench(`dense,sta:${sta}`, `${dir}/base`);
  equal(base.code, 0, base.stderr);
  const slowed = await bench(`dense,./tests/slowed_method.ts:base=sta;${sta}`, `${dir}/slowed`);
  equal(slowed.code, 0, slowed.stderr);
  const compared = await cli("cli/compare.ts", [`${dir}/base`, `${dir}/slowed`]);
  equal(compared.code, 1, compared.stdout + compared.stderr);
  match(
    compared.stdout,
    /\| small-tiled · sta:tile=2x4x4;window=1x1x1 · f32 · [^|]+ \| latency \|/,
  );
  await Deno.remove(dir, { recursive: true });
});

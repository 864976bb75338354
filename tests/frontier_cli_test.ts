/**
 * `deno task bench --suite frontier` end to end (docs/frontier.md): `--methods` narrows the sweep;
 * per scenario one dense reference, then each method at every setting of its knob's grid, each
 * record naming its knob setting; a user module's knob is swept like a built-in one; a failing
 * point is recorded and the sweep goes on (exit 1); a static method's identical layouts are timed
 * once; a scenario with a schedule gets a whole run per point; the report holds the frontier
 * section.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { ResultsFile } from "../records/schema.ts";
import { METHODS } from "../methods/registry.ts";
import { frontierPoints } from "../records/frontier.ts";
import { preset } from "../scenarios/presets.ts";
import { runCli } from "./_cli.ts";

Deno.test("bench --suite frontier sweeps each knob once per setting, dense once", async () => {
  const out = await Deno.makeTempDir();
  const run = await runCli("cli/bench.ts", [
    "--quiet",
    "--no-history",
    "--suite",
    "frontier",
    "--scenario",
    "hunyuan-117f-768x1280",
    "--methods",
    "moc,radial,./tests/fixtures/knob_method.ts",
    "--heads",
    "1",
    "--warmup",
    "0",
    "--repeats",
    "3",
    "--out",
    out,
  ]);
  equal(run.code, 1, `the band=0 point fails, so bench exits 1\n${run.stderr}`);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  equal(results.suite, "frontier@1");
  const points = results.records.map((r) => [r.method, r.knob?.value ?? null]);
  const ci = preset("hunyuan-117f-768x1280", "ci");
  const mocGrid = METHODS.get("moc")!.knob!.grid(ci);
  const radialGrid = METHODS.get("radial")!.knob!.grid(ci);
  deepEqual(points, [
    ["dense", null],
    ...mocGrid.map((k) => ["moc", k]),
    ...radialGrid.map((decay) => ["radial", decay]),
    ["band", 2],
    ["band", 1],
    ["band", 0],
  ]);
  const param = { moc: "k", radial: "decay", band: "band" } as Record<string, string>;
  for (const record of results.records.slice(1)) {
    equal(record.knob?.param, param[record.method]);
    deepEqual(record.params[record.knob!.param], record.knob!.value, "the setting ran");
  }
  // At ci size every decay gives Radial the same layout: timed once, reused (noted) after that.
  const radial = results.records.filter((r) => r.method === "radial");
  equal(new Set(radial.map((r) => r.layoutDigest)).size, 1, "one radial layout at ci");
  const reused = (r: (typeof radial)[number]) =>
    r.notes.some((n) => n.startsWith("same layout as"));
  deepEqual(radial.map(reused), radialGrid.map((_, i) => i > 0));
  ok(radial.every((r) => r.latency?.samples.join() === radial[0].latency?.samples.join()));
  equal(radial[5].quality?.recall, radial[0].quality?.recall);
  // A dynamic method routes at every setting, even where the layouts agree.
  ok(!results.records.some((r) => r.method === "moc" && reused(r)), "moc is never reused");
  const failed = results.records.filter((r) => r.error);
  deepEqual(failed.map((r) => r.knob?.value), [0]);
  match(failed[0].error!, /band 0 attends nothing/);
  // hunyuan has a schedule: one whole run per point, each naming its setting.
  deepEqual(
    results.wholeRun?.map((w) => [w.method, w.knob?.value]),
    [
      ...mocGrid.map((k) => [`moc:k=${k}`, k]),
      ...radialGrid.map((decay) => [`radial:decay=${decay}`, decay]),
      ...[2, 1, 0].map((b) => [
        `./tests/fixtures/knob_method.ts:band=${b}`,
        b,
      ]),
    ],
  );
  // Each point that ran joins its whole run, a module's too (records name it "band").
  const joined = frontierPoints(results.records, results.wholeRun);
  deepEqual(
    joined.filter((p) => p.wholeRunMs === null).map((p) => `${p.method} ${p.setting}`),
    [],
    "every point has its whole-run time",
  );
  equal(joined.filter((p) => p.method === "band").length, 2, "band=2 and band=1 ran");
  const html = await Deno.readTextFile(`${out}/report.html`);
  ok(html.includes('id="frontier"'), "the report has the frontier section");
  match(html, /<th scope="row">recall ≥ 0\.9<\/th>/);
  await Deno.remove(out, { recursive: true });
});

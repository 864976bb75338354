import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { loadResults, ResultsInputError, validateResults } from "./results_input.ts";
import { formatShard, shardCases } from "./shards.ts";
import { caseKey } from "./case_key.ts";
import { makeRecord, makeResults } from "../tests/results_fixtures.ts";

Deno.test("validateResults names the file and the first bad field", () => {
  const good = makeResults([makeRecord()]);
  deepEqual(validateResults(good, "a.json"), good);
  const broken = (patch: Record<string, unknown>) =>
    makeResults([{ ...makeRecord(), ...patch } as ReturnType<typeof makeRecord>]);
  throws(
    () => validateResults(broken({ flops: "12" }), "a.json"),
    /^ResultsInputError: a\.json: records\[0\]\.flops must be a number or null/,
  );
  throws(
    () =>
      validateResults(
        broken({ latency: { ...makeRecord().latency, samples: [1, null] } }),
        "b.json",
      ),
    /b\.json: records\[0\]\.latency\.samples must be an array of finite numbers/,
  );
  throws(
    () => validateResults({ ...good, schema: "longshot.results/0" }, "c.json"),
    /c\.json: schema must be "longshot\.results\/1"/,
  );
  throws(
    () => validateResults({ ...good, shard: "3/2" }, "d.json"),
    /d\.json: shard: --shard I must be in 1\.\.2/,
  );
  throws(
    () => validateResults(makeResults([makeRecord(), makeRecord()]), "e.json"),
    /e\.json: records\[1\] repeats the case of records\[0\]/,
  );
  throws(() => validateResults([], "f.json"), ResultsInputError);
  throws(
    () => validateResults(broken({ kernelEfficiency: "0.9" }), "g.json"),
    /g\.json: records\[0\]\.kernelEfficiency must be a number or null/,
  );
  throws(
    () =>
      validateResults(
        broken({ latency: { ...makeRecord().latency, routingStages: { route: "2" } } }),
        "i.json",
      ),
    /i\.json: records\[0\]\.latency\.routingStages must be an object of stage names/,
  );
  const staged = makeResults([{
    ...makeRecord(),
    latency: { ...makeRecord().latency, routingStages: { route: 2 } },
  } as ReturnType<typeof makeRecord>]);
  deepEqual(validateResults(staged, "j.json"), staged);
  // Files written before kernelEfficiency existed lack it, and stay valid.
  const older = makeResults([{ ...makeRecord(), kernelEfficiency: undefined }]);
  deepEqual(validateResults(older, "h.json"), older);
});

Deno.test("loadResults reads a file, a folder with results.json, or a folder of shards", async () => {
  const dir = await Deno.makeTempDir();
  const cases = Array.from({ length: 5 }, (_, i) => makeRecord({ scenario: `s${i}` }));
  const whole = makeResults(cases);
  await Deno.mkdir(join(dir, "run"));
  await Deno.writeTextFile(join(dir, "run", "results.json"), JSON.stringify(whole));
  deepEqual(await loadResults(join(dir, "run", "results.json")), whole);
  deepEqual(await loadResults(join(dir, "run")), whole);

  for (const index of [1, 2, 3]) {
    const shard = { index, count: 3 };
    const folder = join(dir, "sharded", `longshot-shard-${index}`);
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(
      join(folder, "results.json"),
      JSON.stringify(makeResults(shardCases(cases, shard), { shard: formatShard(shard) })),
    );
  }
  const merged = await loadResults(join(dir, "sharded"));
  deepEqual(merged.records.map(caseKey), cases.map(caseKey));
  equal(merged.shard, null);

  await Deno.remove(join(dir, "sharded", "longshot-shard-2"), { recursive: true });
  await rejects(loadResults(join(dir, "sharded")), /sharded: missing shard 2\/3/);
  await rejects(loadResults(join(dir, "nowhere")), /nowhere: no such file or folder/);
  await Deno.mkdir(join(dir, "empty"));
  await rejects(loadResults(join(dir, "empty")), /empty: holds no results\.json/);
  await Deno.writeTextFile(join(dir, "bad.json"), "{ not json");
  await rejects(loadResults(join(dir, "bad.json")), /bad\.json: not JSON/);
  await Deno.remove(dir, { recursive: true });
});

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { appendHistory, HISTORY_SCHEMA, historyTrendData, readHistory } from "./history.ts";
import { caseKey } from "./case_key.ts";
import { jitteredSamples, latencyOf, makeRecord, makeResults } from "../tests/results_fixtures.ts";

function run(commit: string, centre: number) {
  return makeResults(
    [
      makeRecord({ latency: latencyOf(jitteredSamples(centre, 8, centre, 0.05)) }),
      makeRecord({ method: "dense", params: {}, latency: null, error: "device lost" }),
    ],
    { commit, date: `2025-01-0${centre}T00:00:00.000Z` },
  );
}

Deno.test("appended runs read back as entries with per-case summaries", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "new-folder", "history.jsonl");
  await appendHistory(path, run("aaa", 1));
  await appendHistory(path, run("bbb", 2));
  const { entries, warnings } = await readHistory(path);
  deepEqual(warnings, []);
  deepEqual(entries.map((e) => [e.schema, e.commit]), [[HISTORY_SCHEMA, "aaa"], [
    HISTORY_SCHEMA,
    "bbb",
  ]]);
  const record = run("bbb", 2).records[0];
  const first = entries[1].cases[0];
  deepEqual(
    [first.key, first.median, first.p10, first.p90, first.flops, first.tokenSparsity, first.relL2],
    [
      caseKey(record),
      record.latency!.median,
      record.latency!.p10,
      record.latency!.p90,
      record.flops,
      record.tokenSparsity,
      record.quality!.relL2,
    ],
  );
  equal(entries[1].cases[1].error, "device lost");
  const text = await Deno.readTextFile(path);
  equal(text.split("\n").length, 3, "two lines, each ending in a newline");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a truncated last line is reported by number and appending after it works", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "history.jsonl");
  await appendHistory(path, run("aaa", 1));
  await appendHistory(path, run("bbb", 2));
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text.slice(0, text.length - 40));

  const damaged = await readHistory(path);
  deepEqual(damaged.entries.map((e) => e.commit), ["aaa"]);
  equal(damaged.warnings.length, 1);
  equal(damaged.warnings[0].line, 2);
  match(damaged.warnings[0].message, /not JSON/);

  await appendHistory(path, run("ccc", 3));
  const repaired = await readHistory(path);
  deepEqual(repaired.entries.map((e) => e.commit), ["aaa", "ccc"]);
  deepEqual(repaired.warnings.map((w) => w.line), [2]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lines of another schema are warnings, not entries", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "history.jsonl");
  await Deno.writeTextFile(path, '{"schema":"longshot.history/9","cases":[]}\n[1]\n');
  await appendHistory(path, run("aaa", 1));
  const { entries, warnings } = await readHistory(path);
  equal(entries.length, 1);
  deepEqual(warnings.map((w) => w.line), [1, 2]);
  match(warnings[0].message, /schema must be longshot\.history\/1/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trend rows hold timed, successful cases of every run in order", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "history.jsonl");
  for (const [commit, centre] of [["aaa", 1], ["bbb", 2], ["ccc", 3]] as const) {
    await appendHistory(path, run(commit, centre));
  }
  const rows = historyTrendData((await readHistory(path)).entries);
  deepEqual(rows.map((r) => r.commit), ["aaa", "bbb", "ccc"]);
  ok(rows.every((r) => r.p10 <= r.median && r.median <= r.p90));
  ok(rows[0].median < rows[1].median && rows[1].median < rows[2].median);
  await Deno.remove(dir, { recursive: true });
});

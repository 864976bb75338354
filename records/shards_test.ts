import { deepEqual, equal, throws } from "node:assert/strict";
import { formatShard, mergeShards, parseShard, shardCases, ShardError } from "./shards.ts";
import { caseKey } from "./case_key.ts";
import { makeRecord, makeResults } from "../tests/results_fixtures.ts";

const cases = Array.from({ length: 11 }, (_, i) => makeRecord({ scenario: `s${i}` }));

function shardFiles(count: number) {
  return Array.from({ length: count }, (_, k) => {
    const shard = { index: k + 1, count };
    return makeResults(shardCases(cases, shard), { shard: formatShard(shard) });
  });
}

Deno.test("parseShard accepts 1-based I/N and names the allowed range otherwise", () => {
  deepEqual(parseShard("3/3"), { index: 3, count: 3 });
  deepEqual(parseShard(" 1 / 1 "), { index: 1, count: 1 });
  for (const bad of ["0/3", "4/3", "1/0", "a/3", "2", "-1/3", "1.5/3"]) {
    throws(() => parseShard(bad), ShardError, bad);
  }
  throws(() => parseShard("4/3"), /--shard I must be in 1\.\.3 \(got "4\/3"\)/);
  throws(() => shardCases(cases, { index: 0, count: 2 }), ShardError);
});

Deno.test("shards 1/3, 2/3, 3/3 hold every case once and merge to the unsharded list", () => {
  const files = shardFiles(3);
  deepEqual(files.map((f) => f.records.length), [4, 4, 3]);
  const merged = mergeShards([files[2], files[0], files[1]]);
  deepEqual(merged.records.map(caseKey), cases.map(caseKey));
  equal(merged.shard, null);
  for (const count of [1, 2, 5, 11, 13]) {
    deepEqual(
      mergeShards(shardFiles(count)).records.map(caseKey),
      cases.map(caseKey),
      `N ${count}`,
    );
  }
});

Deno.test("a missing shard, a shard twice or a duplicated case is an error naming it", () => {
  const [one, two, three] = shardFiles(3);
  throws(
    () => mergeShards([one, three], { sources: ["a", "c"] }),
    /missing shard 2\/3 \(have 1\/3, 3\/3\)/,
  );
  throws(
    () => mergeShards([one, two, two, three], { sources: ["a", "b", "b2", "c"] }),
    /shard 2\/3 appears twice: b, b2/,
  );
  const stolen = { ...three, records: [...three.records, two.records[0]] };
  throws(
    () => mergeShards([one, two, stolen], { sources: ["a", "b", "c"] }),
    new RegExp(`case ${caseKey(two.records[0])} is in both 2/3 \\(b\\) and 3/3 \\(c\\)`),
  );
  throws(() => mergeShards([one, { ...two, shard: "2/4" }]), /shards disagree on N/);
  throws(() => mergeShards([one, { ...two, commit: "other" }, three]), /disagree on commit/);
  throws(
    () => mergeShards([makeResults(cases)], { sources: ["whole.json"] }),
    /whole\.json: shard is null/,
  );
});

Deno.test("a merged run keeps every shard's command line, in shard order", () => {
  const files = shardFiles(2).map((file, k) => ({
    ...file,
    command: `deno task bench --shard ${k + 1}/2`,
  }));
  equal(
    mergeShards([files[1], files[0]]).command,
    "deno task bench --shard 1/2\ndeno task bench --shard 2/2",
  );
});

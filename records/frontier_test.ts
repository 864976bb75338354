import { deepEqual, equal } from "node:assert/strict";
import {
  fastestMeeting,
  frontierPoints,
  type ParetoCandidate,
  paretoFront,
  targetTable,
} from "./frontier.ts";
import { makeRecord } from "../tests/results_fixtures.ts";
import type { BenchRecord, WholeRunSummary } from "./schema.ts";

const point = (setting: string, speed: number, quality: number): ParetoCandidate => ({
  method: "m",
  setting,
  speed,
  quality,
});

Deno.test("paretoFront: recall, a hand-computed front of six points", () => {
  // a (1, .99) b (1.5, .97) c (2, .97) d (2, .90) e (3, .85) f (2.5, .80)
  // b is dominated by c (faster, same recall); d by c; f by e (faster, better).
  const points = [
    point("a", 1, 0.99),
    point("b", 1.5, 0.97),
    point("c", 2, 0.97),
    point("d", 2, 0.9),
    point("e", 3, 0.85),
    point("f", 2.5, 0.8),
  ];
  deepEqual(paretoFront(points, "recall").map((p) => p.setting), ["a", "c", "e"]);
});

Deno.test("paretoFront: relL2 is lower-is-better, so the front flips", () => {
  // Same coordinates as errors: a (1, .01) c (2, .05) e (3, .2) f (2.5, .3) d (2, .03)
  const points = [
    point("a", 1, 0.01),
    point("c", 2, 0.05),
    point("d", 2, 0.03),
    point("e", 3, 0.2),
    point("f", 2.5, 0.3),
  ];
  deepEqual(paretoFront(points, "relL2").map((p) => p.setting), ["a", "d", "e"]);
});

Deno.test("paretoFront: identical points both stay; one point is its own front", () => {
  deepEqual(
    paretoFront([point("x", 2, 0.9), point("y", 2, 0.9)], "recall").map((p) => p.setting),
    ["x", "y"],
  );
  deepEqual(paretoFront([point("x", 2, 0.9)], "recall").map((p) => p.setting), ["x"]);
  deepEqual(paretoFront([], "recall"), []);
});

Deno.test("fastestMeeting: the fastest that meets the bound; ties go to better quality", () => {
  const points = [
    point("a", 1, 0.99),
    point("b", 2, 0.95),
    point("c", 2, 0.96),
    point("d", 4, 0.5),
  ];
  equal(fastestMeeting(points, { metric: "recall", bound: 0.95 })?.setting, "c");
  equal(fastestMeeting(points, { metric: "recall", bound: 0.99 })?.setting, "a");
  equal(fastestMeeting(points, { metric: "recall", bound: 0.995 }), null);
  const errors = [point("a", 1, 0.01), point("b", 3, 0.1), point("c", 2, 0.04)];
  equal(fastestMeeting(errors, { metric: "relL2", bound: 0.05 })?.setting, "c");
  equal(fastestMeeting(errors, { metric: "relL2", bound: 0.1 })?.setting, "b");
});

function sweepRecord(
  scenario: string,
  method: string,
  value: number,
  figures: { speedup: number; recall: number; relL2: number },
): BenchRecord {
  const record = makeRecord({ scenario, method, params: { k: value } });
  record.knob = { param: "k", value };
  record.speedup = figures.speedup;
  record.quality = { ...record.quality!, recall: figures.recall, relL2: figures.relL2 };
  return record;
}

Deno.test("frontierPoints and targetTable: per scenario, 'none' where nothing meets it", () => {
  const dense = makeRecord({ scenario: "s1", method: "dense", params: {} });
  dense.knob = null;
  const records = [
    dense,
    sweepRecord("s1", "moc", 4, { speedup: 1.5, recall: 0.97, relL2: 0.04 }),
    sweepRecord("s1", "moc", 2, { speedup: 2.5, recall: 0.91, relL2: 0.09 }),
    sweepRecord("s2", "moc", 4, { speedup: 1.2, recall: 0.8, relL2: 0.3 }),
    makeRecord({ scenario: "s2", method: "radial", params: {} }), // a matrix record: no point
  ];
  const wholeRun = {
    scenario: "s1",
    method: "moc:k=2",
    knob: { param: "k", value: 2 },
    ms: 10,
    speedup: 3,
  } as WholeRunSummary;
  const points = frontierPoints(records, [wholeRun]);
  deepEqual(points.map((p) => [p.scenario, p.setting, p.wholeRunMs]), [
    ["s1", "k=4", null],
    ["s1", "k=2", 10],
    ["s2", "k=4", null],
  ]);
  const table = targetTable(points, [
    { metric: "recall", bound: 0.9 },
    { metric: "recall", bound: 0.95 },
    { metric: "relL2", bound: 0.05 },
  ]);
  deepEqual(
    table.map((row) => row.fastest.map((f) => f.point?.setting ?? "none")),
    [["k=2", "none"], ["k=4", "none"], ["k=4", "none"]],
  );
});

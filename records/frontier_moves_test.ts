import { deepEqual } from "node:assert/strict";
import { frontierMoves } from "./frontier_moves.ts";
import { makeRecord, makeResults } from "../tests/results_fixtures.ts";
import type { BenchRecord } from "./schema.ts";

/** A sweep point of scenario "s" with its speedup, recall and relL2. */
function point(method: string, k: number, speedup: number, recall: number, relL2: number) {
  const record: BenchRecord = makeRecord({ scenario: "s", method, params: { k } });
  record.knob = { param: "k", value: k };
  record.speedup = speedup;
  record.quality = { ...record.quality!, recall, relL2 };
  return record;
}

const TARGETS = [{ metric: "recall" as const, bound: 0.9 }];

Deno.test("frontierMoves: nothing moved between identical runs", () => {
  const run = makeResults([point("a", 1, 2, 0.95, 0.05), point("b", 1, 3, 0.9, 0.1)]);
  deepEqual(frontierMoves(run, structuredClone(run), TARGETS), []);
});

Deno.test("frontierMoves: a point that got faster pushes another off the front", () => {
  // Base: a (2, .95) and b (3, .90) are both on the front; fastest at recall ≥ .9 is b.
  // Current: a at speedup 4 dominates b under both metrics; the fastest becomes a.
  const base = makeResults([point("a", 1, 2, 0.95, 0.05), point("b", 1, 3, 0.9, 0.1)]);
  const current = makeResults([point("a", 1, 4, 0.95, 0.05), point("b", 1, 3, 0.9, 0.1)]);
  deepEqual(frontierMoves(base, current, TARGETS), [
    { scenario: "s", kind: "front", line: "recall: left the front: b k=1" },
    { scenario: "s", kind: "front", line: "relL2: left the front: b k=1" },
    { scenario: "s", kind: "target", line: "fastest for recall ≥ 0.9: b k=1 → a k=1" },
  ]);
});

Deno.test("frontierMoves: a new point enters; a target nobody meets any more says none", () => {
  // Current: a (2, .85, .05) and c (1.5, .88, .04): neither dominates the other under either
  // metric, so c enters both fronts and a stays; no point reaches recall .9 any more.
  const base = makeResults([point("a", 1, 2, 0.95, 0.05)]);
  const current = makeResults([point("a", 1, 2, 0.85, 0.05), point("c", 2, 1.5, 0.88, 0.04)]);
  deepEqual(frontierMoves(base, current, TARGETS), [
    { scenario: "s", kind: "front", line: "recall: entered: c k=2" },
    { scenario: "s", kind: "front", line: "relL2: entered: c k=2" },
    { scenario: "s", kind: "target", line: "fastest for recall ≥ 0.9: a k=1 → none" },
  ]);
});

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { CompareOptionError, compareResults, formatPValue } from "./compare.ts";
import { comparisonVerdict } from "./verdict.ts";
import { comparisonKey } from "./case_key.ts";
import { jitteredSamples, latencyOf, makeRecord, makeResults } from "../tests/results_fixtures.ts";
import type { BenchRecord } from "./schema.ts";

function timed(samples: number[], overrides: Partial<BenchRecord> = {}): BenchRecord {
  return makeRecord({ latency: latencyOf(samples), ...overrides });
}

function judge(base: BenchRecord, current: BenchRecord, options = {}) {
  return compareResults(makeResults([base]), makeResults([current]), options);
}

Deno.test("a 30% slowdown is caught on every seed", () => {
  for (let seed = 0; seed < 40; seed++) {
    const base = jitteredSamples(2 * seed, 20, 10, 0.05);
    const current = jitteredSamples(2 * seed + 1, 20, 10, 0.05).map((ms) => 1.3 * ms);
    const result = judge(timed(base), timed(current));
    equal(result.regressions.length, 1, `seed ${seed}`);
    equal(result.regressions[0].field, "latency");
    match(result.regressions[0].detail, /\+\d+\.\d% median, p = .* < 0\.01/);
    ok(comparisonVerdict(result).fails);
  }
});

Deno.test("±5% noise and a 5% shift are never flagged", () => {
  for (let seed = 0; seed < 40; seed++) {
    const base = jitteredSamples(2 * seed, 20, 10, 0.05);
    for (const shift of [0.95, 1, 1.05]) {
      const current = jitteredSamples(2 * seed + 1, 20, 10 * shift, 0.05);
      const result = judge(timed(base), timed(current));
      deepEqual(
        [result.regressions.length, result.improvements.length, result.latencyNotes.length],
        [0, 0, 0],
        `seed ${seed}, shift ${shift}`,
      );
    }
  }
});

Deno.test("a 10× outlier in one sample does not decide", () => {
  const base = jitteredSamples(11, 20, 10, 0.05);
  const current = jitteredSamples(12, 20, 10, 0.05);
  current[3] *= 10;
  equal(judge(timed(base), timed(current)).regressions.length, 0);
  // An outlier in the base does not hide a real 30% slowdown either.
  const noisyBase = [...base];
  noisyBase[7] *= 10;
  const slower = current.map((x, i) => i === 3 ? x / 10 * 1.3 : x * 1.3);
  equal(judge(timed(noisyBase), timed(slower)).regressions.length, 1);
});

Deno.test("a slowdown beyond the threshold without significance is a note, not a regression", () => {
  const base = [10, 10.2, 14];
  const current = [11.5, 11.6, 9.9];
  const result = judge(timed(base), timed(current));
  equal(result.regressions.length, 0);
  equal(result.latencyNotes.length, 1);
  match(result.latencyNotes[0].detail, /too few samples: n 3\/3/);
});

Deno.test("a significant speed-up is an improvement; routing samples are judged too", () => {
  const base = jitteredSamples(21, 20, 10, 0.05);
  const faster = jitteredSamples(22, 20, 7, 0.05);
  const result = judge(timed(base), timed(faster));
  equal(result.improvements.length, 1);
  equal(result.improvements[0].field, "latency");
  const routed = (routing: number[]) => makeRecord({ latency: latencyOf(base, routing) });
  const slowRouting = judge(
    routed(jitteredSamples(23, 20, 2, 0.05)),
    routed(jitteredSamples(24, 20, 3, 0.05)),
  );
  deepEqual(slowRouting.regressions.map((f) => f.field), ["latency.routing"]);
});

Deno.test("--latency info lists a slowdown and never fails on it", () => {
  const base = jitteredSamples(31, 20, 10, 0.05);
  const current = jitteredSamples(32, 20, 13, 0.05);
  const result = judge(timed(base), timed(current), { latency: "info" });
  equal(result.regressions.length, 0);
  equal(result.latencyNotes.length, 1);
  equal(comparisonVerdict(result).fails, false);
});

Deno.test("changed FLOPs, sparsity, layout or stats are CHANGES, failing only with the policy", () => {
  const base = makeRecord({ stats: { groups: 4 } });
  const current = makeRecord({
    latency: base.latency,
    flops: base.flops! * 2,
    tokenSparsity: 0.5,
    layoutDigest: "sha256:ff",
    stats: { groups: 8 },
  });
  const result = judge(base, current);
  deepEqual(
    result.changes.map((f) => f.field),
    ["flops", "tokenSparsity", "layoutDigest", "stats.groups"],
  );
  equal(result.regressions.length, 0);
  equal(comparisonVerdict(result).fails, false);
  deepEqual(comparisonVerdict(result, { failOnChange: true }).reasons, [
    "4 changes (--fail-on-change)",
  ]);
});

Deno.test("quality beyond tolerance regresses, within tolerance passes, better improves", () => {
  const base = makeRecord();
  const quality = (q: Partial<NonNullable<BenchRecord["quality"]>>) =>
    makeRecord({ latency: base.latency, quality: { ...base.quality!, ...q } });
  equal(judge(base, quality({ relL2: 0.05 + 5e-4, recall: 0.95 - 5e-4 })).regressions.length, 0);
  deepEqual(
    judge(base, quality({ relL2: 0.052, cosine: 0.985 })).regressions.map((f) => f.field),
    ["quality.relL2", "quality.cosine"],
  );
  deepEqual(judge(base, quality({ recall: 0.99 })).improvements.map((f) => f.field), [
    "quality.recall",
  ]);
  equal(
    judge(base, quality({ relL2: 0.052 }), { tolerances: { relL2: 0.01 } }).regressions.length,
    0,
  );
});

Deno.test("new, missing and failed cases are listed; a newly failing case regresses", () => {
  const kept = makeRecord();
  const gone = makeRecord({ method: "sta", params: { window: [3, 3, 3] } });
  const added = makeRecord({ method: "moc", params: { k: 4 }, error: "out of memory" });
  const broken = makeRecord({ method: "dense", params: {} });
  const result = compareResults(
    makeResults([kept, gone, broken]),
    makeResults([kept, added, { ...broken, latency: null, error: "device lost" }]),
  );
  deepEqual(result.newCases, [comparisonKey(added)]);
  deepEqual(result.missingCases, [comparisonKey(gone)]);
  deepEqual(result.failed.map((f) => f.detail), ["new case fails", "newly fails"]);
  deepEqual(result.regressions.map((f) => f.case), [comparisonKey(broken)]);
  deepEqual(comparisonVerdict(result).reasons, ["1 regression", "1 missing case"]);
  const fixed = compareResults(makeResults([{ ...broken, error: "x" }]), makeResults([broken]));
  equal(fixed.improvements[0].detail, "runs again");
  const dropped = compareResults(makeResults([kept, gone]), makeResults([kept]));
  deepEqual(comparisonVerdict(dropped).reasons, ["1 missing case"]);
  equal(comparisonVerdict(dropped, { allowMissing: true }).fails, false);
});

Deno.test("cases match on params in any key order and on the adapter's class", () => {
  const base = makeRecord({ params: { decay: 0.95, block: 128 } });
  const reordered = makeRecord({ params: { block: 128, decay: 0.95 } });
  equal(judge(base, reordered).matched, 1);
  const upgraded = makeRecord({ adapter: { ...base.adapter, description: "llvmpipe (LLVM 19)" } });
  const sameClass = judge(base, upgraded);
  equal(sameClass.matched, 1);
  deepEqual(sameClass.adapterChanges, [{
    case: "vulkan vendor 0 fallback",
    field: "adapter.description",
    base: "test adapter",
    current: "llvmpipe (LLVM 19)",
    detail: "same adapter class: 1 case matched by class",
  }]);
  equal(comparisonVerdict(sameClass, { failOnChange: true }).fails, false);
  const otherClass = makeRecord({
    adapter: {
      description: "NVIDIA H200",
      vendor: "4318",
      architecture: "",
      fallback: false,
      backend: "vulkan",
    },
  });
  const result = judge(base, otherClass);
  equal(result.matched, 0);
  match(
    result.notes[0],
    new RegExp(
      "no case matched: base adapters test adapter \\(vulkan vendor 0 fallback\\); " +
        "current adapters NVIDIA H200 \\(vulkan vendor 4318\\)",
    ),
  );
  deepEqual(comparisonVerdict(result).reasons, ["no case matched", "1 missing case"]);
});

Deno.test("a slowdown far beyond the threshold regresses even when the test lacks samples", () => {
  const base = [10, 10.2, 10.4];
  const hundredfold = judge(timed(base), timed(base.map((x) => x * 100)));
  deepEqual(hundredfold.regressions.map((f) => f.field), ["latency"]);
  match(
    hundredfold.regressions[0].detail,
    new RegExp(
      "every sample slower than every base sample by > 30% " +
        "\\(too few samples: n 3/3 cannot reach p < 0\\.01\\)",
    ),
  );
  equal(comparisonVerdict(hundredfold).fails, true);
  // The separation is judged against the slowest base sample: 10.4 · 1.3 = 13.52.
  equal(judge(timed(base), timed([13.6, 14, 15])).regressions.length, 1);
  equal(judge(timed(base), timed([13.5, 14, 15])).regressions.length, 0);
  equal(judge(timed(base), timed([13.5, 14, 15])).latencyNotes.length, 1);
  // A fixed threshold moves the margin: 3 × 20% = 60%.
  equal(judge(timed(base), timed([16, 17, 18]), { threshold: 0.2 }).regressions.length, 0);
  equal(judge(timed(base), timed([16.7, 17, 18]), { threshold: 0.2 }).regressions.length, 1);
  // The same rule for speed-ups, and info mode never fails.
  equal(judge(timed(base), timed([7.6, 7.0, 7.1])).improvements.length, 1);
  equal(judge(timed(base), timed([7.7, 7.0, 7.1])).improvements.length, 0);
  equal(judge(timed(base), timed([1040, 1050, 1060]), { latency: "info" }).regressions.length, 0);
});

Deno.test("options out of range are rejected by name", () => {
  throws(() => judge(makeRecord(), makeRecord(), { threshold: -1 }), CompareOptionError);
  throws(() => judge(makeRecord(), makeRecord(), { alpha: 0 }), /alpha must be in \(0, 1\)/);
  throws(
    () => judge(makeRecord(), makeRecord(), { tolerances: { relL2: NaN } }),
    /tolerance of relL2/,
  );
});

Deno.test("p-values print so that the comparison with alpha is true as printed", () => {
  equal(formatPValue(0.00998, 0.01), "p = 0.00998 < 0.01");
  equal(formatPValue(0.0099999999, 0.01), "p < 0.01");
  equal(formatPValue(0.01, 0.01), "p = 0.01 ≥ 0.01");
  equal(formatPValue(0.000012345, 0.01), "p = 0.000012 < 0.01");
  for (let p = 0.0095; p < 0.0105; p += 0.0000137) {
    const printed = formatPValue(p, 0.01).match(/^p = ([\d.e-]+) ([<≥])/);
    if (printed) equal(printed[2] === "<", Number(printed[1]) < 0.01, formatPValue(p, 0.01));
  }
});

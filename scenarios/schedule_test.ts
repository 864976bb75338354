import assert from "node:assert/strict";
import { join } from "node:path";
import { parseSchedule } from "./schedule.ts";
import { parseScenario } from "./scenario_file.ts";

Deno.test("a schedule is checked strictly, one line naming the field", () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ layers: 0, steps: 50 }, /schedule.layers must be an integer 1..10000 \(got 0\)/],
    [{ layers: 2, steps: 5, extra: 1 }, /unknown field "extra" \(allowed: layers, steps/],
    [{ layers: 2, steps: 5, methods: { sta: { denseLayers: 3 } } }, /denseLayers must be .*0..2/],
    [
      { layers: 2, steps: 5, methods: { sta: { rules: [{ steps: [3, 9], run: "dense" }] } } },
      /rules\[0\].steps must be \[from, to\) with 0 ≤ from < to ≤ 5/,
    ],
    [
      { layers: 2, steps: 5, methods: { sta: { rules: [{}] } } },
      /rules\[0\] must have exactly one of run \(a method spec, e.g. dense\) and set/,
    ],
    [
      { layers: 2, steps: 5, methods: { svg2: { rules: [{ run: "dense", set: { iters: 2 } }] } } },
      /rules\[0\] must have exactly one of run/,
    ],
    [
      { layers: 2, steps: 5, methods: { svg2: { rules: [{ set: {} }] } } },
      /rules\[0\].set must be a non-empty object of parameters/,
    ],
    [
      { layers: 2, steps: 5, methods: { svg2: { rules: [{ set: { iters: null } }] } } },
      /rules\[0\].set.iters must be a number, boolean, string without ; : = or list/,
    ],
    [
      { layers: 2, steps: 5, methods: { svg2: { rules: [{ set: { mode: "x;iters=9" } }] } } },
      /rules\[0\].set.mode must be a number, boolean, string without ; : = or list/,
    ],
    [
      { layers: 2, steps: 5, methods: { svg2: { rules: [{ set: { "a;b": 1 } }] } } },
      /rules\[0\].set has a parameter name that is not a word .*"a;b"/,
    ],
  ];
  for (const [json, message] of bad) assert.throws(() => parseSchedule(json), message);
});

Deno.test("a scenario file's schedule names its strategy file relative to the scenario file", () => {
  const scenario = parseScenario({
    latent: [6, 8, 16],
    heads: 2,
    schedule: { layers: 60, steps: 50, methods: { sta: { denseSteps: 12, strategy: "s.json" } } },
  }, join("clips", "clip.json"));
  assert.equal(scenario.schedule?.methods.sta.strategy, join("clips", "s.json"));
  assert.throws(
    () => parseScenario({ latent: [6, 8, 16], heads: 2, schedule: { steps: 5 } }, "c.json"),
    /scenario file "c.json": schedule.layers must be an integer/,
  );
});

Deno.test("a rule sets parameters on the spec given, or runs a spec of its own", () => {
  const schedule = parseSchedule({
    layers: 1,
    steps: 4,
    methods: { svg2: { rules: [{ steps: [2, 4], set: { iters: 2, topP: 0.8 } }] } },
  });
  assert.deepEqual(schedule.methods.svg2.rules, [{ steps: [2, 4], set: { iters: 2, topP: 0.8 } }]);
});

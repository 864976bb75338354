import assert from "node:assert/strict";
import { attendedPairs } from "../form/form.ts";
import { MethodSpecError } from "./method.ts";
import { sta } from "./sta.ts";
import { parseMaskStrategy } from "./sta_strategy.ts";
import { handMadeStrategyFile, TWO_TILES } from "../tests/sta_strategy_fixtures.ts";

Deno.test("sta:strategy runs the file's window of each head at the step and layer asked", async () => {
  const file = await handMadeStrategyFile();
  const method = sta.create({ strategy: file, step: 1, layer: 0 });
  const layout = await method.layout(TWO_TILES, {});
  // By hand: head 0 attends its own tile (2 tiles × 384²), head 1 everything (768²).
  assert.deepEqual(layout.forms.map(attendedPairs), [2 * 384 * 384, 768 * 768]);
  assert.equal(layout.stats?.windows, "1x1x1/1x1x2");
  assert.equal(method.analyticFlops?.(TWO_TILES), 4 * 64 * (2 * 384 * 384 + 768 * 768));
  assert.deepEqual(method.params, { strategy: file, step: 1, layer: 0, tile: [6, 8, 8] });
});

Deno.test("sta: per-head windows, and the record keeps no per-head keys when none are given", () => {
  const method = sta.create({ windows: "1x1x1/1x1x2" });
  assert.deepEqual(method.params, { tile: [6, 8, 8], windows: "1x1x1/1x1x2" });
  assert.deepEqual(sta.create({}).params, { window: [3, 3, 3], tile: [6, 8, 8] });
  assert.throws(
    () => method.layout({ ...TWO_TILES, heads: 3 }, {}),
    /"windows" must give one window for each of the 3 heads \(got 2\)/,
  );
  assert.throws(() => sta.create({ windows: "1x1/2x2x2" }), /one TxHxW window a head/);
  assert.throws(() => sta.create({ windows: "1x1x1", window: [3, 3, 3] }), /not both/);
  assert.throws(() => sta.create({ step: 3 }), /select a cell of "strategy"/);
});

Deno.test("a mask-strategy file with a missing head or a bad entry is refused naming the key", async () => {
  const file = await handMadeStrategyFile();
  const method = sta.create({ strategy: file, step: 2, layer: 0 });
  assert.throws(() => method.layout(TWO_TILES, {}), /has no window for "2_0_0"/);
  assert.throws(() => parseMaskStrategy({ "1_0_0": [1, 0, 1] }, "x.json"), MethodSpecError);
  assert.throws(() => parseMaskStrategy([], "x.json"), /must hold a JSON object/);
  assert.throws(() => sta.create({ strategy: "/nonexistent/strategy.json" }), /cannot be read/);
});

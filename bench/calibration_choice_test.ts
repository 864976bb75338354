import { deepEqual, equal, match } from "node:assert/strict";
import { type ChoicePoint, chooseSetting } from "./calibration_choice.ts";

const recall = (value: number | null) => ({ recall: value, relL2: null });
const target = { metric: "recall" as const, bound: 0.9 };
const sta = { method: "sta", param: "window", perHeadParam: "windows", fixed: { tile: [6, 8, 8] } };

/** A sweep from hand-made rows: [setting, recall over all heads, recall of each head]. */
function sweep(rows: Array<[ChoicePoint["setting"], number | null, number[] | null]>) {
  return rows.map(([setting, all, heads]) => ({
    setting,
    quality: all === null ? null : recall(all),
    heads: heads?.map(recall) ?? null,
  }));
}

Deno.test("per head: each head its sparsest window, written as one window a head", () => {
  const table = sweep([
    [[4, 1, 1], 1, [1, 1, 1]],
    [[3, 1, 1], 0.93, [0.91, 0.97, 0.89]],
    [[1, 1, 1], 0.85, [0.8, 0.92, 0.84]],
  ]);
  deepEqual(chooseSetting(sta, table, { target, perHead: true }), {
    chosen: {
      spec: "sta:tile=6x8x8;windows=3x1x1/1x1x1/4x1x1",
      settings: [[3, 1, 1], [1, 1, 1], [4, 1, 1]],
    },
    why: "",
  });
});

Deno.test("per head: heads that agree give the one-setting spec", () => {
  const table = sweep([[[4, 1, 1], 1, [1, 1]], [[3, 1, 1], 0.95, [0.94, 0.96]], [[1, 1, 1], 0.8, [
    0.8,
    0.8,
  ]]]);
  deepEqual(chooseSetting(sta, table, { target, perHead: true }).chosen, {
    spec: "sta:tile=6x8x8;window=3x1x1",
    settings: [[3, 1, 1]],
  });
});

Deno.test("per head: a head no setting serves leaves the method unchosen, naming the head", () => {
  const table = sweep([[[4, 1, 1], 0.95, [0.99, 0.88]], [[1, 1, 1], 0.5, [0.6, 0.4]]]);
  const { chosen, why } = chooseSetting(sta, table, { target, perHead: true });
  equal(chosen, null);
  match(why, /^no window of the grid meets recall>=0\.9 on head\(s\) 1 of the calibration inputs/);
  match(why, /head 1: 0\.880, 0\.400 at window=4x1x1\|1x1x1/);
});

Deno.test("one setting for every head: the sparsest that meets over all heads, past a dip", () => {
  const moga = { method: "moga", param: "groups", fixed: {} };
  const table = sweep([[2, 0.95, null], [5, 0.89, null], [10, 0.91, null], [20, 0.7, null]]);
  deepEqual(chooseSetting(moga, table, { target, perHead: false }).chosen, {
    spec: "moga:groups=10",
    settings: [10],
  });
  // A method without a per-head parameter is chosen over all heads even when asked per head.
  deepEqual(chooseSetting(moga, table, { target, perHead: true }).chosen?.spec, "moga:groups=10");
  const failed = sweep([[2, null, null], [5, 0.5, null]]);
  const none = chooseSetting(moga, failed, { target, perHead: false });
  equal(none.chosen, null);
  equal(
    none.why,
    "no groups of the grid meets recall>=0.9 on the calibration inputs (recall n/a, 0.500 at " +
      "groups=2|5)",
  );
  match(chooseSetting(moga, [], { target, perHead: false }).why, /no groups of the grid applies/);
});

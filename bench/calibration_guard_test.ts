import { deepEqual, equal, throws } from "node:assert/strict";
import { chooseSetting } from "./calibration_choice.ts";
import {
  calibrationSeeds,
  marginFor,
  maxMargin,
  withMargin,
  worstCase,
  worstCasePerHead,
} from "./calibration_guard.ts";

const recall = (bound: number) => ({ metric: "recall" as const, bound });
const relL2 = (bound: number) => ({ metric: "relL2" as const, bound });
const at = (value: number) => ({ recall: value, relL2: null });

Deno.test("marginFor: a tenth of the slack by default, 0..slack when given, one line otherwise", () => {
  equal(marginFor(recall(0.95), undefined), 0.005);
  equal(marginFor(recall(1), undefined), 0, "no slack, no margin");
  equal(marginFor(relL2(0), undefined), 0);
  equal(marginFor(recall(0.9), "0.1"), 0.1, "the whole slack: recall 1 on every seed");
  equal(marginFor(relL2(0.2), 0), 0);
  equal(maxMargin(recall(0.9)), 0.1);
  for (
    const [target, bad, shown] of [
      [recall(0.9), "-0.01", '"-0.01"'],
      [recall(0.9), "0.11", '"0.11"'],
      [relL2(0.1), "0.2", '"0.2"'],
      [relL2(0.1), "", '""'],
      [recall(0.9), Infinity, "Infinity"],
    ] as const
  ) {
    throws(() => marginFor(target, bad), (e: Error) => {
      equal(e instanceof RangeError, true);
      equal(
        e.message,
        `--margin must be a number 0..${maxMargin(target)} for ${target.metric}` +
          `${target.metric === "recall" ? ">=" : "<="}${target.bound} (got ${shown})`,
      );
      return true;
    });
  }
});

Deno.test("withMargin tightens the bound the way the metric improves", () => {
  deepEqual(withMargin(recall(0.85), 0.015), recall(0.865));
  deepEqual(withMargin(relL2(0.05), 0.05), relL2(0));
  deepEqual(withMargin(recall(0.9), 0), recall(0.9));
});

Deno.test("worstCase: lowest recall and highest relL2 over seeds; any gap makes it unknown", () => {
  deepEqual(worstCase([{ recall: 0.9, relL2: null }, { recall: 0.8, relL2: null }]), {
    recall: 0.8,
    relL2: null,
  });
  deepEqual(worstCase([{ recall: 0.9, relL2: 0.1 }, { recall: NaN, relL2: 0.2 }]), {
    recall: null,
    relL2: 0.2,
  });
  equal(worstCase([]), null);
  deepEqual(worstCasePerHead([[at(0.9), at(0.7)]]), [at(0.9), at(0.7)]);
  equal(worstCasePerHead([[at(0.9)], null]), null);
  deepEqual(calibrationSeeds(7, 1), [7]);
});

Deno.test("the choice on the worst seed with a margin is denser than on one seed without", () => {
  const knob = { method: "moc", param: "k", perHeadParam: "ks", fixed: {} };
  // Recall of one head at k = 16, 4, 1 on two seeds: seed 2 is the harder one.
  const seeds = [[0.9, 0.86, 0.81], [0.88, 0.81, 0.77]];
  const sweepOf = (rows: number[][]) =>
    [16, 4, 1].map((setting, i) => {
      const quality = worstCase(rows.map((row) => at(row[i])));
      return { setting, quality, heads: [quality!] };
    });
  const choose = (rows: number[][], margin: number) =>
    chooseSetting(knob, sweepOf(rows), {
      target: withMargin(recall(0.8), margin),
      perHead: true,
    }).chosen?.spec;
  equal(choose(seeds.slice(0, 1), 0), "moc:k=1", "seed 1 alone: the sparsest");
  equal(choose(seeds, 0), "moc:k=4", "worst of both seeds");
  equal(choose(seeds, 0.02), "moc:k=16", "worst of both seeds, margin 0.02");
});

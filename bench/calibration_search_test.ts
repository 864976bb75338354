import { deepEqual, equal, throws } from "node:assert/strict";
import {
  formatTarget,
  meetsTarget,
  parseTarget,
  sparsestMeeting,
  sparsestMeetingPerHead,
} from "./calibration_search.ts";

const recallAt = (recall: number | null) => ({ recall, relL2: null });
const relL2At = (relL2: number | null) => ({ recall: null, relL2 });

Deno.test("parseTarget reads both forms and refuses anything else in one line", () => {
  deepEqual(parseTarget(" recall >= 1 "), { metric: "recall", bound: 1 });
  deepEqual(parseTarget("relL2<=0"), { metric: "relL2", bound: 0 });
  deepEqual(parseTarget("relL2<=2.5e-2"), { metric: "relL2", bound: 0.025 });
  for (const bad of ["recall>=0", "recall>=1.5", "relL2<=-1", "relL2>=0.1", "psnr>=30", ""]) {
    throws(() => parseTarget(bad), (e: Error) => {
      equal(e instanceof RangeError, true);
      equal(e.message, `--target must be recall>=X (0 < X ≤ 1) or relL2<=X (X ≥ 0) (got "${bad}")`);
      return true;
    });
  }
  equal(formatTarget(parseTarget("recall >= 0.95")), "recall>=0.95");
});

Deno.test("meetsTarget: the bound itself meets; a missing proxy never does", () => {
  const relL2 = { metric: "relL2" as const, bound: 0.1 };
  equal(meetsTarget(relL2, relL2At(0.1)), true);
  equal(meetsTarget(relL2, relL2At(0.1000001)), false);
  equal(meetsTarget(relL2, relL2At(null)), false);
  equal(meetsTarget(relL2, null), false);
  equal(meetsTarget({ metric: "recall", bound: 0.9 }, recallAt(NaN)), false);
});

Deno.test("sparsestMeeting picks the last grid point that meets, not the first miss", () => {
  const target = { metric: "recall" as const, bound: 0.95 };
  // Densest first. A dip at index 2 does not stop the search: index 3 meets again.
  const table = [1, 0.97, 0.94, 0.96, 0.9, 0.5].map(recallAt);
  equal(sparsestMeeting(table, target), 3);
  equal(sparsestMeeting([1, 0.99, 0.98].map(recallAt), target), 2, "every point meets");
  equal(sparsestMeeting([0.9, 0.8].map(recallAt), target), null, "none meets");
  equal(sparsestMeeting([recallAt(0.99), null, recallAt(null)], target), 0, "failed points");
  equal(sparsestMeeting([], target), null);
});

Deno.test("sparsestMeetingPerHead chooses each head on its own column", () => {
  const target = { metric: "relL2" as const, bound: 0.05 };
  const table = [
    [0, 0, 0],
    [0.01, 0.2, 0.04],
    [0.03, 0.3, 0.06],
    [0.04, 0.5, 0.05],
  ].map((row) => row.map(relL2At));
  deepEqual(sparsestMeetingPerHead(table, target), [3, 0, 3]);
  deepEqual(sparsestMeetingPerHead([[relL2At(0.5)]], target), [null]);
  throws(
    () => sparsestMeetingPerHead([[relL2At(0)], []], target),
    /table row 1 must hold one quality a head \(1\), got 0/,
  );
});

/**
 * One head's cross-shot mass for one form, computed afresh (the sampled softmax rows, then the
 * kept part): the direct path the tests compare the bench's cached rows with.
 *
 * @module
 */
import type { ExecutionForm } from "../form/form.ts";
import {
  crossShotKept,
  type CrossShotMass,
  type CrossShotOptions,
  crossShotRows,
} from "../metrics/quality.ts";
import type { Scenario } from "../scenarios/scenario.ts";

/** {@link crossShotRows} of `head` scored for `head.form` by {@link crossShotKept}. */
export function crossShotMassOf(
  scenario: Scenario,
  head: { q: Float32Array; k: Float32Array; form: ExecutionForm },
  options: CrossShotOptions = {},
): CrossShotMass {
  return crossShotKept(crossShotRows(scenario, head, options), head.form);
}

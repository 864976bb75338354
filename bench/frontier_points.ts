/**
 * The points of a frontier sweep (docs/frontier.md): each method spec expanded over its knob's
 * grid on one scenario, densest setting first. Dense is the reference and never swept.
 *
 * @module
 */
import { methodKnob, type ResolveMethodOptions } from "../methods/registry.ts";
import { formatParams, parseMethodSpec } from "../methods/spec.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import type { KnobSetting } from "../records/schema.ts";

/** One point of a sweep: the method spec that runs and the knob setting it stands for. */
export interface SweepPoint {
  /** The spec to run (`radial:decay=0.5`). */
  spec: string;
  /** The knob setting, or null for a method without a knob (it runs once, as given). */
  knob: KnobSetting | null;
}

/** `name` with `params`, in spec syntax (`name` alone without parameters). */
function specOf(name: string, params: Record<string, KnobSetting["value"]>): string {
  const text = formatParams(params);
  return text ? `${name}:${text}` : name;
}

/**
 * Expands `specs` over their knobs on `scenario`: a spec whose knob is not given becomes one
 * point per grid setting (its other parameters kept); a spec that gives the knob's value runs
 * that one setting; a method without a knob runs once; `dense` is left out (the reference).
 *
 * @example
 * ```ts
 * import { sweepPoints } from "./frontier_points.ts";
 * import { preset } from "../scenarios/presets.ts";
 * import { deepEqual } from "node:assert/strict";
 * const scenario = preset("moc-multi-shot", "ci");
 * const points = await sweepPoints(["dense", "moc:k=2", "radial:block=64"], scenario);
 * deepEqual(points.slice(0, 3), [
 *   { spec: "moc:k=2", knob: { param: "k", value: 2 } },
 *   { spec: "radial:block=64;decay=4", knob: { param: "decay", value: 4 } },
 *   { spec: "radial:block=64;decay=2", knob: { param: "decay", value: 2 } },
 * ]);
 * ```
 */
export async function sweepPoints(
  specs: readonly string[],
  scenario: Scenario,
  options: ResolveMethodOptions = {},
): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for (const spec of specs) {
    const { name, params } = parseMethodSpec(spec);
    if (name === "dense") continue;
    const knob = await methodKnob(spec, scenario, options);
    if (!knob) {
      points.push({ spec, knob: null });
    } else if (Object.hasOwn(params, knob.param)) {
      points.push({ spec, knob: { param: knob.param, value: params[knob.param] } });
    } else {
      for (const value of knob.values) {
        points.push({
          spec: specOf(name, { ...params, [knob.param]: value }),
          knob: { param: knob.param, value },
        });
      }
    }
  }
  return points;
}

/**
 * From a method's sweep to the spec `calibrate` writes (docs/cli.md, "calibrate"): one setting
 * for every head, or one a head where the method takes per-head settings, each the sparsest that
 * meets the target (bench/calibration_search.ts); heads that agree give the one-setting spec.
 * Pure functions.
 *
 * @module
 */
import type { Params, ParamValue } from "../methods/method.ts";
import { formatParams } from "../methods/spec.ts";
import {
  formatTarget,
  type MeasuredQuality,
  type QualityTarget,
  sparsestMeeting,
  sparsestMeetingPerHead,
} from "./calibration_search.ts";

/** The knob being calibrated: the method, its parameter(s) and the parameters held fixed. */
export interface CalibratedKnob {
  /** Method name. */
  method: string;
  /** The knob's parameter (`k`). */
  param: string;
  /** The parameter taking one setting a head (`ks`), when the method has one. */
  perHeadParam?: string;
  /** Parameters the user fixed (`chunk=256`). */
  fixed: Params;
}

/** One grid setting and its measured quality, over all heads and per head. */
export interface ChoicePoint {
  /** The knob's setting. */
  setting: ParamValue;
  /** Quality over every head (null: the case failed). */
  quality: MeasuredQuality | null;
  /** Quality of each head alone (null: not measured). */
  heads: MeasuredQuality[] | null;
}

/** The chosen spec and its setting(s), one a head when chosen per head. */
export interface ChosenSetting {
  /** The spec as `--methods` takes it (`moc:ks=5/4`). */
  spec: string;
  /** One setting for every head, or one a head. */
  settings: ParamValue[];
}

/** A setting as a spec writes it (`3x3x3`, `0.5`). */
export function settingText(value: ParamValue): string {
  return Array.isArray(value) ? value.join("x") : String(value);
}

/** The figure a target reads, as text (`0.953`, `n/a`). */
export function targetValue(target: QualityTarget, figures: MeasuredQuality | null): string {
  const value = figures?.[target.metric];
  return value === null || value === undefined ? "n/a" : value.toPrecision(3);
}

function specWith(knob: CalibratedKnob, key: string, value: ParamValue): string {
  return `${knob.method}:${formatParams({ ...knob.fixed, [key]: value })}`;
}

/**
 * The spec chosen from `sweep` (the knob's grid, densest first), or null and one line saying why
 * none was. With `perHead` (the method has a per-head parameter and the quality of every head was
 * measured), every head gets the sparsest setting that meets the target on its own quality.
 * `context.inputs` names the inputs in that line (default "the calibration inputs").
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { chooseSetting } from "./calibration_choice.ts";
 * const at = (recall: number) => ({ recall, relL2: null });
 * const knob = { method: "moc", param: "k", perHeadParam: "ks", fixed: { chunk: 256 } };
 * const sweep = [
 *   { setting: 8, quality: at(0.97), heads: [at(0.96), at(0.98)] },
 *   { setting: 4, quality: at(0.93), heads: [at(0.9), at(0.96)] },
 * ];
 * const target = { metric: "recall" as const, bound: 0.95 };
 * deepEqual(chooseSetting(knob, sweep, { target, perHead: true }).chosen,
 *   { spec: "moc:chunk=256;ks=8/4", settings: [8, 4] });
 * deepEqual(chooseSetting(knob, sweep, { target, perHead: false }).chosen,
 *   { spec: "moc:chunk=256;k=8", settings: [8] });
 * ```
 */
export function chooseSetting(
  knob: CalibratedKnob,
  sweep: readonly ChoicePoint[],
  context: { target: QualityTarget; perHead: boolean; inputs?: string },
): { chosen: ChosenSetting | null; why: string } {
  const { target } = context;
  const inputs = context.inputs ?? "the calibration inputs";
  if (sweep.length === 0) {
    return { chosen: null, why: `no ${knob.param} of the grid applies to this scenario` };
  }
  if (context.perHead && knob.perHeadParam !== undefined) {
    const heads = Math.max(...sweep.map((p) => p.heads?.length ?? 0));
    const table = sweep.map((p) => p.heads ?? new Array(heads).fill(null));
    const picks = sparsestMeetingPerHead(table, target);
    const missing = picks.flatMap((pick, h) => pick === null ? [h] : []);
    if (missing.length > 0) {
      const best = missing.map((h) =>
        `head ${h}: ${sweep.map((p) => targetValue(target, p.heads?.[h] ?? null)).join(", ")}`
      );
      return {
        chosen: null,
        why: `no ${knob.param} of the grid meets ${formatTarget(target)} on head(s) ` +
          `${missing.join(", ")} of ${inputs} (${target.metric} ${best.join("; ")} ` +
          `at ${knob.param}=${sweep.map((p) => settingText(p.setting)).join("|")})`,
      };
    }
    const settings = picks.map((pick) => sweep[pick!].setting);
    if (picks.every((pick) => pick === picks[0])) {
      return {
        chosen: { spec: specWith(knob, knob.param, settings[0]), settings: [settings[0]] },
        why: "",
      };
    }
    const perHead = settings.map(settingText).join("/");
    return { chosen: { spec: specWith(knob, knob.perHeadParam, perHead), settings }, why: "" };
  }
  const pick = sparsestMeeting(sweep.map((p) => p.quality), target);
  if (pick === null) {
    const values = sweep.map((p) => targetValue(target, p.quality)).join(", ");
    return {
      chosen: null,
      why: `no ${knob.param} of the grid meets ${formatTarget(target)} on ${inputs} ` +
        `(${target.metric} ${values} at ${knob.param}=` +
        `${sweep.map((p) => settingText(p.setting)).join("|")})`,
    };
  }
  const setting = sweep[pick].setting;
  return { chosen: { spec: specWith(knob, knob.param, setting), settings: [setting] }, why: "" };
}

/**
 * The calibration record `deno task calibrate` writes (`calibration.json`, schema
 * `longshot.calibration/1`, docs/cli.md "calibrate") and the methods file it derives: the specs
 * that met the target on the calibration and the held-out inputs.
 *
 * @module
 */
import type { AdapterFacts } from "../gpu/runtime.ts";
import type { ParamValue } from "../methods/method.ts";
import { METHODS_FILE_SCHEMA, type MethodsFile } from "../methods/methods_file.ts";
import type { PresetSize } from "../scenarios/presets.ts";
import type { Precision } from "../records/schema.ts";
import type { ChosenSetting } from "./calibration_choice.ts";

/** Version of the calibration record's schema. */
export const CALIBRATION_SCHEMA = "longshot.calibration/1";

/** The proxies a target may bound, as measured (null: not measured). */
export interface TargetFigures {
  /** Dense softmax mass kept. */
  recall: number | null;
  /** Relative L2 error against dense. */
  relL2: number | null;
}

/** One grid setting run on the calibration inputs. */
export interface SweepPoint {
  /** The knob's setting. */
  setting: ParamValue;
  /** Quality over every covered head (null when the case failed). */
  quality: TargetFigures | null;
  /** Quality of each covered head alone. */
  heads: TargetFigures[] | null;
  /** Token sparsity of the layout. */
  tokenSparsity: number | null;
  /** The case's error, when it failed. */
  error?: string;
}

/** The chosen spec run on one set of inputs. */
export interface CheckedSetting {
  /** The inputs' description (`synthetic seed 2`, a file). */
  inputs: string;
  /** Quality over every covered head (null when the case failed). */
  quality: TargetFigures | null;
  /** Quality of each covered head alone. */
  heads: TargetFigures[] | null;
  /** Token sparsity of the layout. */
  tokenSparsity: number | null;
  /** Whether `quality` meets the target. */
  met: boolean;
  /** Heads whose own quality misses the target. */
  headsMissed: number[];
  /** The case's error, when it failed. */
  error?: string;
}

/** One method's calibration. */
export interface MethodCalibration {
  /** Method name. */
  method: string;
  /** The knob's parameter. */
  knob: string;
  /** Whether the setting was chosen head by head (the spec then carries one setting a head). */
  perHead: boolean;
  /** The grid on the calibration inputs, densest first. */
  sweep: SweepPoint[];
  /** The chosen spec and setting(s) (one a head when chosen per head); null when none met. */
  chosen: ChosenSetting | null;
  /** The chosen spec on the calibration inputs. */
  calibration: CheckedSetting | null;
  /** The chosen spec on the held-out inputs. */
  holdout: CheckedSetting | null;
  /** Met on the calibration inputs and on the held-out inputs. */
  carriedOver: boolean;
  /** One line: what was chosen, and where the calibration did not carry over. */
  note: string;
}

/** The calibration record (`calibration.json`). */
export interface CalibrationRecord {
  /** {@link CALIBRATION_SCHEMA}. */
  schema: typeof CALIBRATION_SCHEMA;
  /** Git commit, when known. */
  commit: string | null;
  /** ISO date of the run. */
  date: string;
  /** The command line. */
  command: string;
  /** The adapter the cases ran on. */
  adapter: AdapterFacts;
  /** Scenario name. */
  scenario: string;
  /** Preset size, or null for a scenario file or input file. */
  size: PresetSize | null;
  /** Precision of the runs. */
  precision: Precision;
  /** The target as written (`recall>=0.95`). */
  target: string;
  /** Calibration inputs: their description and the sampling seed. */
  calibrationInputs: { inputs: string; seed: number };
  /** Held-out inputs: their description and the sampling seed. */
  holdoutInputs: { inputs: string; seed: number };
  /** One entry a method, in the order asked. */
  methods: MethodCalibration[];
}

/**
 * The methods file of a record: the chosen specs that met the target on the calibration and the
 * held-out inputs (the record keeps the others and says why they are left out).
 */
export function methodsFileOf(record: CalibrationRecord): MethodsFile {
  return {
    schema: METHODS_FILE_SCHEMA,
    methods: record.methods.filter((m) => m.carriedOver).map((m) => m.chosen!.spec),
    calibration: {
      scenario: record.scenario,
      size: record.size,
      target: record.target,
      seed: record.calibrationInputs.seed,
      holdoutSeed: record.holdoutInputs.seed,
      commit: record.commit,
      date: record.date,
    },
  };
}

/**
 * The calibration record `deno task calibrate` writes (`calibration.json`, schema
 * `longshot.calibration/2`, docs/cli.md "calibrate") and the methods file it derives: the specs
 * that met target + margin on every calibration seed and the target on the held-out inputs.
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
export const CALIBRATION_SCHEMA = "longshot.calibration/2";

/** The proxies a target may bound, as measured (null: not measured). */
export interface TargetFigures {
  /** Dense softmax mass kept. */
  recall: number | null;
  /** Relative L2 error against dense. */
  relL2: number | null;
}

/** One setting run on the inputs of one seed. */
export interface SeedQuality {
  /** The seed of the inputs and sampled queries. */
  seed: number;
  /** Quality over every covered head (null when the case failed). */
  quality: TargetFigures | null;
  /** Quality of each covered head alone. */
  heads: TargetFigures[] | null;
  /** Token sparsity of the layout. */
  tokenSparsity: number | null;
  /** The case's error, when it failed. */
  error?: string;
}

/** One grid setting run on the calibration inputs (every calibration seed). */
export interface SweepPoint {
  /** The knob's setting. */
  setting: ParamValue;
  /** Worst case over the calibration seeds, over every covered head (null when a case failed). */
  quality: TargetFigures | null;
  /** Worst case over the calibration seeds of each covered head alone. */
  heads: TargetFigures[] | null;
  /** Token sparsity of the layout, mean over the calibration seeds. */
  tokenSparsity: number | null;
  /** One entry a calibration seed. */
  bySeed: SeedQuality[];
  /** The first failed case's error, when one failed. */
  error?: string;
}

/** The chosen spec run on one set of inputs (the calibration seeds, or the held-out inputs). */
export interface CheckedSetting {
  /** The target checked: target + margin on the calibration inputs, the target on held-out ones. */
  target: string;
  /** The inputs' description (`synthetic(seed=4, …)`, a file; `; `-joined for several seeds). */
  inputs: string;
  /** Quality over every covered head, worst case over `bySeed` (null when a case failed). */
  quality: TargetFigures | null;
  /** Quality of each covered head alone, worst case over `bySeed`. */
  heads: TargetFigures[] | null;
  /** Token sparsity of the layout, mean over `bySeed`. */
  tokenSparsity: number | null;
  /** One entry a seed. */
  bySeed: SeedQuality[];
  /** Whether `quality` meets `target` (on every seed). */
  met: boolean;
  /** Heads whose own quality misses `target` on some seed. */
  headsMissed: number[];
  /** The first failed case's error, when one failed. */
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
  /** The chosen spec on the calibration inputs, against target + margin. */
  calibration: CheckedSetting | null;
  /** The chosen spec on the held-out inputs, against the target. */
  holdout: CheckedSetting | null;
  /** Met target + margin on the calibration inputs and the target on the held-out inputs. */
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
  /** The target as written (`recall>=0.95`): the held-out inputs are checked against it. */
  target: string;
  /** The margin added to the target on the calibration inputs (absolute, in the target's unit). */
  margin: number;
  /** Target + margin (`recall>=0.955`): the worst case over the calibration seeds must meet it. */
  calibrationTarget: string;
  /** Calibration inputs, one a seed: their description and the seed. */
  calibrationInputs: { inputs: string; seed: number }[];
  /** Held-out inputs: their description and the sampling seed. */
  holdoutInputs: { inputs: string; seed: number };
  /** One entry a method, in the order asked. */
  methods: MethodCalibration[];
}

/**
 * The methods file of a record: the chosen specs that carried over (met target + margin on every
 * calibration seed and the target on the held-out inputs); `calibration.leftOut` names the
 * others with the record's note saying where they did not carry over.
 */
export function methodsFileOf(record: CalibrationRecord): MethodsFile {
  return {
    schema: METHODS_FILE_SCHEMA,
    methods: record.methods.filter((m) => m.carriedOver).map((m) => m.chosen!.spec),
    calibration: {
      scenario: record.scenario,
      size: record.size,
      target: record.target,
      margin: record.margin,
      calibrationTarget: record.calibrationTarget,
      seeds: record.calibrationInputs.map((i) => i.seed),
      holdoutSeed: record.holdoutInputs.seed,
      leftOut: record.methods.filter((m) => !m.carriedOver).map((m) => ({
        method: m.method,
        spec: m.chosen?.spec ?? null,
        note: m.note,
      })),
      commit: record.commit,
      date: record.date,
    },
  };
}

/**
 * The quality pass of a run (docs/metrics.md "Quality proxies"): every method against the dense
 * kernel's outputs on the same inputs, and dense itself against the float64 reference on a
 * sample of rows, so kernel error and method error are never mixed up.
 *
 * @module
 */
import { referenceAttention } from "../kernels/reference.ts";
import type { ExecutionForm } from "../form/form.ts";
import type { HeadTensors } from "../scenarios/inputs.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import {
  crossShotKept,
  crossShotRecall,
  type CrossShotRows,
  crossShotRows,
  outputQuality,
  recallFromLse,
  sampleQueries,
} from "../metrics/quality.ts";
import type { Quality } from "../records/schema.ts";

/** Rows of dense checked against the float64 reference (head 0). */
const REFERENCE_ROWS = 32;
/** Sampled queries per head for crossShotRecall. */
const CROSS_SHOT_SAMPLES = 128;

/** What the quality pass keeps for one scenario. */
export interface QualityInputs {
  /** The scenario. */
  scenario: Scenario;
  /** Heads the proxies cover (all heads when they fit the CPU budget). */
  heads: number;
  /** CPU tensors of those heads. */
  tensors: HeadTensors[];
  /** Seed of the sampled queries. */
  seed: number;
  /** Dense outputs of those heads, once dense has run. */
  dense: { out: Float32Array[]; lse: Float32Array[] } | null;
  /**
   * The sampled cross-shot softmax rows of each covered head, filled on first use: every case of
   * a scenario is scored on the same rows (at 180k tokens a head's rows cost seconds).
   */
  crossShotRows?: CrossShotRows[];
}

/** Head `h`'s cross-shot rows, computed once per scenario. */
function crossShotRowsOf(inputs: QualityInputs, h: number): CrossShotRows {
  const cache = inputs.crossShotRows ??= [];
  return cache[h] ??= crossShotRows(inputs.scenario, inputs.tensors[h], {
    samples: CROSS_SHOT_SAMPLES,
    seed: inputs.seed + h,
  });
}

/** Outputs of a case, per covered head, in the original token order. */
export interface CaseOutputs {
  /** Output rows [tokens, d]. */
  out: Float32Array[];
  /** Natural-log LSE per row. */
  lse: Float32Array[];
}

function coverageNote(inputs: QualityInputs): string | undefined {
  const { heads } = inputs.scenario;
  return inputs.heads < heads
    ? `quality over heads 0..${inputs.heads - 1} of ${heads} (CPU budget)`
    : undefined;
}

/** Dense (GPU kernel) against the float64 reference on sampled rows of head 0. */
export function denseReferenceQuality(inputs: QualityInputs, dense: CaseOutputs): Quality {
  const { scenario } = inputs;
  const d = scenario.headDim;
  const tokens = totalTokens(scenario);
  const rows = sampleQueries(tokens, { count: REFERENCE_ROWS, seed: inputs.seed });
  const reference = referenceAttention(inputs.tensors[0], { tokens, headDim: d, rows });
  const gpuRows = new Float32Array(rows.length * d);
  const refRows = new Float32Array(rows.length * d);
  const gpuLse = new Float32Array(rows.length);
  const refLse = new Float32Array(rows.length);
  rows.forEach((row, i) => {
    gpuRows.set(dense.out[0].subarray(row * d, (row + 1) * d), i * d);
    refRows.set(reference.out.subarray(row * d, (row + 1) * d), i * d);
    gpuLse[i] = dense.lse[0][row];
    refLse[i] = reference.lse[row];
  });
  const all = Int32Array.from(rows.keys());
  return {
    ...outputQuality([gpuRows], [refRows], d),
    recall: recallFromLse([gpuLse], [refLse], all),
    crossShotRecall: null,
    reference: "float64",
    note: `dense kernel vs float64 reference on ${rows.length} sampled rows of head 0`,
  };
}

/** A method against dense on the same inputs, over every covered head. */
export function methodQuality(
  inputs: QualityInputs,
  outputs: CaseOutputs,
  forms: ExecutionForm[],
): Quality {
  if (!inputs.dense) return noDenseQuality();
  const heads = Array.from({ length: outputs.out.length }, (_, h) => h);
  return { ...qualityOverHeads(inputs, outputs, forms, heads), note: coverageNote(inputs) };
}

/**
 * A method against dense on the same inputs, one quality a covered head (what `calibrate`
 * chooses per head by): the figures {@link methodQuality} sums over all heads, each over its head
 * alone, with the same sampled queries and per-head seeds.
 */
export function headQualities(
  inputs: QualityInputs,
  outputs: CaseOutputs,
  forms: ExecutionForm[],
): Quality[] {
  return outputs.out.map((_, h) =>
    inputs.dense ? qualityOverHeads(inputs, outputs, forms, [h]) : noDenseQuality()
  );
}

function noDenseQuality(): Quality {
  return {
    relL2: null,
    cosine: null,
    psnrDb: null,
    recall: null,
    crossShotRecall: null,
    note: "dense reference did not run",
  };
}

/** The proxies over the covered heads `heads` (inputs.dense must be set). */
function qualityOverHeads(
  inputs: QualityInputs,
  outputs: CaseOutputs,
  forms: ExecutionForm[],
  heads: number[],
): Quality {
  const dense = inputs.dense!;
  const { scenario } = inputs;
  const sample = sampleQueries(totalTokens(scenario), { seed: inputs.seed });
  let crossShot: number | null = null;
  if (scenario.shots.length > 1) {
    crossShot = crossShotRecall(
      heads.map((h) =>
        crossShotKept(crossShotRowsOf(inputs, h), forms[forms.length === 1 ? 0 : h])
      ),
    );
  }
  const pick = (arrays: Float32Array[]) => heads.map((h) => arrays[h]);
  return {
    ...outputQuality(pick(outputs.out), pick(dense.out), scenario.headDim),
    recall: recallFromLse(pick(outputs.lse), pick(dense.lse), sample),
    crossShotRecall: crossShot,
    reference: "dense",
  };
}

/**
 * The results file and its records (spec: docs/metrics.md, "Record schema").
 * Fields a run cannot fill are `null`, never invented.
 *
 * @module
 */
import type { AdapterFacts } from "../gpu/runtime.ts";
import type { Params, ParamValue } from "../methods/method.ts";

/** Version of the results-file schema; bump on any incompatible change. */
export const RESULTS_SCHEMA = "longshot.results/1";

/** Latency of one case (docs/metrics.md, "Latency"). All times in ms. */
export interface Latency {
  /** Median of the timed repeats (attention kernels, all heads). */
  median: number;
  /** 10th percentile. */
  p10: number;
  /** 90th percentile. */
  p90: number;
  /** Number of timed repeats. */
  n: number;
  /** `gpu` (timestamp queries) or `wall` (submit → onSubmittedWorkDone). */
  timer: "gpu" | "wall";
  /** Pipeline compilation and first-use cost, excluded from the samples. */
  compileMs: number;
  /** Median of the routing kernels (dynamic methods), else null. */
  routingMedian: number | null;
  /** Median of routing + attention together, else null for static methods. */
  totalMedian: number | null;
  /** Raw samples of the attention time, in run order. */
  samples: number[];
  /** Raw samples of the routing time, in run order (empty for static methods). */
  routingSamples: number[];
  /**
   * Median GPU time of each routing stage, ms (each step timed in a pass of its own); absent for
   * static methods and without timestamp queries.
   */
  routingStages?: Record<string, number>;
}

/** Quality proxies against dense attention on the same inputs (docs/metrics.md). */
export interface Quality {
  /** ‖O − O_dense‖_F / ‖O_dense‖_F. */
  relL2: number | null;
  /** Mean cosine of O_i and O_dense,i. */
  cosine: number | null;
  /** 20·log10(max|O_dense| / RMSE). */
  psnrDb: number | null;
  /** Dense softmax mass kept, mean over sampled queries. */
  recall: number | null;
  /** Share of dense mass on earlier shots that the method keeps (multi-shot only). */
  crossShotRecall: number | null;
  /** What the figures are against: `dense` (GPU dense kernel) or `float64` (CPU reference sample). */
  reference?: "dense" | "float64";
  /** Why fields are null, when they are. */
  note?: string;
}

/** Adapter facts as stored in a record. */
export type RecordAdapter = Pick<
  AdapterFacts,
  "description" | "vendor" | "architecture" | "fallback" | "backend"
>;

/** Precisions a run can use (`--precision`). */
export const PRECISIONS = ["f32", "f16", "f16-math"] as const;

/** One of {@link PRECISIONS}. */
export type Precision = typeof PRECISIONS[number];

/** How Q, K and V are stored under `precision` (`f16-math` stores f16). */
export function storagePrecision(precision: Precision): "f32" | "f16" {
  return precision === "f16-math" ? "f16" : precision;
}

/** The knob setting a frontier point ran (docs/frontier.md): the parameter turned and its value. */
export interface KnobSetting {
  /** Parameter name (`decay`, `window`, `k`, `groups`, or a user module's). */
  param: string;
  /** The setting, as the method's parameter takes it. */
  value: ParamValue;
}

/** One (scenario, method, parameter set, adapter) case. */
export interface BenchRecord {
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** Resolved method parameters. */
  params: Params;
  /** Adapter facts. */
  adapter: RecordAdapter;
  /** Sequence length L. */
  tokens: number;
  /** Text tokens inside L. */
  textTokens: number;
  /** Heads. */
  heads: number;
  /** Head dimension. */
  headDim: number;
  /**
   * Precision: `f32`; `f16` storage with f32 arithmetic; or `f16-math`, f16 storage and f16
   * products with f32 softmax statistics and outputs.
   */
  dtype: Precision;
  /** Where Q/K/V came from. */
  inputs: string;
  /** Dense forward FLOPs, 4·L²·d·heads. */
  denseFlops: number;
  /** Counted FLOPs of the layout that ran, all heads (4·d·attended pairs). */
  flops: number | null;
  /** FLOPs the kernel executed (every tile row × every key of its ranges), all heads. */
  executedFlops: number | null;
  /** Routing FLOPs (dynamic methods), else 0. */
  routingFlops: number | null;
  /** The paper's own formula, where it has one. */
  analyticFlops: number | null;
  /** 1 − attended pairs / L², mean over heads. */
  tokenSparsity: number | null;
  /** 1 − computed blocks / all blocks at the method's block size, mean over heads. */
  blockSparsity: number | null;
  /** Block size `blockSparsity` is measured at. */
  blockSize: number | null;
  /** `sha256:…` of the layout that ran (records/layout_digest.ts), so compare holds it exact. */
  layoutDigest?: string | null;
  /** Latency, or null when the case did not run on a GPU. */
  latency: Latency | null;
  /** Effective TFLOP/s = counted FLOPs / median. */
  tflops: number | null;
  /** Dense median / method median, same run. */
  speedup: number | null;
  /** Speedup ÷ (dense FLOPs / counted FLOPs). */
  efficiency: number | null;
  /**
   * Attended pairs ÷ pairs the kernel's workgroups run at their row block (idle rows of short
   * tiles counted), all heads and branches; a count, not a timing (docs/metrics.md). Absent in
   * files written before it existed.
   */
  kernelEfficiency?: number | null;
  /** Quality proxies, or null with `--no-quality`. */
  quality: Quality | null;
  /** Method-specific figures (group sizes…). */
  stats: Record<string, number | string> | null;
  /** Assumptions the method states. */
  notes: string[];
  /** Peak GPU memory the case allocated, bytes. */
  memoryBytes: number | null;
  /** Why the case failed, when it did. */
  error?: string;
  /**
   * Frontier runs only: the knob setting this point ran, or null for the dense reference and a
   * method without a knob (docs/frontier.md).
   */
  knob?: KnobSetting | null;
}

/** Facts about the whole run, at the top of a results file. */
export interface RunMeta {
  /** Schema version ({@link RESULTS_SCHEMA}). */
  schema: string;
  /** Suite name and version (`default@1`). */
  suite: string;
  /** Git commit of the working tree, when available. */
  commit: string | null;
  /** ISO date of the run. */
  date: string;
  /** Deno version. */
  deno: string;
  /** The command line. */
  command: string;
  /** Input seed. */
  seed: number;
  /** The adapter, with limits and features. */
  adapter: AdapterFacts | null;
  /** `--shard I/N` of this run, or null. */
  shard: string | null;
}

/** One configuration of a whole run (docs/metrics.md, "Whole run"). */
export interface WholeRunConfig {
  /** The method spec that runs. */
  spec: string;
  /** (step, layer, head) cells that run it. */
  cells: number;
  /** Counted FLOPs of one head of one layer call (the record's FLOPs ÷ its heads). */
  flopsPerHead: number | null;
  /** Median time of one head of one layer call, ms (routing + attention where it routes). */
  msPerHead: number | null;
}

/** A method's whole generation run on a scenario with a schedule (docs/metrics.md, "Whole run"). */
export interface WholeRunSummary {
  /** Scenario name. */
  scenario: string;
  /** The method spec as given to `--methods`. */
  method: string;
  /** Layers of the model. */
  layers: number;
  /** Denoising steps. */
  steps: number;
  /** Heads of the scenario. */
  heads: number;
  /** Where the schedule comes from. */
  source: string;
  /** The distinct configurations that run, each measured once. */
  configs: WholeRunConfig[];
  /** Σ over cells of counted FLOPs. */
  flops: number | null;
  /** The same cells all dense. */
  denseFlops: number | null;
  /** Σ over cells of time, ms. */
  ms: number | null;
  /** The same cells all dense, ms. */
  denseMs: number | null;
  /** denseFlops ÷ flops. */
  flopsRatio: number | null;
  /** denseMs ÷ ms: the whole-run attention speedup. */
  speedup: number | null;
  /** Attention's share of a dense step's time the projection assumes (`--attention-share`). */
  attentionShare: number;
  /** 1 / ((1 − share) + share / speedup): the projected end-to-end speedup. */
  endToEndSpeedup: number | null;
  /** Frontier runs only: the knob setting of `method` (as on its records). */
  knob?: KnobSetting | null;
  /**
   * Frontier runs only: the method name its records carry (a user module's own name where
   * `method` is the module's path), so a point's record and whole run join.
   */
  methodName?: string;
}

/** A results file: run facts and records. */
export interface ResultsFile extends RunMeta {
  /** One record a case. */
  records: BenchRecord[];
  /** Whole-run figures of every (scenario with a schedule, method); absent without schedules. */
  wholeRun?: WholeRunSummary[];
}

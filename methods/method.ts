/**
 * The method plug-in interface: a method is `{ name, params, dynamic, layout(scenario, context) }`
 * returning the execution form (docs/methods.md). Static methods are pure functions of the scenario;
 * dynamic ones also read Q/K (on the GPU when a runtime is given).
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { GpuQkv } from "../gpu/upload_qkv.ts";
import type { RoutingTiming } from "../kernels/routing_program.ts";
import type { QkvSource } from "../scenarios/inputs.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import type { ExecutionForm } from "../form/form.ts";
import type { TokenPooling } from "../form/pooling.ts";

/** A parameter value: number, string, boolean or a list of numbers (`3x3x3`). */
export type ParamValue = number | string | boolean | number[];

/** A method's parameters by name. */
export type Params = Record<string, ParamValue>;

/** What a method's layout may read besides the scenario. */
export interface LayoutContext {
  /** Q/K/V on the CPU (dynamic methods; `plan` without a GPU). */
  inputs?: QkvSource;
  /** The GPU runtime, when routing should run on the GPU. */
  gpu?: GpuRuntime;
  /** Q/K/V already uploaded to `gpu`. */
  gpuInputs?: GpuQkv;
  /** Heads whose layout is wanted (default: every head). */
  heads?: number[];
  /** Seed for any random choice a method makes (k-means initialisation). */
  seed?: number;
  /**
   * Untimed runs of a dynamic method's GPU routing before it is timed (default 1, then more
   * until gpu/timing.ts GPU_WARMUP_MS have passed; 0: none).
   */
  routingWarmup?: number;
  /** Timed runs of a dynamic method's GPU routing (default 3; 0 = not timed). */
  routingRepeats?: number;
}

/** A further attention branch of a layout (MoGA's spatial-temporal and per-frame attention). */
export interface LayoutBranch {
  /** Short name for notes and reports (`spatial-temporal`, `frame`, `coarse`). */
  name: string;
  /**
   * One form for all heads, or one form per requested head. Over the pooled sequence when
   * `pooling` is set (its `tokens` = the number of groups), else over the L tokens.
   */
  forms: ExecutionForm[];
  /**
   * Runs the branch on a pooled sequence: row g's Q/K/V are the means of group g's tokens
   * (VSA's cube means); a token gets its group's output row, a token in no group none.
   */
  pooling?: TokenPooling;
  /** Weight of this branch's output under `merge: "gated-sum"` (default 1). */
  gate?: number;
}

/**
 * How a layout's branches are merged per token: `mean` (MoGA: the mean of every branch's output,
 * LSE the largest branch LSE), `gated-sum` (VSA: the main output plus each branch's output times
 * its `gate`, LSE the main branch's) or `lse` (outputs weighted by their branch's softmax mass:
 * the exact softmax over the union of the branches' keys when no query sees a key in two
 * branches; no pooled branch).
 */
export type BranchMerge = "mean" | "gated-sum" | "lse";

/**
 * How a layout runs when the kernel should run other forms than the ones that define its attended
 * pairs (MoC's key-chunk-major execution: the same pairs as branches merged by log-sum-exp).
 */
export interface LayoutExecution {
  /** One form for all heads, or one form per requested head. */
  forms: ExecutionForm[];
  /** Further branches, run and merged as {@link MethodLayout.branches}. */
  branches?: LayoutBranch[];
  /** How the branches merge (default `mean`). */
  merge?: BranchMerge;
}

/** A method's layout for one scenario (and inputs). */
export interface MethodLayout {
  /** One form for all heads, or one form per requested head. */
  forms: ExecutionForm[];
  /**
   * Further branches run like `forms`; when present, a token's output merges the outputs of
   * `forms` and of every branch as `merge` says. FLOPs count every branch.
   */
  branches?: LayoutBranch[];
  /** How branches merge (default `mean`). */
  merge?: BranchMerge;
  /**
   * What the kernel runs instead of `forms` and `branches`, attending exactly their pairs: the
   * FLOPs, sparsity, mask pictures, quality proxies and layout exports come from `forms` and
   * `branches`; the timing, kernel efficiency, executed FLOPs and layout digest from this. Bench
   * checks the number of pairs only (an equal count of other pairs would pass): the method's own
   * tests must show the two attend the same pairs (MoC: methods/moc_form_test.ts).
   */
  execution?: LayoutExecution;
  /** FLOPs of routing work (pooling, scoring, router matmul, top-k compares), all heads. */
  routingFlops: number;
  /** Parameters as resolved for this scenario, when a default depends on it (Radial's decay). */
  params?: Params;
  /** GPU time of the routing kernels, when they ran on the GPU. */
  routing?: RoutingTiming;
  /** Method-specific figures for the record (e.g. MoGA group sizes). */
  stats?: Record<string, number | string>;
  /** Assumptions and deviations the report must state. */
  notes?: string[];
}

/** A sparse-attention method behind the one small interface. */
export interface Method {
  /** Registry name (`dense`, `radial`, …) or the user's module name. */
  readonly name: string;
  /** Resolved parameters (defaults filled in). */
  readonly params: Params;
  /** True when the layout depends on Q/K. */
  readonly dynamic: boolean;
  /** The execution form for `scenario`. */
  layout(scenario: Scenario, context: LayoutContext): MethodLayout | Promise<MethodLayout>;
  /** The paper's own FLOPs formula for all heads, or null where it has none. */
  analyticFlops?(scenario: Scenario): number | null;
}

/**
 * The one parameter a frontier sweep and a calibration turn (docs/methods.md, "Knobs"): its name
 * and the settings to try on a scenario, ordered from the densest (best quality) to the sparsest.
 */
export interface MethodKnob {
  /** Parameter name (`decay`, `window`, `k`, `groups`). */
  param: string;
  /** One line: what turning it does (for `list` and the report). */
  summary: string;
  /** Settings to try on `scenario`, densest first; every one is valid for the method. */
  grid(scenario: Scenario): ParamValue[];
  /**
   * The parameter that takes one knob setting a head, joined by `/` (`windows=3x3x3/1x6x10`), when
   * the method allows per-head settings; `calibrate` then chooses every head on its own.
   */
  perHeadParam?: string;
}

/** Describes a method in the registry: its parameters and how to make one. */
export interface MethodDefinition {
  /** Registry name. */
  name: string;
  /** One line: what it is and where it comes from. */
  summary: string;
  /** Default parameters. */
  defaults: Params;
  /** One line per parameter: meaning and allowed values. */
  paramDocs: Record<string, string>;
  /** A method with `params` (defaults filled in), validated with clear errors. */
  create(params: Params): Method;
  /** The knob frontier sweeps and calibration turn; absent for dense. */
  knob?: MethodKnob;
}

/** Thrown for a bad method spec or parameter; the message names the parameter and allowed values. */
export class MethodSpecError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the field and the allowed values
   */
  constructor(message: string) {
    super(message);
    this.name = "MethodSpecError";
  }
}

/**
 * Thrown by a method that cannot run on a scenario by its definition (STA on a canvas that does
 * not divide into whole tiles). The case is recorded with this error; `bench` counts it as not
 * applicable rather than as a failure of the run.
 */
export class UnsupportedScenarioError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the scenario field and what the method needs
   */
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedScenarioError";
  }
}

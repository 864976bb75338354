/**
 * The main job: runs (scenario × method) cases on the GPU and returns their records
 * (docs/metrics.md). Per scenario, Q/K/V are uploaded once; dense runs first as the reference for
 * speedup and quality; every case is timed with warm-up and repeats, its outputs poisoned
 * before the timed runs and checked after. A failing case is recorded with its error and the
 * sweep goes on; a lost device ends the run cleanly.
 *
 * @module
 */
import { DeviceLostError, type GpuRuntime } from "../gpu/runtime.ts";
import { summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import { type GpuQkv, uploadQkv } from "../gpu/upload_qkv.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import { BranchedAttention, type CaseAttention } from "../kernels/branched_attention.ts";
import { blockGrid, type ExecutionForm, validateForm } from "../form/form.ts";
import { validatePooling } from "../form/pooling.ts";
import type { LayoutExecution, Method } from "../methods/method.ts";
import { attentionBranches, branchMergeParts, lseRule } from "./branch_merge.ts";
import type { HeadTensors, QkvSource } from "../scenarios/inputs.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import {
  type BenchRecord,
  type Latency,
  type Precision,
  type Quality,
  type RecordAdapter,
  storagePrecision,
} from "../records/schema.ts";
import { type AttentionTiling, tilingName } from "../kernels/attention_tiling.ts";
import type { TilingChoice } from "../kernels/attention_tuner.ts";
import { kernelEfficiency } from "../kernels/row_block.ts";
import { caseFigures, caseIdentity, denseFlops } from "../metrics/case_figures.ts";
import {
  type CaseOutputs,
  denseReferenceQuality,
  headQualities,
  methodQuality,
  type QualityInputs,
} from "./quality_pass.ts";
import { layoutDigest } from "../records/layout_digest.ts";
import { type AttentionDecay, attentionDecay } from "../metrics/decay.ts";
import { maskPng, textBlocks } from "../reports/mask_png.ts";
import { methodLabels } from "../records/file_name.ts";
import { formatParams } from "../methods/spec.ts";

/** One scenario with its inputs and the methods to run on it. */
export interface ScenarioCases {
  /** The scenario. */
  scenario: Scenario;
  /** Its Q/K/V. */
  inputs: QkvSource;
  /** Methods to run, in order; `recorded[i]` says whether method i's record belongs to this run. */
  methods: Method[];
  /** False for a method run only as the dense reference of another shard's record. */
  recorded: boolean[];
  /**
   * Frontier sweeps: a static method whose layout is identical (same method, same layout digest)
   * to an earlier case of the scenario reuses that case's timing and outputs instead of running
   * again; its record says so in a note.
   */
  reuseIdenticalLayouts?: boolean;
}

/** Timing and quality settings of a run. */
export interface RunSettings {
  /** Precision (storage, and for `f16-math` the arithmetic of the products). */
  precision: Precision;
  /** Kernel tiling; undefined = the tuner's choice for the adapter. */
  tiling?: AttentionTiling;
  /** Untimed warm-up runs per case. */
  warmup: number;
  /** Wall time a case's warm-up lasts at least, ms (gpu/timing.ts `warmupMs`; default 0). */
  warmupMs?: number;
  /** Timed repeats per case (fewer, at least 3, when a case passes `budgetMs`). */
  repeats: number;
  /** Wall-time budget of one case's timed repeats, ms. */
  budgetMs: number;
  /** Compute the quality proxies. */
  quality: boolean;
  /** Seed for sampled queries and any method randomness. */
  seed: number;
}

/** Pictures and curves a run produces for its report. */
export interface RunArtifacts {
  /** The scenarios' decay curves (head 0), when quality ran. */
  decay: AttentionDecay[];
  /** Mask picture (PNG) of head 0's layout, per scenario and method label. */
  masks: Array<{ scenario: string; method: string; png: Uint8Array }>;
}

/** Called when a case starts (progress line). */
export type ProgressHook = (event: { done: number; total: number; label: string }) => void;

/** Called after each warm-up or timed run inside a case: runs of that phase done, of how many. */
export type CaseStepHook = (step: { phase: "warmup" | "timed"; done: number; of: number }) => void;

/**
 * Called after a method's quality pass with one quality a covered head (`calibrate` chooses per
 * head by it); not called for dense or a case without quality.
 */
export type HeadQualityHook = (event: { method: Method; heads: Quality[] }) => void;

/** What {@link runCases} reports as it goes, and the pictures and curves it collects. */
export interface RunHooks {
  /** Before each case. */
  onProgress?: ProgressHook;
  /** After each warm-up or timed run inside a case. */
  onStep?: CaseStepHook;
  /** After each method's quality pass, per head. */
  onHeadQuality?: HeadQualityHook;
  /** Filled with the decay curves and mask pictures. */
  artifacts?: RunArtifacts;
}

/** Largest number of floats of dense outputs kept on the CPU for quality (1 GiB of f32). */
const QUALITY_FLOAT_BUDGET = 256 * 1024 * 1024;

/** Heads whose tensors and dense outputs are kept on the CPU for the quality proxies. */
export function qualityHeadsOf(scenario: Scenario, quality: boolean): number {
  if (!quality) return 0;
  const perHead = totalTokens(scenario) * scenario.headDim;
  return Math.max(1, Math.min(scenario.heads, Math.floor(QUALITY_FLOAT_BUDGET / perHead)));
}

function adapterOf(runtime: GpuRuntime): RecordAdapter {
  const { description, vendor, architecture, fallback, backend } = runtime.facts;
  return { description, vendor, architecture, fallback, backend };
}

/** The method's analytic FLOPs, or null where it has no formula or refuses the scenario. */
function analyticFlopsOf(method: Method, scenario: Scenario): number | null {
  try {
    return method.analyticFlops?.(scenario) ?? null;
  } catch {
    return null;
  }
}

/** A record skeleton with every field a case may fill set to null. */
export function emptyRecord(
  scenario: Scenario,
  method: Method,
  adapter: RecordAdapter,
  settings: { precision: Precision; inputs: string },
): BenchRecord {
  const { scenario: name, method: methodName, params, ...shape } = caseIdentity(scenario, method);
  return {
    scenario: name,
    method: methodName,
    params,
    adapter,
    ...shape,
    dtype: settings.precision,
    inputs: settings.inputs,
    denseFlops: denseFlops(shape.tokens, shape.headDim, shape.heads),
    flops: null,
    executedFlops: null,
    routingFlops: null,
    analyticFlops: analyticFlopsOf(method, scenario),
    tokenSparsity: null,
    blockSparsity: null,
    blockSize: null,
    latency: null,
    tflops: null,
    speedup: null,
    efficiency: null,
    kernelEfficiency: null,
    quality: null,
    stats: null,
    notes: [],
    memoryBytes: null,
  };
}

/** Thrown when a case's outputs hold a value that is not finite (NaN or ±Infinity). */
export class NonFiniteOutputError extends Error {
  /**
   * Creates the instance.
   * @param message where the value is and what it is
   */
  constructor(message: string) {
    super(message);
    this.name = "NonFiniteOutputError";
  }
}

/** Note of a record whose layout attends no (query, key) pair. */
export const NOTHING_ATTENDED_NOTE =
  "nothing attended: the layout attends no (query, key) pair, so every output row is empty";

/**
 * Reads every head's outputs back after the timed runs and checks them: a poisoned LSE (NaN) is
 * a row the kernel did not write, and every output value must be finite. Returns the out rows
 * and LSEs of the first `keepHeads` heads (for quality).
 */
async function readCheckedOutputs(
  runtime: GpuRuntime,
  program: CaseAttention,
  keepHeads: number,
): Promise<{ out: Float32Array[]; lse: Float32Array[] }> {
  const kept: { out: Float32Array[]; lse: Float32Array[] } = { out: [], lse: [] };
  for (let h = 0; h < program.outputs.lse.length; h++) {
    const lse = new Float32Array(await runtime.read(program.outputs.lse[h]));
    const row = lse.findIndex(Number.isNaN);
    if (row >= 0) {
      throw new Error(`kernel left head ${h} row ${row} unwritten (NaN poison survived)`);
    }
    const out = new Float32Array(await runtime.read(program.outputs.out[h]));
    const bad = out.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      const width = out.length / lse.length;
      throw new NonFiniteOutputError(
        `output of head ${h} row ${Math.floor(bad / width)} column ${bad % width} is ` +
          `${out[bad]}; every output value must be finite`,
      );
    }
    if (h < keepHeads) {
      kept.out.push(out);
      kept.lse.push(lse);
    }
  }
  return kept;
}

/** Throws a RangeError naming the method unless `routingFlops` is a finite number ≥ 0. */
function checkRoutingFlops(method: Method, routingFlops: unknown): void {
  if (typeof routingFlops !== "number" || !Number.isFinite(routingFlops) || routingFlops < 0) {
    throw new RangeError(
      `${method.name}: routingFlops must be a finite number ≥ 0 (got ${String(routingFlops)})`,
    );
  }
}

interface CaseResult {
  record: BenchRecord;
  forms?: ExecutionForm[];
  outputs?: CaseOutputs;
}

/** Earlier cases of a scenario by method and layout digest (see `reuseIdenticalLayouts`). */
type LayoutCache = Map<string, CaseResult>;

/** The note of a record whose timing and outputs are those of an identical earlier layout. */
export function reusedLayoutNote(earlier: BenchRecord): string {
  return `same layout as ${earlier.method} ${formatParams(earlier.params)} (layout digest ` +
    `equal): timing and outputs reused, not measured again`;
}

async function runCase(
  runtime: GpuRuntime,
  group: ScenarioCases,
  method: Method,
  gpuInputs: GpuQkv,
  settings: RunSettings,
  quality: QualityInputs | null,
  hooks: { onStep?: CaseStepHook; layouts?: LayoutCache } = {},
): Promise<CaseResult> {
  const { onStep, layouts } = hooks;
  const { scenario, inputs } = group;
  const record = emptyRecord(scenario, method, adapterOf(runtime), {
    precision: settings.precision,
    inputs: inputs.description,
  });
  const layout = await method.layout(scenario, {
    gpu: runtime,
    gpuInputs,
    inputs,
    seed: settings.seed,
  });
  // `attended` defines the pairs (FLOPs, sparsity, quality); `run` is what the kernel runs.
  const run: LayoutExecution = layout.execution ?? layout;
  const tokens = totalTokens(scenario);
  const branchesOf = (part: LayoutExecution) => {
    for (const branch of part.branches ?? []) {
      if (branch.pooling) validatePooling(branch.pooling, tokens);
    }
    const forms = [part.forms, ...(part.branches ?? []).map((b) => b.forms)];
    forms.flat().forEach(validateForm);
    return forms;
  };
  const attended = branchesOf(layout);
  const branches = layout.execution ? branchesOf(layout.execution) : attended;
  // A user module's analytic FLOPs are known once its layout ran (methods/user_module.ts).
  record.analyticFlops = analyticFlopsOf(method, scenario);
  checkRoutingFlops(method, layout.routingFlops);
  const shape = { tokens, headDim: scenario.headDim, heads: scenario.heads };
  const figuresOf = (forms: ExecutionForm[][]) => caseFigures(forms, shape);
  const figures = figuresOf(attended);
  if (layout.execution) {
    const ran = figuresOf(branches);
    if (ran.flops !== figures.flops) {
      throw new RangeError(
        `${method.name}: its execution attends ${ran.flops} FLOPs' worth of pairs, its layout ` +
          `${figures.flops}: an execution must attend the layout's pairs`,
      );
    }
    figures.executedFlops = ran.executedFlops;
  }
  Object.assign(record, figures);
  record.layoutDigest = await layoutDigest(branches.flat(), branchMergeParts(run));
  record.routingFlops = layout.routingFlops;
  record.stats = layout.stats ?? null;
  record.notes = [...(layout.notes ?? [])];
  if (figures.flops === 0) record.notes.push(NOTHING_ATTENDED_NOTE);
  if (layout.params) record.params = layout.params;
  const cacheKey = `${method.name}\u0000${record.layoutDigest}`;
  const earlier = method.dynamic ? undefined : layouts?.get(cacheKey);
  if (earlier) {
    const { latency, tflops, memoryBytes, notes } = earlier.record;
    const kernelNotes = notes.filter((note) => note.startsWith("kernel tiling"));
    record.notes.push(...kernelNotes, reusedLayoutNote(earlier.record));
    const { kernelEfficiency } = earlier.record;
    Object.assign(record, { latency, tflops, memoryBytes, kernelEfficiency });
    return { record, outputs: earlier.outputs, forms: earlier.forms };
  }
  const kernelOptions = {
    math: settings.precision === "f16-math" ? "f16" as const : "f32" as const,
    tiling: settings.tiling,
  };
  const program: CaseAttention = branches.length > 1
    ? await BranchedAttention.create(
      runtime,
      attentionBranches(run),
      gpuInputs,
      { ...kernelOptions, lse: lseRule(run) },
    )
    : await AttentionProgram.create(runtime, run.forms, gpuInputs, kernelOptions);
  record.notes.push(tilingNote(program.tilings));
  record.kernelEfficiency = kernelEfficiency(
    branches.map((forms, b) => ({ forms, rowBlock: program.tilings[b].tiling.blockQ })),
    scenario.heads,
  );
  try {
    const timing = await timeComputePass(runtime, (pass) => program.encode(pass), {
      warmup: settings.warmup,
      warmupMs: settings.warmupMs,
      repeats: settings.repeats,
      budgetMs: settings.budgetMs,
      beforeTimed: () => program.poisonOutputs(),
      onRun: (phase, done, of) => onStep?.({ phase, done, of }),
    });
    const outputs = await readCheckedOutputs(runtime, program, quality?.heads ?? 0);
    const samples = timing.samples;
    const routingSamples = layout.routing?.samples ?? [];
    const routingMedian = routingSamples.length ? summarizeSamples(routingSamples).median : null;
    const summary = summarizeSamples(samples);
    const latency: Latency = {
      ...summary,
      n: samples.length,
      timer: timing.timer,
      // Compilation (0 when the pipeline was cached) plus the first run's extra cost.
      compileMs: program.compileMs + Math.max(0, timing.firstRunMs - summary.median),
      routingMedian,
      totalMedian: routingMedian === null ? null : routingMedian + summary.median,
      samples,
      routingSamples,
      ...(layout.routing?.stages ? { routingStages: layout.routing.stages } : {}),
    };
    record.latency = latency;
    record.tflops = figures.flops / (summary.median * 1e-3) / 1e12;
    record.memoryBytes = program.memoryBytes + gpuBytes(gpuInputs);
    const result = { record, outputs: quality ? outputs : undefined, forms: layout.forms };
    if (layouts && !method.dynamic) layouts.set(cacheKey, result);
    return result;
  } finally {
    program.release();
  }
}

/**
 * The record's note on the kernel tilings: each distinct one with its source, and the tiling it
 * was narrowed from where its row block was fitted to the forms (kernels/row_block.ts).
 */
function tilingNote(tilings: TilingChoice[]): string {
  const named = tilings.map((choice) => {
    const from = choice.narrowedFrom
      ? `, rows narrowed from ${tilingName(choice.narrowedFrom)} to fit the forms' tiles`
      : "";
    return `${tilingName(choice.tiling)} (${choice.source}${from})`;
  });
  return `kernel tiling ${[...new Set(named)].join(" + ")}`;
}

function gpuBytes(inputs: GpuQkv): number {
  return [...inputs.q, ...inputs.k, ...inputs.v].reduce((sum, b) => sum + b.size, 0);
}

function fillRelative(record: BenchRecord, dense: BenchRecord | null): void {
  if (!dense?.latency || !record.latency || record.flops === null) return;
  record.speedup = dense.latency.median / record.latency.median;
  record.efficiency = record.speedup / (record.denseFlops / record.flops);
}

/**
 * Runs every case of `groups` and returns the records that belong to this run, in order.
 * `onProgress` is called before each case, `onStep` after each of its warm-up and timed runs,
 * `onHeadQuality` after each method's quality pass.
 */
export async function runCases(
  runtime: GpuRuntime,
  groups: ScenarioCases[],
  settings: RunSettings,
  hooks: RunHooks = {},
): Promise<BenchRecord[]> {
  const run: RunState = {
    runtime,
    groups,
    settings,
    hooks,
    records: [],
    done: 0,
    total: groups.reduce((n, g) => n + g.methods.length, 0),
  };
  for (let g = 0; g < groups.length; g++) {
    if (runtime.lost) {
      recordNotRun(run, g, 0);
      break;
    }
    const inputs = await uploadScenario(run, groups[g]);
    if (inputs === null) {
      if (runtime.lost) {
        recordNotRun(run, g + 1, 0);
        break;
      }
      continue;
    }
    if (await runScenario(run, g, inputs) === "device lost") break;
    runtime.release([...inputs.gpu.q, ...inputs.gpu.k, ...inputs.gpu.v]);
  }
  return run.records;
}

/** What {@link runCases} carries from step to step: its inputs, the records so far, progress. */
interface RunState {
  runtime: GpuRuntime;
  groups: ScenarioCases[];
  settings: RunSettings;
  hooks: RunHooks;
  records: BenchRecord[];
  done: number;
  total: number;
}

/** A scenario's inputs on the GPU and, for the quality pass, its first heads on the CPU. */
interface ScenarioInputs {
  gpu: GpuQkv;
  cpuHeads: HeadTensors[];
  qualityHeads: number;
}

/** The record of case `i` of `group` that failed with `message`. */
function failedRecord(run: RunState, group: ScenarioCases, i: number, message: string) {
  const record = emptyRecord(group.scenario, group.methods[i], adapterOf(run.runtime), {
    precision: run.settings.precision,
    inputs: group.inputs.description,
  });
  record.error = message;
  return record;
}

/** After a lost device nothing more can run: the remaining cases are recorded as not run. */
function recordNotRun(run: RunState, fromGroup: number, fromMethod: number): void {
  for (let g = fromGroup; g < run.groups.length; g++) {
    const group = run.groups[g];
    for (let i = g === fromGroup ? fromMethod : 0; i < group.methods.length; i++) {
      if (group.recorded[i]) {
        run.records.push(failedRecord(run, group, i, "not run: the GPU device was lost"));
      }
    }
  }
}

/**
 * Uploads the scenario's Q/K/V, keeps the quality heads on the CPU and computes head 0's decay
 * curves; null (every case recorded as failed) when the inputs cannot be read or uploaded.
 */
async function uploadScenario(
  run: RunState,
  group: ScenarioCases,
): Promise<ScenarioInputs | null> {
  const { runtime, settings } = run;
  const { scenario } = group;
  const qualityHeads = qualityHeadsOf(scenario, settings.quality);
  const cpuHeads: HeadTensors[] = [];
  let gpu: GpuQkv;
  try {
    runtime.assertAlive();
    const storage = storagePrecision(settings.precision);
    gpu = await uploadQkv(runtime, group.inputs, storage, (h, t) => {
      if (h < qualityHeads) cpuHeads.push(t);
    });
  } catch (error) {
    run.done += group.methods.length;
    const message = `${(error as Error).name}: inputs: ${(error as Error).message}`;
    group.methods.forEach((_, i) =>
      group.recorded[i] && run.records.push(failedRecord(run, group, i, message))
    );
    return null;
  }
  const { artifacts } = run.hooks;
  if (artifacts && cpuHeads.length > 0) {
    artifacts.decay.push(attentionDecay(scenario, cpuHeads[0], { seed: settings.seed }));
  }
  return { gpu, cpuHeads, qualityHeads };
}

/** Runs every case of group `g` in order, dense first; stops at a lost device. */
async function runScenario(
  run: RunState,
  g: number,
  inputs: ScenarioInputs,
): Promise<"done" | "device lost"> {
  const { runtime, settings } = run;
  const group = run.groups[g];
  const { scenario } = group;
  const labels = methodLabels(group.methods);
  const quality: QualityInputs | null = settings.quality
    ? {
      scenario,
      heads: inputs.qualityHeads,
      tensors: inputs.cpuHeads,
      seed: settings.seed,
      dense: null,
    }
    : null;
  let denseRecord: BenchRecord | null = null;
  const groupRecords: BenchRecord[] = [];
  const layouts: LayoutCache | undefined = group.reuseIdenticalLayouts ? new Map() : undefined;
  for (let i = 0; i < group.methods.length; i++) {
    const method = group.methods[i];
    run.hooks.onProgress?.({
      done: run.done,
      total: run.total,
      label: `${scenario.name} × ${method.name}`,
    });
    run.done++;
    let result: CaseResult;
    try {
      runtime.assertAlive();
      result = await runCase(
        runtime,
        group,
        method,
        inputs.gpu,
        settings,
        quality,
        { onStep: run.hooks.onStep, layouts },
      );
    } catch (error) {
      result = {
        record: failedRecord(
          run,
          group,
          i,
          `${(error as Error).name}: ${(error as Error).message}`,
        ),
      };
      if (error instanceof DeviceLostError || runtime.lost) {
        if (group.recorded[i]) groupRecords.push(result.record);
        run.records.push(...groupRecords);
        recordNotRun(run, g, i + 1);
        return "device lost";
      }
    }
    const isDenseReference = method.name === "dense" && i === 0 && !result.record.error;
    if (isDenseReference) denseRecord = result.record;
    finishCase(run, quality, { method, result, isDenseReference, denseRecord });
    const { artifacts } = run.hooks;
    if (artifacts && result.forms && group.recorded[i]) {
      const form = result.forms[0];
      artifacts.masks.push({
        scenario: scenario.name,
        method: labels[i],
        png: maskPng(blockGrid(form), { textBlocks: textBlocks(scenario, form) }),
      });
    }
    const record = result.record;
    if (group.recorded[i]) groupRecords.push(record);
  }
  run.records.push(...groupRecords);
  return "done";
}

/**
 * Quality of a finished case (the dense reference against float64, any other method against
 * dense) and its speedup and efficiency against the dense record.
 */
function finishCase(
  run: RunState,
  quality: QualityInputs | null,
  step: {
    method: Method;
    result: CaseResult;
    isDenseReference: boolean;
    denseRecord: BenchRecord | null;
  },
): void {
  const { record, outputs, forms } = step.result;
  if (step.isDenseReference) {
    if (quality && outputs) {
      quality.dense = outputs;
      record.quality = denseReferenceQuality(quality, outputs);
    }
  } else if (quality && outputs && forms && !record.error) {
    record.quality = methodQuality(quality, outputs, forms);
    run.hooks.onHeadQuality?.({
      method: step.method,
      heads: headQualities(quality, outputs, forms),
    });
  } else if (run.settings.quality && !record.error) {
    record.quality = qualityUnavailable("dense reference did not run");
  }
  fillRelative(record, step.denseRecord);
}

function qualityUnavailable(note: string): Quality {
  return { relL2: null, cosine: null, psnrDb: null, recall: null, crossShotRecall: null, note };
}

/**
 * Longshot: a benchmark of sparse attention for long video generation — FLOPs, time, sparsity
 * and accuracy of dense attention, Mixture of Contexts, Mixture-of-Groups Attention, Radial
 * Attention and Sliding Tile Attention, on any WebGPU adapter.
 *
 * The library API mirrors the CLI: resolve a scenario, make a method, get its execution form
 * (the one shape every method runs as), count what it costs, run it on the GPU.
 *
 * @example Plan a method without a GPU
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutFigures, preset, resolveMethod } from "./mod.ts";
 *
 * const scenario = preset("hunyuan-117f-768x1280", "ci");
 * const radial = await resolveMethod("radial:decay=1");
 * const layout = await radial.layout(scenario, {});
 * const figures = layoutFigures(layout.forms, scenario.headDim, scenario.heads);
 * assert.ok(figures.tokenSparsity > 0 && figures.tokenSparsity < 1);
 * assert.equal(figures.flops % (4 * scenario.headDim), 0);
 * ```
 *
 * @module
 */
export * from "./form/form.ts";
export type { TokenPooling } from "./form/pooling.ts";
export * from "./methods/method.ts";
export * from "./methods/spec.ts";
export { METHODS, resolveMethod, type ResolveMethodOptions } from "./methods/registry.ts";
export * from "./scenarios/scenario.ts";
export type { HeadTensors, HiddenStates, QkvSource } from "./scenarios/inputs.ts";
export {
  preset,
  type PresetInfo,
  presetNames,
  PRESETS,
  type PresetSize,
} from "./scenarios/presets.ts";
export {
  parseScenario,
  type ParseScenarioOptions,
  resolveScenario,
} from "./scenarios/scenario_file.ts";
export { syntheticInputs, type SyntheticOptions } from "./scenarios/synthetic.ts";
export {
  type FileInputOptions,
  type FileInputs,
  type FileQkvSource,
  loadFileInputs,
} from "./scenarios/file_inputs.ts";
export type { TensorDtype, TensorLayout } from "./scenarios/tensor_file.ts";
export type {
  IndexRange,
  MethodSchedule,
  RuleCells,
  RuleParams,
  Schedule,
  ScheduleRule,
} from "./scenarios/schedule.ts";
export {
  type AdapterFacts,
  type BindingKind,
  type CompiledPipeline,
  GpuRuntime,
  type OpenOptions,
} from "./gpu/runtime.ts";
export {
  ATTENTION_STEPS,
  type AttentionOutputs,
  AttentionProgram,
  type AttentionProgramOptions,
  type AttentionStep,
} from "./kernels/attention.ts";
export {
  type AttentionTiling,
  type KernelMath,
  parseTiling,
  type RowBlockTiling,
  type RowKernelTiling,
  type TileKernelTiling,
  tilingName,
} from "./kernels/attention_tiling.ts";
export type { TilingChoice } from "./kernels/attention_tuner.ts";
export type { RoutingTiming } from "./kernels/routing_program.ts";
export type { GpuQkv } from "./gpu/upload_qkv.ts";
export { type ReferenceAttention, referenceAttention } from "./kernels/reference.ts";
export { denseFlops, type LayoutFigures, layoutFigures } from "./metrics/case_figures.ts";
export type { AttentionDecay, DecayPoint } from "./metrics/decay.ts";
export { type BenchConfig, type BenchOutcome, runBench, writeRunFiles } from "./bench/bench.ts";
export type { CaseStepHook, ProgressHook, RunArtifacts, RunSettings } from "./bench/runner.ts";
export { type Suite, type SuiteKind, SUITES } from "./bench/suites.ts";
export {
  type CalibrationConfig,
  type CalibrationOutcome,
  runCalibration,
} from "./bench/calibrate.ts";
export type { ChosenSetting } from "./bench/calibration_choice.ts";
export type * from "./bench/calibration_record.ts";
export {
  parseTarget,
  type QualityTarget,
  TARGET_METRICS,
  type TargetMetric,
} from "./bench/calibration_search.ts";
export {
  expandMethodsFiles,
  METHODS_FILE_SCHEMA,
  type MethodsFile,
  readMethodsFile,
} from "./methods/methods_file.ts";
export type { Shard } from "./records/shards.ts";
export type * from "./records/schema.ts";

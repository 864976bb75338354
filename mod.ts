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
export * from "./methods/form.ts";
export * from "./methods/method.ts";
export * from "./methods/spec.ts";
export { METHODS, resolveMethod } from "./methods/registry.ts";
export * from "./scenarios/scenario.ts";
export type { HeadTensors, QkvSource } from "./scenarios/inputs.ts";
export { preset, presetNames, PRESETS } from "./scenarios/presets.ts";
export { parseScenario, resolveScenario } from "./scenarios/scenario_file.ts";
export { syntheticInputs } from "./scenarios/synthetic.ts";
export { loadFileInputs } from "./scenarios/file_inputs.ts";
export { GpuRuntime } from "./gpu/runtime.ts";
export type { AdapterFacts } from "./gpu/runtime.ts";
export { AttentionProgram } from "./kernels/attention.ts";
export { referenceAttention } from "./kernels/reference.ts";
export { denseFlops, layoutFigures } from "./bench/case_figures.ts";
export { type BenchConfig, runBench } from "./bench/bench.ts";
export { SUITES } from "./bench/suites.ts";
export type { BenchRecord, ResultsFile } from "./reports/schema.ts";

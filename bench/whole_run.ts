/**
 * Whole-run figures (docs/metrics.md, "Whole run"): a scenario's schedule (scenarios/schedule.ts)
 * expanded over steps × layers × heads into the distinct configurations that run, each measured
 * once as a one-layer case, then summed — Σ over cells of the configuration's per-head FLOPs and
 * time — with the whole-run speedup and the end-to-end speedup projected from the attention
 * share of a step (Amdahl's law).
 *
 * @module
 */
import { formatParams, parseMethodSpec } from "../methods/spec.ts";
import { readMaskStrategy, strategyWindow } from "../methods/sta_strategy.ts";
import type { Schedule, ScheduleRule } from "../scenarios/schedule.ts";
import type { BenchRecord, WholeRunConfig, WholeRunSummary } from "../records/schema.ts";

/**
 * Attention's share of a dense denoising step's time when `--attention-share` is not given:
 * 800 of 945 s for HunyuanVideo, 5 s at 720p on an H100 with FlashAttention-3 (STA, arXiv
 * 2502.04507, abstract and Figure 1).
 */
export const DEFAULT_ATTENTION_SHARE = 800 / 945;

/** A configuration and how many (step, layer, head) cells run it. */
export interface ScheduledConfig {
  /** The method spec that runs (`dense`, `radial`, `sta:tile=6x8x8;window=1x6x10`). */
  spec: string;
  /** Cells (step, layer, head) that run it. */
  cells: number;
}

function inRange(index: number, range: [number, number] | undefined): boolean {
  return range === undefined || (range[0] <= index && index < range[1]);
}

/**
 * The spec a schedule rule runs where the run was given `spec`: its `run`, or `spec` with the
 * parameters of its `set` replacing or adding to its own (`spec` itself where that changes none).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { ruleSpec } from "./whole_run.ts";
 * equal(ruleSpec({ run: "dense" }, "svg2"), "dense");
 * equal(ruleSpec({ set: { iters: 2 } }, "svg2:topP=0.8"), "svg2:iters=2;topP=0.8");
 * equal(ruleSpec({ set: { iters: 2 } }, "svg2:topP=0.8;iters=2"), "svg2:topP=0.8;iters=2");
 * ```
 */
export function ruleSpec(rule: ScheduleRule, spec: string): string {
  if (rule.run !== undefined) return rule.run;
  const { name, params } = parseMethodSpec(spec);
  const merged = formatParams({ ...params, ...rule.set });
  return merged === formatParams(params) ? spec : `${name}:${merged}`;
}

/** `spec` with its `window` set to one window and no per-head keys: one STA configuration. */
function staWindowSpec(spec: string, window: number[]): string {
  const { name, params } = parseMethodSpec(spec);
  for (const key of ["strategy", "step", "layer", "windows"]) delete params[key];
  params.window = window;
  return `${name}:${formatParams(params)}`;
}

/**
 * The distinct configurations a whole run of `spec` executes under `schedule` with `heads`
 * heads, in first-use order. A method the schedule does not name runs `spec` on every cell.
 * Per cell: dense in the first `denseSteps` steps and `denseLayers` layers; else the last rule
 * that covers it (its `run`, or `spec` with its `set`); else the mask-strategy file's window
 * (STA); else `spec`.
 *
 * @example
 * ```ts
 * import { expandSchedule } from "./whole_run.ts";
 * import { deepEqual } from "node:assert/strict";
 * const schedule = {
 *   layers: 2, steps: 4,
 *   methods: { radial: { denseSteps: 1, denseLayers: 1, rules: [] } },
 * };
 * // Step 0: both layers dense; steps 1..3: layer 0 dense, layer 1 radial; 2 heads each.
 * deepEqual(expandSchedule(schedule, "radial", 2), [
 *   { spec: "dense", cells: 10 },
 *   { spec: "radial", cells: 6 },
 * ]);
 * ```
 */
export function expandSchedule(schedule: Schedule, spec: string, heads: number): ScheduledConfig[] {
  const { name } = parseMethodSpec(spec);
  const plan = schedule.methods[name];
  const strategy = plan?.strategy ? readMaskStrategy(plan.strategy) : null;
  const counts = new Map<string, number>();
  const add = (config: string, n: number) => counts.set(config, (counts.get(config) ?? 0) + n);
  for (let step = 0; step < schedule.steps; step++) {
    for (let layer = 0; layer < schedule.layers; layer++) {
      if (plan && (step < plan.denseSteps || layer < plan.denseLayers)) {
        add("dense", heads);
        continue;
      }
      for (let head = 0; head < heads; head++) {
        const rule = plan?.rules.findLast((r) =>
          inRange(step, r.steps) && inRange(layer, r.layers) && inRange(head, r.heads)
        );
        if (rule) add(ruleSpec(rule, spec), 1);
        else if (strategy) add(staWindowSpec(spec, strategyWindow(strategy, step, layer, head)), 1);
        else add(spec, 1);
      }
    }
  }
  return [...counts].map(([config, cells]) => ({ spec: config, cells }));
}

/** The schedule's sources for `method`, in one line. */
export function scheduleSource(schedule: Schedule, method: string): string {
  const plan = schedule.methods[method];
  const parts = [schedule.source, plan?.source].filter((s): s is string => !!s);
  if (!plan) parts.push(`no schedule stated for ${method}: every cell runs it`);
  return parts.join("; ");
}

/** Attention time of a record's layer call, ms: routing + attention where it routes. */
function layerMs(record: BenchRecord): number | null {
  return record.latency?.totalMedian ?? record.latency?.median ?? null;
}

/**
 * Projected end-to-end speedup of a run whose attention (a share `share` of dense step time)
 * runs `attentionSpeedup` times faster: 1 / ((1 − share) + share / attentionSpeedup).
 *
 * @example
 * ```ts
 * import { endToEndSpeedup } from "./whole_run.ts";
 * import { equal } from "node:assert/strict";
 * equal(endToEndSpeedup(2, 0.5), 1 / (0.5 + 0.25));
 * ```
 */
export function endToEndSpeedup(attentionSpeedup: number, share: number): number {
  return 1 / ((1 - share) + share / attentionSpeedup);
}

/** What {@link wholeRunSummary} sums: the scenario's facts and the configurations' records. */
export interface WholeRunInputs {
  /** Scenario name. */
  scenario: string;
  /** The spec as `--methods` gave it. */
  method: string;
  /** The schedule. */
  schedule: Schedule;
  /** Heads of the scenario. */
  heads: number;
  /** The configurations with their cells. */
  configs: ScheduledConfig[];
  /** The record of each configuration (same order), null when it did not run. */
  records: Array<BenchRecord | null>;
  /** The dense record of the scenario. */
  dense: BenchRecord | null;
  /** Attention's share of a dense step's time. */
  attentionShare: number;
}

/**
 * Σ over (step, layer, head) cells of the per-head figures of the configuration each runs
 * (a layer record's FLOPs and median ÷ its heads), against the same cells all dense.
 */
export function wholeRunSummary(inputs: WholeRunInputs): WholeRunSummary {
  const { schedule, heads, dense, attentionShare } = inputs;
  const cells = schedule.steps * schedule.layers * heads;
  const configs: WholeRunConfig[] = inputs.configs.map((config, i) => {
    const record = inputs.records[i];
    const ok = record && !record.error;
    const ms = ok ? layerMs(record) : null;
    return {
      spec: config.spec,
      cells: config.cells,
      flopsPerHead: ok && record.flops !== null ? record.flops / record.heads : null,
      msPerHead: ms === null || !ok ? null : ms / record.heads,
    };
  });
  const sum = (pick: (c: WholeRunConfig) => number | null): number | null =>
    configs.reduce<number | null>((total, c) => {
      const value = pick(c);
      return total === null || value === null ? null : total + value * c.cells;
    }, 0);
  const flops = sum((c) => c.flopsPerHead);
  const ms = sum((c) => c.msPerHead);
  const denseMsPerHead = dense && !dense.error && dense.latency
    ? dense.latency.median / dense.heads
    : null;
  const denseFlops = dense ? cells * dense.denseFlops / dense.heads : null;
  const denseMs = denseMsPerHead === null ? null : cells * denseMsPerHead;
  const speedup = denseMs !== null && ms !== null && ms > 0 ? denseMs / ms : null;
  return {
    scenario: inputs.scenario,
    method: inputs.method,
    layers: schedule.layers,
    steps: schedule.steps,
    heads,
    source: scheduleSource(schedule, parseMethodSpec(inputs.method).name),
    configs,
    flops,
    denseFlops,
    ms,
    denseMs,
    flopsRatio: flops !== null && denseFlops !== null && flops > 0 ? denseFlops / flops : null,
    speedup,
    attentionShare,
    endToEndSpeedup: speedup === null ? null : endToEndSpeedup(speedup, attentionShare),
  };
}

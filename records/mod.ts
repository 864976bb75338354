/**
 * Regression tracking: compare two runs (docs/cli.md `compare`), baselines per adapter kind, run
 * history, CI shards (the history trend chart is rendering: reports/history_chart.ts).
 *
 * @example
 * ```ts
 * import { compareResults, comparisonVerdict, renderSummary } from "./mod.ts";
 * import { match } from "node:assert/strict";
 * const run = {
 *   schema: "longshot.results/1", suite: "default@1", commit: null, date: "2025-01-01",
 *   deno: "2", command: "bench", seed: 1, adapter: null, shard: null, records: [],
 * };
 * const verdict = comparisonVerdict(compareResults(run, run), { allowMissing: true });
 * match(renderSummary(verdict), /✅/);
 * ```
 *
 * @module
 */
export * from "./baseline.ts";
export * from "./case_key.ts";
export * from "./compare.ts";
export * from "./frontier.ts";
export * from "./frontier_moves.ts";
export * from "./history.ts";
export * from "./layout_digest.ts";
export * from "./results_input.ts";
export * from "./shards.ts";
export * from "./stats.ts";
export * from "./summary.ts";
export * from "./verdict.ts";

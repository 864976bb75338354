/**
 * The Markdown summary of a judged comparison, sized for a GitHub step summary: a headline with
 * the verdict (the same one compare's exit code follows), its reasons and the counts, the table
 * of regressions, then changes, adapter changes, improvements, latency notes (slower and faster
 * apart), failed cases, how a frontier run's fronts moved, new and missing cases.
 *
 * @module
 */
import { type Finding, type FindingValue, SEPARATION_FACTOR } from "./compare.ts";
import type { Verdict } from "./verdict.ts";

/** Options of {@link renderSummary}. */
export interface SummaryOptions {
  /** How the base results are named in the headline (a path). */
  baseName?: string;
  /** How the current results are named in the headline (a path). */
  currentName?: string;
  /** Rows a section shows before it says how many more there are. */
  maxRows?: number;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function value(v: FindingValue, exact: boolean): string {
  if (v === null) return "—";
  if (typeof v === "string") return v;
  return exact ? String(v) : String(Number(v.toPrecision(6)));
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** `exact`: values in full (a change in the last digit matters), else to 6 digits. */
function findingTable(findings: readonly Finding[], maxRows: number, exact = false): string[] {
  const lines = ["| case | field | base | current | detail |", "|---|---|---|---|---|"];
  for (const f of findings.slice(0, maxRows)) {
    lines.push(
      `| ${cell(f.case)} | ${f.field} | ${cell(value(f.base, exact))} | ${
        cell(value(f.current, exact))
      } | ${cell(f.detail)} |`,
    );
  }
  if (findings.length > maxRows) lines.push(`| … ${findings.length - maxRows} more | | | | |`);
  return lines;
}

function caseList(keys: readonly string[], maxRows: number): string[] {
  const lines = keys.slice(0, maxRows).map((key) => `- ${key}`);
  if (keys.length > maxRows) lines.push(`- … ${keys.length - maxRows} more`);
  return lines;
}

function headline(verdict: Verdict): string {
  const c = verdict.comparison;
  const outcome = verdict.fails
    ? `❌ Longshot compare FAILED (${verdict.reasons.join("; ")})`
    : "✅ Longshot compare passed";
  const adapters = c.adapterChanges.length > 0
    ? `, ${plural(c.adapterChanges.length, "adapter change")}`
    : "";
  const moved = new Set(c.frontierMoves.map((m) => m.scenario)).size;
  const frontier = moved > 0 ? `, frontier moved on ${plural(moved, "scenario")}` : "";
  return `## ${outcome}: ${plural(c.regressions.length, "regression")}, ` +
    `${plural(c.changes.length, "change")}, ${plural(c.improvements.length, "improvement")}, ` +
    `${c.newCases.length} new, ${c.missingCases.length} missing, ${c.failed.length} failed` +
    `${adapters}${frontier} (${plural(c.matched, "case")} matched)`;
}

/**
 * Renders a judged comparison as Markdown; the headline's ✅ / ❌ is `verdict.fails`.
 *
 * @example
 * ```ts
 * import { compareResults } from "./compare.ts";
 * import { comparisonVerdict } from "./verdict.ts";
 * import { renderSummary } from "./summary.ts";
 * import { match } from "node:assert/strict";
 * const empty = {
 *   schema: "longshot.results/1", suite: "default@1", commit: null, date: "2025-01-01",
 *   deno: "2", command: "bench", seed: 1, adapter: null, shard: null, records: [],
 * };
 * const verdict = comparisonVerdict(compareResults(empty, empty));
 * match(renderSummary(verdict), /^## ❌ Longshot compare FAILED \(no case matched\): 0 regr/);
 * ```
 */
export function renderSummary(verdict: Verdict, options: SummaryOptions = {}): string {
  const maxRows = options.maxRows ?? 200;
  const c = verdict.comparison;
  const { threshold, alpha, latency, tolerances } = c.options;
  const lines = [headline(verdict), ""];
  if (options.baseName !== undefined || options.currentName !== undefined) {
    lines.push(`Base \`${options.baseName ?? "?"}\` → current \`${options.currentName ?? "?"}\`.`);
  }
  const latencyRule = latency === "info"
    ? "latency is information only (`--latency info`)"
    : `latency regresses when the median is > ${threshold * 100}% slower and a one-sided ` +
      `Mann–Whitney U test gives p < ${alpha}, or when every sample is more than ` +
      `${
        Number((SEPARATION_FACTOR * threshold * 100).toPrecision(3))
      }% slower than every base sample`;
  const { failOnChange, allowMissing } = verdict.policy;
  lines.push(
    `Rules: cases match on scenario, method, params, dtype and adapter class (backend, vendor, ` +
      `fallback); ${latencyRule}; quality tolerances relL2 +${tolerances.relL2}, ` +
      `cosine −${tolerances.cosine}, recall −${tolerances.recall}, ` +
      `crossShotRecall −${tolerances.crossShotRecall}, PSNR −${tolerances.psnrDb} dB; ` +
      `FLOPs, tokens, sparsity and layouts must match exactly (changes ${
        failOnChange ? "fail: `--fail-on-change`" : "are listed"
      }); missing cases and no match ${allowMissing ? "are listed (`--allow-missing`)" : "fail"}.`,
    "",
  );
  for (const note of c.notes) lines.push(`> ${note}`, "");

  lines.push("### Regressions", "");
  if (c.regressions.length === 0) lines.push("None.");
  else lines.push(...findingTable(c.regressions, maxRows));
  lines.push("");

  if (c.changes.length > 0) {
    lines.push(
      "### Changes (exact fields differ: a different workload, not judged as a regression)",
      "",
      ...findingTable(c.changes, maxRows, true),
      "",
    );
  }
  // Latency notes are slower or faster medians; a faster one is never listed as a slowdown.
  const slower = c.latencyNotes.filter((f) => (f.current as number) > (f.base as number));
  const faster = c.latencyNotes.filter((f) => !slower.includes(f));
  const unconfirmed = latency === "info"
    ? "(information only)"
    : "beyond the threshold, not confirmed by the test";
  const sections: [string, Finding[]][] = [
    ["Adapter changes (information: cases matched by adapter class)", c.adapterChanges],
    ["Improvements", c.improvements],
    [`Latency slower ${unconfirmed}`, slower],
    [`Latency faster ${unconfirmed}`, faster],
    ["Failed cases", c.failed],
  ];
  for (const [title, findings] of sections) {
    if (findings.length === 0) continue;
    lines.push(`### ${title}`, "", ...findingTable(findings, maxRows), "");
  }
  if (c.frontierMoves.length > 0) {
    lines.push("### Frontier moved (information: fronts and fastest settings per target)", "");
    for (const scenario of new Set(c.frontierMoves.map((m) => m.scenario))) {
      const mine = c.frontierMoves.filter((m) => m.scenario === scenario).map((m) => m.line);
      lines.push(...caseList(mine.map((line) => `${scenario}: ${line}`), maxRows));
    }
    lines.push("");
  }
  if (c.newCases.length > 0) lines.push("### New cases", "", ...caseList(c.newCases, maxRows), "");
  if (c.missingCases.length > 0) {
    lines.push("### Missing cases", "", ...caseList(c.missingCases, maxRows), "");
  }
  return lines.join("\n");
}

/**
 * Run history: one JSON line a run (`longshot.history/1`) with a per-case summary, for trend
 * charts in the spirit of asv.
 *
 * Appending opens the file with O_APPEND and writes the whole line in ONE write call. Why not
 * temp + rename: that rewrites the whole history on every run and loses a line when two runs
 * append at once; an O_APPEND write of one line is placed atomically at the end by the kernel,
 * so the worst a crash can leave is one truncated last line. {@link readHistory} reports such a
 * line with its number and reads the rest; {@link appendHistory} starts a new line first when
 * the file does not end in a newline, so the next entry stays readable.
 *
 * @module
 */
import { dirname } from "node:path";
import type { ResultsFile } from "./schema.ts";
import { caseKey } from "./case_key.ts";

/** Version of the history line schema. */
export const HISTORY_SCHEMA = "longshot.history/1";

/** Summary of one case in one run. */
export interface HistoryCase {
  /** The case key (records/case_key.ts). */
  key: string;
  /** Median latency in ms, null when not timed. */
  median: number | null;
  /** 10th percentile latency in ms. */
  p10: number | null;
  /** 90th percentile latency in ms. */
  p90: number | null;
  /** Counted FLOPs. */
  flops: number | null;
  /** Token sparsity. */
  tokenSparsity: number | null;
  /** Quality relL2 against dense. */
  relL2: number | null;
  /** Quality recall against dense. */
  recall: number | null;
  /** Why the case failed, when it did. */
  error?: string;
}

/** One line of the history file: one run. */
export interface HistoryEntry {
  /** {@link HISTORY_SCHEMA}. */
  schema: string;
  /** Git commit of the run, when known. */
  commit: string | null;
  /** ISO date of the run. */
  date: string;
  /** Adapter description of the run. */
  adapter: string | null;
  /** Suite name and version. */
  suite: string;
  /** Shard of the run (`I/N`), or null for a whole run. */
  shard: string | null;
  /** One summary a case. */
  cases: HistoryCase[];
}

/** A history line that could not be read. */
export interface HistoryWarning {
  /** 1-based line number in the file. */
  line: number;
  /** What is wrong with it. */
  message: string;
}

/** What {@link readHistory} returns. */
export interface HistoryRead {
  /** Entries of the readable lines, in file order. */
  entries: HistoryEntry[];
  /** One warning a damaged line. */
  warnings: HistoryWarning[];
}

/**
 * The history entry of a results file.
 *
 * @example
 * ```ts
 * import { historyEntryOf } from "./history.ts";
 * import { equal } from "node:assert/strict";
 * const entry = historyEntryOf({
 *   schema: "longshot.results/1", suite: "default@1", commit: "abc", date: "2025-01-01",
 *   deno: "2", command: "bench", seed: 1, adapter: null, shard: null, records: [],
 * });
 * equal(entry.schema, "longshot.history/1");
 * ```
 */
export function historyEntryOf(results: ResultsFile): HistoryEntry {
  return {
    schema: HISTORY_SCHEMA,
    commit: results.commit,
    date: results.date,
    adapter: results.adapter?.description ?? results.records[0]?.adapter.description ?? null,
    suite: results.suite,
    shard: results.shard ?? null,
    cases: results.records.map((record) => ({
      key: caseKey(record),
      median: record.latency?.median ?? null,
      p10: record.latency?.p10 ?? null,
      p90: record.latency?.p90 ?? null,
      flops: record.flops,
      tokenSparsity: record.tokenSparsity,
      relL2: record.quality?.relL2 ?? null,
      recall: record.quality?.recall ?? null,
      ...(record.error === undefined ? {} : { error: record.error }),
    })),
  };
}

async function endsWithNewline(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    if (size === 0) return true;
    await file.seek(size - 1, Deno.SeekMode.Start);
    const last = new Uint8Array(1);
    await file.read(last);
    return last[0] === 0x0a;
  } finally {
    file.close();
  }
}

/**
 * Appends the entry of `results` to the history file at `path` (created when absent) as one
 * line, in one O_APPEND write (see the module doc), and returns the entry.
 */
export async function appendHistory(path: string, results: ResultsFile): Promise<HistoryEntry> {
  const entry = historyEntryOf(results);
  const separator = (await endsWithNewline(path)) ? "" : "\n";
  const bytes = new TextEncoder().encode(`${separator}${JSON.stringify(entry)}\n`);
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { append: true, create: true });
  try {
    const written = await file.write(bytes);
    if (written !== bytes.length) {
      throw new Error(`${path}: short write (${written} of ${bytes.length} bytes)`);
    }
  } finally {
    file.close();
  }
  return entry;
}

function entryProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "not a JSON object";
  }
  const entry = value as Record<string, unknown>;
  if (entry.schema !== HISTORY_SCHEMA) {
    return `schema must be ${HISTORY_SCHEMA} (got ${JSON.stringify(entry.schema)})`;
  }
  if (typeof entry.date !== "string") return "date must be a string";
  if (!Array.isArray(entry.cases)) return "cases must be an array";
  const bad = entry.cases.findIndex((c) => typeof c?.key !== "string");
  return bad < 0 ? null : `cases[${bad}].key must be a string`;
}

/**
 * Reads a history file: every readable line, and a warning (with its line number) for every
 * damaged one. A missing file reads as empty.
 *
 * @example
 * ```ts
 * import { readHistory } from "./history.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(await readHistory("no-such-history.jsonl"), { entries: [], warnings: [] });
 * ```
 */
export async function readHistory(path: string): Promise<HistoryRead> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { entries: [], warnings: [] };
    throw error;
  }
  const entries: HistoryEntry[] = [];
  const warnings: HistoryWarning[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      warnings.push({ line: i + 1, message: `not JSON (${(error as Error).message})` });
      return;
    }
    const problem = entryProblem(value);
    if (problem === null) entries.push(value as HistoryEntry);
    else warnings.push({ line: i + 1, message: problem });
  });
  return { entries, warnings };
}

/** One point of a latency trend: a case at a run. */
export interface TrendRow {
  /** The case key. */
  case: string;
  /** Commit of the run, when known. */
  commit: string | null;
  /** ISO date of the run. */
  date: string;
  /** Median latency, ms. */
  median: number;
  /** 10th percentile, ms (the median when unknown). */
  p10: number;
  /** 90th percentile, ms (the median when unknown). */
  p90: number;
}

/**
 * Latency trend rows of the timed cases of each entry, in entry order (for
 * reports/history_chart.ts).
 *
 * @example
 * ```ts
 * import { historyTrendData } from "./history.ts";
 * import { equal } from "node:assert/strict";
 * const rows = historyTrendData([{
 *   schema: "longshot.history/1", commit: "abc", date: "2025-01-01", adapter: null,
 *   suite: "default@1", shard: null,
 *   cases: [{ key: "k", median: 2, p10: 1, p90: 3, flops: null, tokenSparsity: null,
 *     relL2: null, recall: null }],
 * }]);
 * equal(rows[0].median, 2);
 * ```
 */
export function historyTrendData(entries: readonly HistoryEntry[]): TrendRow[] {
  const rows: TrendRow[] = [];
  for (const entry of entries) {
    for (const c of entry.cases) {
      if (c.median === null || c.error !== undefined) continue;
      rows.push({
        case: c.key,
        commit: entry.commit,
        date: entry.date,
        median: c.median,
        p10: c.p10 ?? c.median,
        p90: c.p90 ?? c.median,
      });
    }
  }
  return rows;
}

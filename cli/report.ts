/**
 * `deno task report RESULTS... [--out FILE]` (docs/cli.md): one HTML report from one or more results
 * files or folders (a folder holding results.json, or shard folders), side by side, with the
 * decay curves and mask pictures the folders hold (reports/report_extras.ts). Written
 * atomically; default: report.html beside the first results file. Bad input: one line on
 * stderr, exit 2, nothing written.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { historyTrendData, readHistory, type TrendRow } from "../records/history.ts";
import { loadResults, RESULTS_FILE_NAME } from "../records/results_input.ts";
import { renderReport, type ReportExtras } from "../reports/html.ts";
import { joinPeers, readPeersFiles } from "../records/peers.ts";
import { readReportExtras } from "../reports/report_extras.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";
import type { ResultsFile } from "../records/schema.ts";
import { checkWritableDir, parseCommandLine, runCommand, UsageError } from "./_usage.ts";

const USAGE = `usage: deno task report RESULTS... [--out FILE]

RESULTS     results.json files, folders holding one, or folders of shard folders;
            several render side by side (different adapters or commits)
--out FILE  where to write the report (default: report.html beside the first RESULTS)
--history FILE  add the latency trend of a history file (JSON Lines, bench --history)
--peers FILE[,…] add Longshot vs PyTorch per case from tools/peers.py results files
A folder's decay.json and *.mask.png (or masks/<scenario>/*.mask.png) are shown too.`;

/** The folder a RESULTS argument names: the folder itself, or the file's folder. */
async function resultsFolder(path: string): Promise<string> {
  const info = await Deno.stat(path);
  return info.isDirectory ? path : dirname(path);
}

/** Trend rows of a history file; damaged lines are reported on stderr and skipped. */
async function historyRows(path: string): Promise<TrendRow[]> {
  const read = await readHistory(path).catch((error) => {
    throw new UsageError(`--history ${path}: ${(error as Error).message}`);
  });
  for (const w of read.warnings) console.error(`report: ${path}:${w.line}: ${w.message} (skipped)`);
  return historyTrendData(read.entries);
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      history: { type: "string" },
      peers: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(`needs at least one RESULTS path (a ${RESULTS_FILE_NAME} or a folder)`);
  }
  if (values.out !== undefined && !values.out.endsWith(".html")) {
    throw new UsageError(`--out must name an .html file (got "${values.out}")`);
  }
  const runs: ResultsFile[] = [];
  const extras: Required<ReportExtras> = {
    decay: [],
    masks: [],
    history: [],
    runNames: [],
    peers: [],
  };
  if (values.history !== undefined) extras.history = await historyRows(values.history);
  const peers = values.peers === undefined ? null : await readPeersFiles(values.peers.split(","));
  for (const path of positionals) {
    const run = await loadResults(path);
    runs.push(run);
    if (peers) extras.peers.push(...joinPeers(run, peers));
    const folder = await resultsFolder(path);
    extras.runNames.push(basename(resolve(folder)));
    const found = await readReportExtras(folder, run.records.map((r) => r.scenario));
    for (const warning of found.warnings) console.error(`report: ${warning}`);
    // Runs of the same scenarios hold the same curves and pictures: show each once.
    for (const curve of found.decay) {
      const seen = extras.decay.some((d) => d.scenario === curve.scenario && d.head === curve.head);
      if (!seen) extras.decay.push(curve);
    }
    for (const mask of found.masks) {
      const seen = extras.masks.some((m) =>
        m.scenario === mask.scenario && m.method === mask.method
      );
      if (!seen) extras.masks.push(mask);
    }
  }
  const out = resolve(values.out ?? join(await resultsFolder(positionals[0]), "report.html"));
  await checkWritableDir(dirname(out));
  await writeFileAtomic(out, await renderReport(runs, extras));
  console.log(`report: ${out}`);
  return 0;
}

if (import.meta.main) await runCommand("report", main);

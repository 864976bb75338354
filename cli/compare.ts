/**
 * `deno task compare BASE CUR [options]` (docs/cli.md): regression check of two results files or
 * folders (a folder holding results.json, or shard folders each holding one). Prints a Markdown
 * summary whose headline states the verdict; exit 0 when it passes, 1 when it fails (a
 * regression; a missing case or no case matched, unless `--allow-missing`; a change under
 * `--fail-on-change`), 2 on bad input (one line on stderr naming the file or option, nothing
 * written).
 *
 * @module
 */
import { type CompareOptions, compareResults, type LatencyMode } from "../records/compare.ts";
import { comparisonVerdict } from "../records/verdict.ts";
import { loadResults } from "../records/results_input.ts";
import { joinPeers, readPeersFiles } from "../records/peers.ts";
import { peersSummary } from "../records/peers_summary.ts";
import { renderSummary } from "../records/summary.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";
import { parseCommandLine, UsageError } from "./_usage.ts";

const USAGE = `usage: deno task compare BASE CUR [options]

BASE, CUR   a results.json, a folder holding one, or a folder of shard folders
--threshold X       median slowdown that may count as a regression (default 0.1 = 10%)
--alpha X           significance of the one-sided Mann–Whitney U test (default 0.01)
--latency fail|info info: latency changes are listed, never fail (noisy adapters)
--tol-rel-l2 X      allowed relL2 increase (default 0.001)
--tol-cosine X      allowed cosine drop (default 0.001)
--tol-recall X      allowed recall and crossShotRecall drop (default 0.001)
--tol-psnr X        allowed PSNR drop in dB (default 1)
--fail-on-change    exact-field changes (FLOPs, sparsity, layouts…) exit 1 too
--allow-missing     cases of BASE missing from CUR, or no case matched, do not exit 1
--summary FILE      also write the Markdown summary to FILE
--peers FILE[,…]    add Longshot vs PyTorch per case (ratio now and in BASE) from tools/peers.py
                    results files (docs/peers.md); informational, never changes the verdict
Cases match on scenario, method, params, dtype and adapter class (backend, vendor, fallback);
a changed adapter description is listed for information.
exit: 0 passed, 1 failed (regression; missing or unmatched cases; changes with
--fail-on-change), 2 bad input`;

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a number (got "${text}")`);
  }
  return value;
}

function parseCompareArgs(args: string[]) {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      threshold: { type: "string" },
      alpha: { type: "string" },
      latency: { type: "string" },
      "tol-rel-l2": { type: "string" },
      "tol-cosine": { type: "string" },
      "tol-recall": { type: "string" },
      "tol-psnr": { type: "string" },
      "fail-on-change": { type: "boolean" },
      "allow-missing": { type: "boolean" },
      summary: { type: "string" },
      peers: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true } as const;
  if (positionals.length !== 2) {
    throw new UsageError(`needs two paths, BASE and CUR (got ${positionals.length}); see --help`);
  }
  if (values.latency !== undefined && values.latency !== "fail" && values.latency !== "info") {
    throw new UsageError(`--latency must be fail or info (got "${values.latency}")`);
  }
  const recall = numberOption("tol-recall", values["tol-recall"]);
  const options: CompareOptions = {
    threshold: numberOption("threshold", values.threshold),
    alpha: numberOption("alpha", values.alpha),
    latency: values.latency as LatencyMode | undefined,
    tolerances: Object.fromEntries(
      Object.entries({
        relL2: numberOption("tol-rel-l2", values["tol-rel-l2"]),
        cosine: numberOption("tol-cosine", values["tol-cosine"]),
        recall,
        crossShotRecall: recall,
        psnrDb: numberOption("tol-psnr", values["tol-psnr"]),
      }).filter(([, v]) => v !== undefined),
    ),
  };
  return {
    help: false,
    base: positionals[0],
    current: positionals[1],
    options,
    summary: values.summary,
    peers: values.peers === undefined ? null : values.peers.split(","),
    policy: { failOnChange: values["fail-on-change"], allowMissing: values["allow-missing"] },
  } as const;
}

/** Runs compare on `args`; returns the exit code. */
async function main(args: string[]): Promise<number> {
  try {
    const command = parseCompareArgs(args);
    if (command.help) {
      console.log(USAGE);
      return 0;
    }
    const [base, current, peers] = await Promise.all([
      loadResults(command.base),
      loadResults(command.current),
      command.peers === null ? null : readPeersFiles(command.peers),
    ]);
    const verdict = comparisonVerdict(
      compareResults(base, current, command.options),
      command.policy,
    );
    const markdown = [
      renderSummary(verdict, { baseName: command.base, currentName: command.current }),
      peers ? peersSummary(joinPeers(current, peers), joinPeers(base, peers)) : "",
    ].filter((part) => part !== "").join("\n\n");
    if (command.summary !== undefined) {
      await writeFileAtomic(command.summary, markdown).catch((error: Error) => {
        throw new UsageError(`--summary ${command.summary}: cannot write (${error.message})`);
      });
    }
    console.log(markdown);
    return verdict.fails ? 1 : 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      error instanceof RangeError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
    ) {
      console.error(`compare: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

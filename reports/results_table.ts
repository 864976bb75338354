/**
 * Markdown tables of a folder of results (one sub-folder a run, each with results.json), for
 * docs/results/<adapter>/README.md: generated from measured files, never typed by hand.
 *
 * @module
 */
import { join } from "node:path";
import { methodSpecOf } from "../records/case_key.ts";
import { loadResults, RESULTS_FILE_NAME } from "../records/results_input.ts";
import { growthExponents } from "./scaling.ts";
import { frontierPoints, targetLabel, targetTable } from "../records/frontier.ts";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

/** Start and end markers of the generated block in a Markdown file. */
export const TABLE_MARKERS = [
  "<!-- results-table:start -->",
  "<!-- results-table:end -->",
] as const;

/**
 * The cell of a record that has no figures: `n/a: …` for a method that does not apply to its
 * scenario, else `failed: …`. Runs made before UnsupportedScenarioError existed recorded STA's
 * refusal of a canvas that is not whole tiles as a MethodSpecError with the same message.
 */
function errorCell(error: string): string {
  const notApplicable = error.startsWith("UnsupportedScenarioError:") ||
    /^MethodSpecError: sta: .* does not divide into whole tiles/.test(error);
  const text = notApplicable ? `n/a: ${error.slice(error.indexOf(":") + 2)}` : `failed: ${error}`;
  return text.replace(/\|/g, "/").slice(0, 80);
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? "—" : value.toFixed(digits);
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function table(header: string[], rows: string[][]): string {
  return [row(header), row(header.map(() => "---")), ...rows.map(row)].join("\n");
}

/**
 * Loads every `<folder>/*\/results.json`, sorted by sub-folder name. A sub-folder with no
 * `results.json` (such as a folder of PyTorch peer timings, `peers.json`) is not a run: skipped.
 */
export async function loadResultsFolder(
  folder: string,
): Promise<Array<{ name: string; run: ResultsFile }>> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isDirectory && await isFile(join(folder, entry.name, RESULTS_FILE_NAME))) {
      names.push(entry.name);
    }
  }
  const runs = [];
  for (const name of names.sort()) runs.push({ name, run: await loadResults(join(folder, name)) });
  return runs;
}

/**
 * The Markdown tables of `runs`: dense throughput, sparse methods, latency growth (sweeps) and the
 * fastest setting per quality target (frontier runs, records/frontier.ts).
 */
export function resultsTables(runs: Array<{ name: string; run: ResultsFile }>): string {
  const all = runs.flatMap(({ name, run }) => run.records.map((record) => ({ name, record })));
  const adapters = [...new Set(runs.map(({ run }) => run.adapter?.description ?? "unknown"))];
  const dense = all.filter(({ record }) => record.method === "dense" && record.latency);
  const sparse = all.filter(({ record }) => record.method !== "dense");
  const routingShare = (r: BenchRecord) =>
    r.latency?.routingMedian
      ? `${(100 * r.latency.routingMedian / r.latency.median).toFixed(1)}%`
      : "—";
  const parts = [
    `Adapter: ${adapters.join(", ")}. One attention layer, forward, batch 1; \`heads\` as run ` +
    `(TFLOP/s and efficiency do not depend on it, latency does).`,
    "",
    "**Dense attention**",
    "",
    table(
      ["run", "scenario", "tokens", "d", "heads", "dtype", "median ms", "TFLOP/s"],
      dense.map(({ name, record: r }) => [
        name,
        r.scenario,
        String(r.tokens),
        String(r.headDim),
        String(r.heads),
        r.dtype,
        fixed(r.latency!.median, 1),
        fixed(r.tflops, 1),
      ]),
    ),
    "",
    "**Sparse methods against dense in the same run**",
    "",
    table(
      [
        "run",
        "scenario",
        "method",
        "tokens",
        "heads",
        "dtype",
        "token sparsity",
        "median ms",
        "TFLOP/s",
        "speedup",
        "efficiency",
        "kernel efficiency",
        "routing share",
        "recall",
        "relL2",
      ],
      sparse.map(({ name, record: r }) => {
        const identity = [
          name,
          r.scenario,
          methodSpecOf(r.method, r.params),
          String(r.tokens),
          String(r.heads),
          r.dtype,
        ];
        return r.error ? [...identity, errorCell(r.error), "", "", "", "", "", "", "", ""] : [
          ...identity,
          fixed(r.tokenSparsity, 3),
          fixed(r.latency?.median, 1),
          fixed(r.tflops, 1),
          fixed(r.speedup, 2),
          fixed(r.efficiency, 2),
          fixed(r.kernelEfficiency, 3),
          routingShare(r),
          fixed(r.quality?.recall, 3),
          fixed(r.quality?.relL2, 3),
        ];
      }),
    ),
  ];
  const fits = growthExponents(all.map(({ record }) => record));
  if (fits.length > 0) {
    parts.push(
      "",
      "**Latency growth** (exponent p of median ∝ L^p over a preset's ×1, ×2, ×4, ×8 frames)",
      "",
      table(
        ["family", "method", "exponent", "tokens", "median ms"],
        fits.map((f) => [
          f.family,
          f.method,
          fixed(f.exponent, 2),
          `${f.tokens[0]}–${f.tokens[1]}`,
          `${fixed(f.medians[0], 1)}–${fixed(f.medians[1], 1)}`,
        ]),
      ),
    );
  }
  const points = frontierPoints(all.map(({ record }) => record));
  if (points.length > 0) {
    const targets = targetTable(points);
    parts.push(
      "",
      "**Fastest setting per quality target** (frontier runs: the knob settings of each method; " +
        "layer speedup against dense in the same run)",
      "",
      table(
        ["target", ...targets[0].fastest.map(({ scenario }) => scenario)],
        targets.map(({ target, fastest }) => [
          targetLabel(target),
          ...fastest.map(({ point }) =>
            point ? `${point.method} ${point.setting} (${fixed(point.speedup, 2)}×)` : "none"
          ),
        ]),
      ),
    );
  }
  return parts.join("\n");
}

/** `text` with the block between {@link TABLE_MARKERS} replaced by `tables`. */
export function replaceTableBlock(text: string, tables: string): string {
  const [start, end] = TABLE_MARKERS;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new RangeError(`the file must hold ${start} … ${end}`);
  return `${text.slice(0, i + start.length)}\n${tables}\n${text.slice(j)}`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * The report's HTML sections that are text, not charts: run facts (with the software-adapter
 * warning), the table of every record, the failed cases, the methods' stated assumptions and the
 * mask pictures. Every value from a results file is escaped.
 *
 * @module
 */
import { configLabel, METHOD_ORDER, runLabels } from "./_chart_rows.ts";
import { escapeHtml, formatNumber, formatPercent, formatSi, NO_FIGURE } from "./_format.ts";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

/** A mask picture: the method's block mask for one scenario, as a PNG. */
export interface MaskPicture {
  /** Scenario name. */
  scenario: string;
  /** Method (or `method:params`) label. */
  method: string;
  /** PNG bytes, base64 encoded. */
  pngBase64: string;
}

/** Whether a run ran on a software (CPU) adapter. */
export function isFallback(run: ResultsFile): boolean {
  return run.adapter?.fallback ?? run.records.some((r) => r.adapter.fallback);
}

function fact(term: string, value: string | null | undefined, code = false): string {
  const shown = value === null || value === undefined || value === ""
    ? NO_FIGURE
    : escapeHtml(value);
  return `<dt>${term}</dt><dd>${code ? `<code>${shown}</code>` : shown}</dd>`;
}

/** The warning shown above everything when any run used a software adapter. */
export function fallbackBanner(runs: ResultsFile[], names: readonly string[] = []): string {
  const labels = runLabels(runs, names);
  const software = runs.map((run, i) => ({ run, label: labels[i] })).filter((r) =>
    isFallback(r.run)
  );
  if (software.length === 0) return "";
  const which = software.length === runs.length
    ? "These results were"
    : `Run${software.length > 1 ? "s" : ""} ${
      software.map((s) => `“${escapeHtml(s.label)}”`).join(", ")
    } ${software.length > 1 ? "were" : "was"}`;
  return `<div class="fallback" role="alert"><strong>Software adapter — timings are not GPU ` +
    `timings.</strong> ${which} measured on a software (CPU) WebGPU adapter. Latency, speedup ` +
    `and TFLOP/s describe a CPU emulation and say nothing about GPU hardware; sparsity, FLOPs ` +
    `and quality figures are exact.</div>`;
}

/** The command lines of a run, one a line (a merged-shard run holds each shard's). */
function commandLines(command: string): string {
  const lines = command.split("\n").filter((line) => line.trim() !== "");
  if (lines.length === 0) return `<dt>Command</dt><dd>${NO_FIGURE}</dd>`;
  return `<dt>Command${lines.length > 1 ? "s" : ""}</dt><dd>${
    lines.map((line) => `<code class="command">${escapeHtml(line)}</code>`).join("")
  }</dd>`;
}

/**
 * One card of facts per run: adapter, software or not, inputs (generator and seed, or the file
 * they were read from), commit ("unknown" when the run could not tell), Deno, command line(s),
 * date. `names` are the runs' folder names ({@link runLabels}).
 */
export function runFacts(runs: ResultsFile[], names: readonly string[] = []): string {
  const labels = runLabels(runs, names);
  return runs.map((run, i) => {
    const adapter = run.adapter;
    const first = run.records[0]?.adapter;
    const timers = [...new Set(run.records.flatMap((r) => r.latency ? [r.latency.timer] : []))];
    const fallback = isFallback(run);
    const failed = run.records.filter((r) => r.error).length;
    return `<section class="run${fallback ? " run-fallback" : ""}">
<h3>${escapeHtml(labels[i])}${fallback ? ' <span class="badge">software adapter</span>' : ""}</h3>
<dl>
${fact("Adapter", adapter?.description ?? first?.description)}
${
      fact(
        "Vendor · backend",
        [adapter?.vendor ?? first?.vendor, adapter?.backend ?? first?.backend]
          .filter((x) => x).join(" · "),
      )
    }
${fact("Software (fallback)", fallback ? "yes — CPU emulation" : "no")}
${fact("Timer", timers.join(", ") || null)}
${fact("Suite", run.suite)}
${fact("Records", `${run.records.length} (${failed} failed)`)}
${fact("Commit", run.commit ?? "unknown (not recorded by the run)", run.commit !== null)}
${fact("Date", run.date)}
${fact("Deno", run.deno)}
${fact("Inputs", [...new Set(run.records.map((r) => r.inputs))].join("; ") || null)}
${fact("Seed", String(run.seed))}
${run.shard ? fact("Shard", run.shard) : ""}
${commandLines(run.command ?? "")}
</dl>
</section>`;
  }).join("\n");
}

function methodRank(method: string): number {
  const i = METHOD_ORDER.indexOf(method);
  return i < 0 ? METHOD_ORDER.length : i;
}

/** Records of every run in reading order: run, scenario (first seen), method order, params. */
function orderedRecords(runs: ResultsFile[]): { run: number; record: BenchRecord }[] {
  const scenarioOrder = new Map<string, number>();
  const all = runs.flatMap((run, r) =>
    run.records.map((record) => {
      if (!scenarioOrder.has(record.scenario)) {
        scenarioOrder.set(record.scenario, scenarioOrder.size);
      }
      return { run: r, record };
    })
  );
  return all.sort((a, b) =>
    a.run - b.run ||
    (scenarioOrder.get(a.record.scenario) ?? 0) - (scenarioOrder.get(b.record.scenario) ?? 0) ||
    a.record.tokens - b.record.tokens ||
    methodRank(a.record.method) - methodRank(b.record.method) ||
    configLabel(a.record).localeCompare(configLabel(b.record))
  );
}

function psnrText(record: BenchRecord): string {
  const q = record.quality;
  if (q && q.psnrDb === null && q.relL2 === 0) return "∞";
  return formatNumber(q?.psnrDb ?? null);
}

function paramsText(record: BenchRecord): string {
  const label = configLabel(record);
  return label === record.method ? "" : label.slice(record.method.length + 1).replace(/;/g, "; ");
}

/** One table of the successful records: `columns` are a heading and a cell maker each. */
function caseTable(
  runs: ResultsFile[],
  labels: string[],
  columns: [string, (record: BenchRecord) => string][],
): string {
  const multiRun = runs.length > 1;
  const rows = orderedRecords(runs).filter(({ record }) => !record.error);
  const head = [...(multiRun ? ["run"] : []), "scenario", "method<small>params</small>"];
  const textColumns = head.length;
  head.push(...columns.map(([heading]) => heading));
  const textClass = (column: number) => column < textColumns ? ' class="text"' : "";
  const body = rows.map(({ run, record }) => {
    const cells = [
      ...(multiRun ? [escapeHtml(labels[run])] : []),
      escapeHtml(record.scenario),
      `<span class="method" data-method="${escapeHtml(record.method)}">${
        escapeHtml(record.method)
      }</span><small><code>${escapeHtml(paramsText(record))}</code></small>`,
      ...columns.map(([, cell]) => cell(record)),
    ];
    const title = record.quality?.note ? ` title="${escapeHtml(record.quality.note)}"` : "";
    return `<tr${title}>${cells.map((c, i) => `<td${textClass(i)}>${c}</td>`).join("")}</tr>`;
  }).join("\n");
  return `<div class="table-wrap"><table class="records">
<thead><tr>${head.map((h, i) => `<th scope="col"${textClass(i)}>${h}</th>`).join("")}</tr></thead>
<tbody>
${body}
</tbody></table></div>`;
}

/**
 * The tables of every successful record (the failed ones are listed apart): time and work in
 * one, quality in the other, so each fits the page. `names`: see {@link runLabels}.
 */
export function recordTable(runs: ResultsFile[], names: readonly string[] = []): string {
  const labels = runLabels(runs, names);
  if (!runs.some((run) => run.records.some((record) => !record.error))) {
    return `<p class="note">No successful record in these results.</p>`;
  }
  const time = caseTable(runs, labels, [
    ["tokens", (r) => formatNumber(r.tokens)],
    [
      "token sparsity<small>block</small>",
      (r) => `${formatPercent(r.tokenSparsity)}<small>${formatPercent(r.blockSparsity)}</small>`,
    ],
    [
      "FLOPs<small>analytic</small>",
      (r) => `${formatSi(r.flops)}<small>${formatSi(r.analyticFlops)}</small>`,
    ],
    [
      "median ms<small>p10–p90</small>",
      (r) =>
        `${formatNumber(r.latency?.median ?? null)}<small>${
          r.latency ? `${formatNumber(r.latency.p10)}–${formatNumber(r.latency.p90)}` : NO_FIGURE
        }</small>`,
    ],
    ["routing ms", (r) => formatNumber(r.latency?.routingMedian ?? null)],
    ["TFLOP/s", (r) => formatNumber(r.tflops)],
    ["speedup", (r) => formatNumber(r.speedup)],
    ["efficiency", (r) => formatNumber(r.efficiency)],
  ]);
  const quality = caseTable(runs, labels, [
    ["tokens", (r) => formatNumber(r.tokens)],
    ["recall", (r) => formatNumber(r.quality?.recall ?? null, 4)],
    ["relL2", (r) => formatNumber(r.quality?.relL2 ?? null)],
    ["cosine", (r) => formatNumber(r.quality?.cosine ?? null, 4)],
    ["PSNR dB", psnrText],
    ["cross-shot recall", (r) => formatNumber(r.quality?.crossShotRecall ?? null, 4)],
  ]);
  return `<h3>Time and work</h3>\n${time}\n<h3>Quality against dense</h3>\n${quality}`;
}

/** The failed cases with their errors, or a one-line "none". */
export function failedCases(runs: ResultsFile[], names: readonly string[] = []): string {
  const labels = runLabels(runs, names);
  const failed = orderedRecords(runs).filter(({ record }) => record.error);
  if (failed.length === 0) return `<p class="note">Every case ran.</p>`;
  const items = failed.map(({ run, record }) =>
    `<li><strong>${escapeHtml(record.scenario)} · ${escapeHtml(configLabel(record))}</strong>${
      runs.length > 1 ? ` <span class="muted">(${escapeHtml(labels[run])})</span>` : ""
    }<pre>${escapeHtml(record.error ?? "")}</pre></li>`
  ).join("\n");
  return `<ul class="failed">\n${items}\n</ul>`;
}

/** What the methods say they assume, once per (method, note), and the quality notes. */
export function methodNotes(runs: ResultsFile[]): string {
  const notes = new Map<string, Set<string>>();
  for (const run of runs) {
    for (const record of run.records) {
      const set = notes.get(record.method) ?? new Set<string>();
      for (const note of record.notes ?? []) set.add(note);
      if (record.quality?.note) set.add(`quality: ${record.quality.note}`);
      if (set.size > 0) notes.set(record.method, set);
    }
  }
  if (notes.size === 0) return `<p class="note">No method stated an assumption.</p>`;
  const methods = [...notes.keys()].sort((a, b) => methodRank(a) - methodRank(b));
  return `<dl class="notes">${
    methods.map((m) =>
      `<dt><span class="method" data-method="${escapeHtml(m)}">${escapeHtml(m)}</span></dt>${
        [...notes.get(m)!].map((n) => `<dd>${escapeHtml(n)}</dd>`).join("")
      }`
    ).join("\n")
  }</dl>`;
}

/** Mask pictures as a grid of figures (PNG data URLs). */
export function maskGallery(masks: MaskPicture[]): string {
  return `<div class="masks">${
    masks.map((m) => {
      if (!/^[A-Za-z0-9+/]+=*$/.test(m.pngBase64)) {
        throw new RangeError(`masks: pngBase64 of ${m.scenario} · ${m.method} must be base64`);
      }
      const caption = `${escapeHtml(m.scenario)} · ${escapeHtml(m.method)}`;
      return `<figure class="mask"><img alt="block mask, ${caption}" ` +
        `src="data:image/png;base64,${m.pngBase64}"><figcaption>${caption}</figcaption></figure>`;
    }).join("\n")
  }</div>`;
}

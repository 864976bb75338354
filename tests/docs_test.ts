/**
 * The reference tables of docs/ against the code, so they cannot drift: the presets table
 * (docs/scenarios.md) against the presets, the parameter table (docs/methods.md) against the
 * method registry, the knobs table (docs/methods.md) against the methods' knobs, the suites table
 * and every task's option table (docs/cli.md) against the suites and the task's own `--help`, the
 * record fields (docs/metrics.md) against a real run's
 * results file, and every relative link of the pages against the files and headings it names.
 * A failure names the page, the row and what the code says.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { METHODS, preset, PRESETS, type Scenario, SUITES, totalTokens } from "../mod.ts";

const ROOT = new URL("../", import.meta.url);

/** A markdown table: its header cells and its rows keyed by header. */
interface Table {
  header: string[];
  rows: Record<string, string>[];
}

function readDoc(page: string): Promise<string> {
  return Deno.readTextFile(new URL(`docs/${page}`, ROOT));
}

/** The lines under the heading `heading` (any level) up to the next heading of that level or above. */
function section(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) =>
    /^#+ /.test(line) && line.replace(/^#+ /, "") === heading
  );
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = lines[start].indexOf(" ");
  const end = lines.findIndex((line, i) => {
    const hashes = /^(#+) /.exec(line);
    return i > start && hashes !== null && hashes[1].length <= level;
  });
  return lines.slice(start + 1, end < 0 ? lines.length : end);
}

/** Cells of one table line: unescaped `|` separate cells; backticks and `\|` escapes are removed. */
function cells(line: string): string[] {
  return line.trim().slice(1, -1).split(/(?<!\\)\|/).map((cell) =>
    cell.trim().replaceAll("\\|", "|").replaceAll("`", "")
  );
}

/** The first table of `lines` (header, separator, rows). */
function firstTable(lines: string[]): Table {
  const start = lines.findIndex((line) => line.trimStart().startsWith("|"));
  if (start < 0) throw new Error("no table");
  let end = start;
  while (end < lines.length && lines[end].trimStart().startsWith("|")) end++;
  const [headerLine, , ...rowLines] = lines.slice(start, end);
  const header = cells(headerLine);
  const rows = rowLines.map((line) => {
    const values = cells(line);
    return Object.fromEntries(header.map((name, i) => [name, values[i] ?? ""]));
  });
  return { header, rows };
}

async function tableUnder(page: string, heading: string): Promise<Table> {
  return firstTable(section(await readDoc(page), heading));
}

/** Run-length form of a list: [14, 14] → "2 × 14", [30, 30, 31] → "2 × 30 + 31". */
function runs(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j < values.length && values[j] === values[i]) j++;
    parts.push(j - i === 1 ? String(values[i]) : `${j - i} × ${values[i]}`);
    i = j;
  }
  return parts.join(" + ");
}

/** 115456 → "115,456". */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The cells a presets row must hold for one size of a preset. */
function presetCells(scenario: Scenario, size: string): Record<string, string> {
  const text = scenario.text.position === "none"
    ? "none"
    : `${runs(scenario.textSegments)} ${scenario.text.position}`;
  return {
    [`${size} latent`]: scenario.latent.join("×"),
    [`${size} shots`]: runs(scenario.shots),
    [`${size} text`]: text,
    [`${size} heads × d`]: `${scenario.heads} × ${scenario.headDim}`,
    [`${size} L`]: thousands(totalTokens(scenario)),
  };
}

Deno.test("docs/scenarios.md: the presets table matches every preset at both sizes", async () => {
  const table = await tableUnder("scenarios.md", "Presets");
  deepEqual(table.rows.map((row) => row.preset), PRESETS.map((p) => p.name), "preset rows");
  for (const row of table.rows) {
    const full = preset(row.preset, "full");
    const expected = {
      preset: row.preset,
      model: full.modelType,
      ...presetCells(full, "full"),
      ...presetCells(preset(row.preset, "ci"), "ci"),
    };
    deepEqual(row, expected, `docs/scenarios.md presets row ${row.preset}`);
  }
});

/** A default as the docs write it: lists as `AxBxC`, everything else as text. */
function defaultText(value: unknown): string {
  return Array.isArray(value) ? value.join("x") : String(value);
}

Deno.test("docs/methods.md: the parameter table matches the registry's defaults", async () => {
  const table = await tableUnder("methods.md", "Parameters");
  for (const row of table.rows) {
    ok(METHODS.has(row.method), `docs/methods.md names unknown method "${row.method}"`);
  }
  for (const [name, definition] of METHODS) {
    const rows = table.rows.filter((row) => row.method === name);
    deepEqual(
      rows.map((row) => row.parameter).sort(),
      Object.keys(definition.defaults).sort(),
      `docs/methods.md parameters of ${name}`,
    );
    for (const row of rows) {
      equal(
        row.default,
        defaultText(definition.defaults[row.parameter]),
        `docs/methods.md default of ${name} ${row.parameter}`,
      );
    }
  }
});

Deno.test("docs/methods.md: the knobs table names every method's knob", async () => {
  const table = await tableUnder("methods.md", "Knobs");
  const withKnob = [...METHODS.values()].filter((m) => m.knob);
  deepEqual(
    table.rows.map((row) => [row.method, row.knob]),
    withKnob.map((m) => [m.name, m.knob!.param]),
    "docs/methods.md knobs rows",
  );
});

Deno.test("docs/cli.md: the suites table matches the suites", async () => {
  const table = await tableUnder("cli.md", "Suites");
  deepEqual(table.rows.map((row) => row.suite), [...SUITES.keys()], "suite rows");
  for (const row of table.rows) {
    deepEqual(
      row.scenarios.split(",").map((s) => s.trim()),
      SUITES.get(row.suite)?.scenarios,
      `docs/cli.md suite ${row.suite}`,
    );
  }
});

/** The options a task's `--help` names (without --help itself). */
async function helpOptions(task: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `cli/${task}.ts`, "--help"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  equal(output.code, 0, `${task} --help: ${new TextDecoder().decode(output.stderr)}`);
  const options = new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? []);
  options.delete("--help");
  return [...options].sort();
}

for (const task of ["bench", "plan", "compare", "report", "merge", "calibrate"]) {
  Deno.test(`docs/cli.md: the ${task} options table matches \`${task} --help\``, async () => {
    const table = await tableUnder("cli.md", task);
    const documented = table.rows.map((row) => /^--[a-z][a-z0-9-]*/.exec(row.option)?.[0] ?? "");
    deepEqual(documented.sort(), await helpOptions(task), `docs/cli.md ${task} options`);
  });
}

Deno.test("docs/metrics.md: every field of a real run's records is documented", async () => {
  const results = JSON.parse(
    await Deno.readTextFile(new URL("baselines/software-llvmpipe.json", ROOT)),
  );
  const schema = section(await readDoc("metrics.md"), "Record schema");
  const topLevel = firstTable(schema).rows;
  const record = firstTable(schema.slice(schema.indexOf("A record:"))).rows;
  const latency = (await tableUnder("metrics.md", "Latency")).rows.map((row) => row.field);
  const quality = (await tableUnder("metrics.md", "Quality proxies")).rows.map((row) => row.field);
  const methodsPage = await readDoc("methods.md");
  const fieldsOf = (rows: Record<string, string>[]) => rows.map((row) => row.field);
  for (const key of Object.keys(results)) {
    ok(fieldsOf(topLevel).includes(key), `docs/metrics.md lacks top-level field ${key}`);
  }
  const adapterCell = topLevel.find((row) => row.field === "adapter")?.meaning ?? "";
  for (const key of Object.keys(results.adapter)) {
    ok(adapterCell.includes(key), `docs/metrics.md lacks adapter field ${key}`);
  }
  for (const r of results.records) {
    for (const key of Object.keys(r)) {
      ok(fieldsOf(record).includes(key), `docs/metrics.md lacks record field ${key}`);
    }
    const recordAdapter = record.find((row) => row.field === "adapter")?.meaning ?? "";
    for (const key of Object.keys(r.adapter)) {
      ok(recordAdapter.includes(key), `docs/metrics.md lacks record adapter field ${key}`);
    }
    for (const key of Object.keys(r.latency ?? {})) {
      ok(latency.includes(`latency.${key}`), `docs/metrics.md lacks latency.${key}`);
    }
    for (const key of Object.keys(r.quality ?? {})) {
      ok(quality.includes(`quality.${key}`), `docs/metrics.md lacks quality.${key}`);
    }
    for (const key of Object.keys(r.stats ?? {})) {
      ok(methodsPage.includes(key), `docs/methods.md lacks ${r.method} stats field ${key}`);
    }
  }
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-");
}

Deno.test("docs/*.md: every relative link names an existing file and heading", async () => {
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (!entry.isFile || !entry.name.endsWith(".md")) continue;
    const page = await readDoc(entry.name);
    for (const [, target] of page.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const file = new URL(path || entry.name, new URL("docs/", ROOT));
      const text = await Deno.readTextFile(file).catch(() => null);
      ok(text !== null, `docs/${entry.name} links to missing ${path}`);
      if (!anchor || !file.pathname.endsWith(".md") || text === null) continue;
      const anchors = text.split("\n").filter((line) => /^#+ /.test(line))
        .map((line) => anchorOf(line.replace(/^#+ /, "")));
      ok(anchors.includes(anchor), `docs/${entry.name} links to missing heading ${target}`);
    }
  }
});

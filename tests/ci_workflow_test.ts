/**
 * examples/ci/longshot.yml must run as written: every task it calls exists, every repository
 * file it names exists (or an earlier step of its job makes it: a baseline saved first), and
 * Deno is pinned to the version the project is tested with. The workflow is read line by line
 * (top-level env, jobs, their steps' `uses`, `with` and `run`), enough for this file's shape.
 *
 * @module
 */
import assert from "node:assert/strict";

const WORKFLOW = "examples/ci/longshot.yml";
const DENO_VERSION = "2.9.6";

interface Step {
  uses?: string;
  with: Record<string, string>;
  run?: string;
}

interface Workflow {
  env: Record<string, string>;
  jobs: Map<string, Step[]>;
}

function stripComment(value: string): string {
  return value.replace(/\s+#.*$/, "").trim().replace(/^"(.*)"$/, "$1");
}

function parseWorkflow(text: string): Workflow {
  const env: Record<string, string> = {};
  const jobs = new Map<string, Step[]>();
  let section = "";
  let steps: Step[] | null = null;
  let step: Step | null = null;
  let block: { indent: number; lines: string[] } | null = null;
  let inWith = false;
  for (const line of text.split("\n")) {
    const indent = line.length - line.trimStart().length;
    if (block && (line.trim() === "" || indent > block.indent)) {
      block.lines.push(line.trim());
      continue;
    }
    if (block && step) step.run = block.lines.join("\n");
    block = null;
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (indent === 0) {
      section = line.replace(/:.*$/, "");
      continue;
    }
    const entry = line.trim().replace(/^- /, "");
    const [key, ...rest] = entry.split(":");
    const value = rest.join(":").trim();
    if (section === "env" && indent === 2) env[key] = stripComment(value);
    if (section !== "jobs") continue;
    if (indent === 2) {
      steps = [];
      jobs.set(key, steps);
    } else if (line.trim().startsWith("- ") && indent === 6 && steps) {
      step = { with: {} };
      steps.push(step);
      inWith = false;
    }
    if (!step || indent < 6) continue;
    if (key === "uses") step.uses = stripComment(value);
    else if (key === "with") inWith = true;
    else if (key === "run") {
      if (value === "|") block = { indent, lines: [] };
      else step.run = value;
    } else if (inWith && indent === 10) step.with[key] = stripComment(value);
  }
  if (block && step) step.run = block.lines.join("\n");
  return { env, jobs };
}

function substitute(text: string, env: Record<string, string>): string {
  return text
    .replace(/\$\{\{\s*env\.(\w+)\s*\}\}/g, (_, name) => env[name] ?? "")
    .replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, "1")
    .replace(/\$\{?(\w+)\}?/g, (whole, name) => env[name] ?? whole);
}

const workflow = parseWorkflow(await Deno.readTextFile(WORKFLOW));

Deno.test(`${WORKFLOW}: Deno is pinned to ${DENO_VERSION} in every job`, () => {
  assert.deepEqual([...workflow.jobs.keys()], ["bench", "compare", "software"]);
  for (const [job, steps] of workflow.jobs) {
    const setups = steps.filter((s) => s.uses?.startsWith("denoland/setup-deno@"));
    assert.equal(setups.length, 1, `${job}: one setup-deno step`);
    assert.equal(setups[0].with["deno-version"], `v${DENO_VERSION}`, `${job}: pinned Deno`);
  }
});

Deno.test(`${WORKFLOW}: every task exists and every file it names exists or is made first`, async () => {
  const tasks = Object.keys(JSON.parse(await Deno.readTextFile("deno.json")).tasks);
  let checked = 0;
  for (const [job, steps] of workflow.jobs) {
    const saved = new Set<string>();
    for (const step of steps) {
      if (step.run === undefined) continue;
      const run = substitute(step.run, workflow.env);
      for (const [, task] of run.matchAll(/deno task (\S+)/g)) {
        assert.ok(tasks.includes(task), `${job}: deno task ${task} is not in deno.json`);
      }
      for (const [, name] of run.matchAll(/--save-baseline "?([\w.-]+)"?/g)) saved.add(name);
      for (const [path] of run.matchAll(/\b(?:baselines|examples|tests|tools)\/[\w./-]+/g)) {
        checked++;
        const madeFirst = saved.has(path.replace(/^baselines\/(.*)\.json$/, "$1"));
        const exists = await Deno.stat(path).then(() => true, () => false);
        assert.ok(exists || madeFirst, `${job}: ${path} does not exist and is not made first`);
      }
    }
  }
  assert.ok(checked >= 2, "the workflow names its baselines");
});

Deno.test("the parser reads the env and a multi-line run of the workflow", () => {
  assert.equal(workflow.env.SOFTWARE_BASELINE, "software-llvmpipe");
  const compare = workflow.jobs.get("software")!.find((s) => s.run?.includes("compare"))!;
  assert.match(compare.run!, /^deno task compare "baselines\/\$SOFTWARE_BASELINE\.json" /);
  assert.match(compare.run!, /\n--latency info --fail-on-change --summary summary\.md$/);
});

Deno.test("README's quick start runs the pinned Deno through npx -y", async () => {
  const readme = await Deno.readTextFile("README.md");
  assert.match(readme, new RegExp(`npx -y deno@${DENO_VERSION.replaceAll(".", "\\.")} task bench`));
  assert.doesNotMatch(readme, /npx deno@/, "npx without -y stops to ask");
});

/**
 * `deno task plan [options]` (docs/cli.md): layouts, densities and FLOPs of (scenario × method) cases
 * without timing; writes plan.json, layout files and mask pictures (plan/plan.ts). Exit 0
 * when every case planned, 1 when a case failed (recorded in plan.json, the others still
 * planned), 2 on bad options (one line on stderr, nothing written).
 *
 * @module
 */
import { PRECISIONS } from "../records/schema.ts";
import { publishFolder, publishNewFolder, stagingFolder } from "../bench/output_folder.ts";
import { defaultOutDir } from "../bench/run_meta.ts";
import type { Method } from "../methods/method.ts";
import { resolveMethod } from "../methods/registry.ts";
import { expandMethodsFiles } from "../methods/methods_file.ts";
import { PRESET_SIZES } from "../scenarios/presets.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { MAX_HEADS } from "../scenarios/validate.ts";
import { resolveScenario } from "../scenarios/scenario_file.ts";
import { exportLayouts } from "../plan/layout_export.ts";
import { planTable, runPlan } from "../plan/plan.ts";
import {
  checkWritableDir,
  choiceOption,
  integerOption,
  listOption,
  parseCommandLine,
  runCommand,
  SHARED_OPTIONS,
  TIME_LIMIT_USAGE,
  UsageError,
  userTimeLimitMs,
} from "./_usage.ts";

const USAGE = `usage: deno task plan [options]

--scenario SPEC[,…]   preset name or scenario .json file (required)
--size full|ci        preset size (default full)
--methods SPEC[,…]    name[:key=value;…], ./my_method.ts or a methods FILE.json
                      (default dense,radial,sta)
--precision f32|f16|f16-math
                      accepted for symmetry with bench; layouts do not depend on it
--head H              head of the dynamic methods' layouts (default 0)
--heads N             plan N heads of every scenario instead of the preset's (as bench --heads)
--export-layouts DIR  also write every head's layout as FlexAttention block lists (.npy) and
                      DIR/manifest.json, for tools/peers.py (docs/peers.md)
--seed N              seed of the synthetic inputs of dynamic methods (default 1)
--out DIR             output folder (default results/plan-<date-time>/)
${TIME_LIMIT_USAGE}
files: OUT/plan.json, OUT/<method>.layout.json, OUT/<method>.mask.png
       (with several scenarios: OUT/<scenario>/<method>.…)
exit: 0 every case planned, 1 a case failed (recorded), 2 bad options`;

/** What the table's columns mean (docs/metrics.md defines each). */
const TABLE_LEGEND = `
sparsity: share of (query, key) pairs skipped, as bench reports it; block sparsity: share of
blocks of the given size skipped; FLOPs: attention FLOPs of all heads (--heads to change);
layout ms: wall time to build the layout on this machine (not a kernel timing).`;

async function main(args: string[]): Promise<number> {
  const options = {
    ...SHARED_OPTIONS,
    head: { type: "string" },
    heads: { type: "string" },
    "export-layouts": { type: "string" },
  } as const;
  const { values } = parseCommandLine({ args, allowPositionals: false, options });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.scenario) {
    throw new UsageError("--scenario is required (a preset name or a scenario .json file)");
  }
  const size = choiceOption("size", values.size, PRESET_SIZES, "full");
  choiceOption("precision", values.precision, PRECISIONS, "f32");
  const head = integerOption("head", values.head, 0, 0);
  const seed = integerOption("seed", values.seed, 1, 0, 2 ** 32 - 1);
  const heads = values.heads === undefined
    ? undefined
    : integerOption("heads", values.heads, 1, 1, MAX_HEADS);
  const timeLimitMs = userTimeLimitMs(values["time-limit-s"]);
  const out = values.out ?? defaultOutDir("plan-");
  const scenarios: Scenario[] = [];
  for (const spec of listOption("scenario", values.scenario, "preset or scenario file")) {
    const scenario = await resolveScenario(spec, size);
    scenarios.push(heads === undefined ? scenario : { ...scenario, heads });
  }
  const methods: Method[] = [];
  const specs = listOption("methods", values.methods ?? "dense,radial,sta", "method");
  for (const spec of await expandMethodsFiles(specs)) {
    methods.push(await resolveMethod(spec, { userTimeLimitMs: timeLimitMs }));
  }
  for (const scenario of scenarios) {
    if (head >= scenario.heads) {
      throw new UsageError(
        `--head must be 0..${scenario.heads - 1} for scenario ${scenario.name} (got ${head})`,
      );
    }
  }
  await checkWritableDir(out);
  const exportDir = values["export-layouts"];
  if (exportDir !== undefined) await checkWritableDir(exportDir);
  // Files go to a staging folder renamed into place (bench/output_folder.ts).
  const staged = await stagingFolder(out);
  const plan = await runPlan(scenarios, methods, {
    outDir: staged,
    head,
    seed,
    size,
    command: ["deno task plan", ...args].join(" "),
    onCase: (c) => {
      if (c.error) console.error(`plan: ${c.scenario} × ${c.method} failed: ${c.error}`);
    },
  });
  let outDir = out;
  if (values.out === undefined) outDir = await publishNewFolder(staged, out);
  else await publishFolder(staged, out);
  console.log(planTable(plan));
  console.log(TABLE_LEGEND);
  const failed = plan.cases.filter((c) => c.error).length;
  const count = `${plan.cases.length} ${plan.cases.length === 1 ? "case" : "cases"}`;
  console.log(`\n${count} (${failed} failed) → ${outDir}/plan.json`);
  if (exportDir === undefined) return failed > 0 ? 1 : 0;
  const manifest = await exportLayouts(scenarios, methods, {
    dir: exportDir,
    seed,
    command: ["deno task plan", ...args].join(" "),
    onCase: (c) =>
      console.error(`export: ${c.caseKey}: ${c.error ?? `${c.partialBlocks} partial blocks`}`),
  });
  const exportFailed = manifest.cases.filter((c) => c.error).length;
  console.log(
    `${manifest.cases.length} layouts (${exportFailed} failed) → ${exportDir}/manifest.json`,
  );
  return failed + exportFailed > 0 ? 1 : 0;
}

if (import.meta.main) await runCommand("plan", () => main(Deno.args));

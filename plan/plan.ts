/**
 * `deno task plan`: layouts, densities and FLOPs of (scenario × method) cases without timing
 * (docs/cli.md). Writes `plan.json`, and per case a `<method>.layout.json` (docs/cli.md's format) and a
 * `<method>.mask.png`. With one scenario the files sit in the output folder itself, as docs/cli.md
 * names them; with several, each scenario gets a subfolder `OUT/<scenario>/`. A method listed
 * twice with different parameters is labelled `<method>.<params>`.
 *
 * A case that fails (STA on a canvas that is not whole tiles…) is recorded with its error and
 * the run goes on.
 *
 * @module
 */
import { join } from "node:path";
import {
  caseFigures,
  type CaseIdentity,
  caseIdentity,
  denseFlops,
} from "../metrics/case_figures.ts";
import { blockGrid, blockMaskStrings, type ExecutionForm } from "../form/form.ts";
import type { LayoutContext, LayoutExecution, Method, Params } from "../methods/method.ts";
import { methodLabels, safeFileName } from "../records/file_name.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { type Scenario, textTokens } from "../scenarios/scenario.ts";
import { maskPng, textBlocks } from "../reports/mask_png.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";

/** Version of the plan-file schema. */
export const PLAN_SCHEMA = "longshot.plan/1";

/** One (scenario, method) case of a plan. Figures are all heads, null when the case failed. */
export interface PlanCase extends CaseIdentity {
  /** Head whose layout a dynamic method's figures come from, null for static methods. */
  head: number | null;
  /** 1 − attended pairs / L². */
  tokenSparsity: number | null;
  /** 1 − computed blocks / all blocks at `blockSize`. */
  blockSparsity: number | null;
  /** The method's block size. */
  blockSize: number | null;
  /** Dense forward FLOPs, 4·L²·d·heads. */
  denseFlops: number;
  /** Counted FLOPs, 4·d·attended pairs, all heads. */
  flops: number | null;
  /** FLOPs the kernel executes (every tile row × every key of its ranges), all heads. */
  executedFlops: number | null;
  /** The paper's own formula, where it has one. */
  analyticFlops: number | null;
  /** Routing FLOPs (dynamic methods), else 0. */
  routingFlops: number | null;
  /** Token order of the layout (`null` = original). */
  permutation: string | null;
  /** Wall time to build the layout, ms. */
  layoutMs: number | null;
  /** The layout file, relative to the output folder. */
  layoutFile: string | null;
  /** The mask picture, relative to the output folder. */
  maskFile: string | null;
  /** Method-specific figures. */
  stats: Record<string, number | string> | null;
  /** Assumptions the method states. */
  notes: string[];
  /** Why the case failed, when it did. */
  error?: string;
}

/** `plan.json`. */
export interface PlanFile {
  /** {@link PLAN_SCHEMA}. */
  schema: string;
  /** ISO date of the run. */
  date: string;
  /** The command line. */
  command: string;
  /** Preset size. */
  size: string;
  /** Input seed (dynamic methods). */
  seed: number;
  /** Head of the dynamic methods' layouts. */
  head: number;
  /** One entry per (scenario, method). */
  cases: PlanCase[];
}

/** `<method>.layout.json` (docs/cli.md), plus the scenario's shape and the head. */
export interface LayoutFile {
  /** Method name. */
  method: string;
  /** Resolved parameters. */
  params: Params;
  /** Scenario name. */
  scenario: string;
  /** Sequence length L. */
  tokens: number;
  /** Text tokens inside L. */
  textTokens: number;
  /** Token order name, null = original order. */
  permutation: string | null;
  /** Block size of `blockMask`. */
  blockSize: number;
  /** One string per query block, `1`/`0` per key block, over the permuted sequence. */
  blockMask: string[];
  /** Latent [T, H, W] of the scenario. */
  latent: [number, number, number];
  /** Text position. */
  textPosition: string;
  /** Head of a dynamic method's layout, null for static methods. */
  head: number | null;
}

/** Settings of a plan run. */
export interface PlanSettings {
  /** Output folder. */
  outDir: string;
  /** Head of the dynamic methods' layouts. */
  head: number;
  /** Seed of the synthetic inputs. */
  seed: number;
  /** Preset size (recorded). */
  size: string;
  /** The command line (recorded). */
  command: string;
  /** Called after each case (the CLI prints failures as they happen). */
  onCase?: (planCase: PlanCase) => void;
}

function emptyCase(scenario: Scenario, method: Method): PlanCase {
  const identity = caseIdentity(scenario, method);
  const { tokens } = identity;
  return {
    ...identity,
    head: null,
    tokenSparsity: null,
    blockSparsity: null,
    blockSize: null,
    denseFlops: denseFlops(tokens, scenario.headDim, scenario.heads),
    flops: null,
    executedFlops: null,
    analyticFlops: null,
    routingFlops: null,
    permutation: null,
    layoutMs: null,
    layoutFile: null,
    maskFile: null,
    stats: null,
    notes: [],
  };
}

/** What one planned case produces: its record, its layout file and its mask picture. */
export interface PlannedCase {
  /** The plan.json entry (file names not yet set). */
  record: PlanCase;
  /** The layout file. */
  layout: LayoutFile;
  /** The mask picture, PNG bytes. */
  png: Uint8Array;
}

/** Plans one case in memory; throws when the method refuses the scenario. */
export async function planCase(
  scenario: Scenario,
  method: Method,
  context: LayoutContext,
): Promise<PlannedCase> {
  const record = emptyCase(scenario, method);
  const head = method.dynamic ? context.heads?.[0] ?? 0 : null;
  const started = performance.now();
  const layout = await method.layout(scenario, method.dynamic ? context : {});
  record.layoutMs = performance.now() - started;
  const form = layout.forms.length === 1 ? layout.forms[0] : layout.forms[head ?? 0];
  if (!form || form.tokens !== record.tokens) {
    throw new RangeError(
      `${method.name}: layout has ${form?.tokens ?? "no"} tokens, scenario has ${record.tokens}`,
    );
  }
  const pick = (forms: ExecutionForm[]) => forms.length === 1 ? forms[0] : forms[head ?? 0];
  const figuresOf = (run: LayoutExecution) => {
    const branches = [[pick(run.forms)], ...(run.branches ?? []).map((b) => [pick(b.forms)])];
    return caseFigures(branches, {
      tokens: record.tokens,
      headDim: scenario.headDim,
      heads: scenario.heads,
    });
  };
  const branches = 1 + (layout.branches?.length ?? 0);
  const figures = figuresOf(layout);
  // What the kernel runs: the execution when the layout has one (MoC's key-chunk-major branches).
  const executed = layout.execution ? figuresOf(layout.execution) : figures;
  const grid = blockGrid(form);
  const params = layout.params ?? method.params;
  const notes = [...(layout.notes ?? [])];
  if (method.dynamic) notes.push(`figures from head ${head}, scaled to ${scenario.heads} heads`);
  if (branches > 1) {
    notes.push(`figures count all ${branches} branches; the mask shows the first`);
  }
  if (layout.execution) {
    const ran = 1 + (layout.execution.branches?.length ?? 0);
    notes.push(
      `executed FLOPs count what the kernel runs (${ran} branch(es), merged by ` +
        `${layout.execution.merge ?? "mean"}); the mask and permutation are of the attended form`,
    );
  }
  Object.assign(record, {
    params,
    head,
    tokenSparsity: figures.tokenSparsity,
    blockSparsity: figures.blockSparsity,
    blockSize: form.blockSize,
    flops: figures.flops,
    executedFlops: executed.executedFlops,
    analyticFlops: method.analyticFlops?.(scenario) ?? null,
    routingFlops: layout.routingFlops,
    permutation: form.permutationName,
    stats: layout.stats ?? null,
    notes,
  });
  return {
    record,
    layout: {
      method: method.name,
      params,
      scenario: scenario.name,
      tokens: form.tokens,
      textTokens: textTokens(scenario),
      permutation: form.permutationName,
      blockSize: form.blockSize,
      blockMask: blockMaskStrings(grid),
      latent: scenario.latent,
      textPosition: scenario.text.position,
      head,
    },
    png: maskPng(grid, { textBlocks: textBlocks(scenario, form) }),
  };
}

/**
 * Plans every (scenario × method) case, writes each case's files as it finishes and `plan.json`
 * at the end (all written atomically), and returns the plan.
 */
export async function runPlan(
  scenarios: readonly Scenario[],
  methods: readonly Method[],
  settings: PlanSettings,
): Promise<PlanFile> {
  const labels = methodLabels(methods);
  const cases: PlanCase[] = [];
  for (const scenario of scenarios) {
    const folder = scenarios.length > 1 ? safeFileName(scenario.name) : "";
    const context: LayoutContext = { heads: [settings.head], seed: settings.seed };
    for (let m = 0; m < methods.length; m++) {
      const method = methods[m];
      let record: PlanCase;
      try {
        if (method.dynamic && !context.inputs) {
          context.inputs = syntheticInputs(scenario, { seed: settings.seed });
        }
        const planned = await planCase(scenario, method, context);
        record = planned.record;
        record.layoutFile = join(folder, `${labels[m]}.layout.json`);
        record.maskFile = join(folder, `${labels[m]}.mask.png`);
        await writeFileAtomic(
          join(settings.outDir, record.layoutFile),
          JSON.stringify(planned.layout, null, 1) + "\n",
        );
        await writeFileAtomic(join(settings.outDir, record.maskFile), planned.png);
      } catch (error) {
        record = emptyCase(scenario, method);
        record.error = String((error as Error).message ?? error).split("\n")[0];
      }
      cases.push(record);
      settings.onCase?.(record);
    }
  }
  const plan: PlanFile = {
    schema: PLAN_SCHEMA,
    date: new Date().toISOString(),
    command: settings.command,
    size: settings.size,
    seed: settings.seed,
    head: settings.head,
    cases,
  };
  await writeFileAtomic(join(settings.outDir, "plan.json"), JSON.stringify(plan, null, 2) + "\n");
  return plan;
}

function percent(x: number | null): string {
  return x === null ? "-" : `${(100 * x).toFixed(2)}%`;
}

/** A short text table of a plan: one line per case, failures with their error. */
export function planTable(plan: PlanFile): string {
  const header = [
    "scenario",
    "method",
    "tokens",
    "sparsity",
    "block sparsity",
    "FLOPs",
    "layout ms",
  ];
  const rows = plan.cases.map((c) => [
    c.scenario,
    c.method,
    String(c.tokens),
    c.tokenSparsity === null ? "-" : percent(c.tokenSparsity),
    c.blockSparsity === null ? "-" : `${percent(c.blockSparsity)} @${c.blockSize}`,
    c.flops === null ? "-" : c.flops.toExponential(2),
    c.layoutMs === null ? "-" : c.layoutMs.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ");
  const lines = [line(header), ...rows.map(line)];
  for (const c of plan.cases) {
    if (c.error) lines.push(`FAILED ${c.scenario} × ${c.method}: ${c.error}`);
  }
  return lines.join("\n").replace(/ +$/gm, "");
}

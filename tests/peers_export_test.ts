/**
 * The layout export read back by the peer runner: `tools/peers.py --dry-run --mask-digests`
 * decodes every exported case (block lists, partial bits, permutation) into an L×L mask in the
 * original token order twice — row by row as its float64 check does, and as FlexAttention runs
 * it (full blocks whole, partial blocks through the very mask_mod the GPU run compiles) — and
 * both sha256 must equal that of `denseMask` of the same form, so the Python side attends
 * exactly the pairs Longshot counts. Skipped where python3 is missing.
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { countedFlops, denseMask } from "../form/form.ts";
import type { LayoutContext, Method } from "../methods/method.ts";
import { resolveMethod } from "../methods/registry.ts";
import { exportLayouts } from "../plan/layout_export.ts";
import { readPeersFile } from "../records/peers.ts";
import { resolveScenario } from "../scenarios/scenario_file.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import type { Scenario } from "../scenarios/scenario.ts";

const PEERS_PY = new URL("../tools/peers.py", import.meta.url).pathname;
const SEED = 3;

async function hasPython(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function formsOf(scenario: Scenario, method: Method) {
  const context: LayoutContext = method.dynamic
    ? {
      inputs: syntheticInputs(scenario, { seed: SEED }),
      heads: Array.from({ length: scenario.heads }, (_, h) => h),
      seed: SEED,
    }
    : {};
  return (await method.layout(scenario, context)).forms;
}

Deno.test({
  name: "peers.py decodes every exported layout to the form's exact mask",
  ignore: !(await hasPython()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const scenarios = [
        { ...await resolveScenario("hunyuan-117f-768x1280", "ci"), heads: 2 },
        { ...await resolveScenario("moc-multi-shot", "ci"), heads: 2 },
      ];
      const methods: Method[] = [];
      for (const spec of ["dense", "radial", "sta", "moc", "moga-kmeans"]) {
        methods.push(await resolveMethod(spec));
      }
      const manifest = await exportLayouts(scenarios, methods, {
        dir,
        seed: SEED,
        command: "test",
      });
      const run = await new Deno.Command("python3", {
        args: [PEERS_PY, join(dir, "manifest.json"), "--dry-run", "--mask-digests"],
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      equal(run.code, 0, stderr);
      const digests = new Map<string, string[]>();
      for (const line of new TextDecoder().decode(run.stdout).split("\n")) {
        if (!line.startsWith("digest ")) continue;
        const d = JSON.parse(line.slice(7));
        digests.set(`${d.caseKey}#${d.head}`, [d.maskRow, d.maskMod]);
      }
      let checked = 0;
      for (const scenario of scenarios) {
        for (const method of methods) {
          const exported = manifest.cases.find((c) =>
            c.scenario === scenario.name && c.method === method.name
          )!;
          equal(exported.error, undefined);
          const forms = await formsOf(scenario, method);
          equal(exported.layoutHeads, forms.length);
          const perHead = forms.map((f) => countedFlops(f, scenario.headDim));
          const flops = forms.length === 1
            ? perHead[0] * scenario.heads
            : perHead.reduce((a, b) => a + b);
          equal(exported.flops, flops);
          // Both decodings: the check's row by row, and FlexAttention's (full blocks, mask_mod).
          const want = await Promise.all(forms.map(async (f) => {
            const digest = await sha256(denseMask(f));
            return [digest, digest];
          }));
          const got = forms.map((_, h) => digests.get(`${exported.caseKey}#${h}`));
          deepEqual(got, want, exported.caseKey);
          checked += forms.length;
        }
      }
      equal(digests.size, checked);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "peers.py refuses a damaged export before any work, in one line, exit 2",
  ignore: !(await hasPython()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const scenario = { ...await resolveScenario("hunyuan-117f-768x1280", "ci"), heads: 1 };
      const manifest = await exportLayouts([scenario], [await resolveMethod("radial")], {
        dir,
        seed: SEED,
        command: "test",
      });
      manifest.cases[0].attendedPairs[0] += 1;
      await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest));
      const run = await new Deno.Command("python3", {
        args: [PEERS_PY, join(dir, "manifest.json"), "--dry-run"],
      }).output();
      equal(run.code, 2);
      const stderr = new TextDecoder().decode(run.stderr).trim();
      equal(stderr.split("\n").length, 1);
      equal(/head 0 lists \d+ attended pairs, the manifest counts \d+/.test(stderr), true, stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function hasNumpy(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["-c", "import numpy"] }).output()).success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "peers.py's GPU path on a numpy stand-in of torch: every run passes its float64 check",
  ignore: !(await hasNumpy()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // 1,568 tokens: not whole blocks of 128, so the edge blocks are partial.
      const scenarios = [{ ...await resolveScenario("hunyuan-117f-768x1280", "ci"), heads: 2 }];
      const methods: Method[] = [];
      for (const spec of ["dense", "sta", "moga-kmeans"]) methods.push(await resolveMethod(spec));
      await exportLayouts(scenarios, methods, { dir, seed: SEED, command: "test" });
      const out = join(dir, "peers.json");
      const run = await new Deno.Command("python3", {
        args: [
          PEERS_PY,
          join(dir, "manifest.json"),
          "--out",
          out,
          "--warmup",
          "1",
          "--repeats",
          "2",
        ],
        env: {
          PYTHONPATH: new URL("./fake_torch", import.meta.url).pathname,
          PYTHONDONTWRITEBYTECODE: "1",
        },
      }).output();
      equal(run.code, 0, new TextDecoder().decode(run.stderr));
      const peers = await readPeersFile(out);
      deepEqual(
        peers.records.map((r) => `${r.scenario} ${r.method} ${r.peer} ${r.dtype}`),
        scenarios.flatMap((s) => [
          `${s.name} dense torch-sdpa f32`,
          `${s.name} dense torch-sdpa bf16`,
          `${s.name} dense torch-flex f32`,
          `${s.name} dense torch-flex bf16`,
          `${s.name} sta torch-flex f32`,
          `${s.name} sta torch-flex bf16`,
          `${s.name} moga-kmeans torch-flex f32`,
          `${s.name} moga-kmeans torch-flex bf16`,
        ]),
      );
      for (const r of peers.records) {
        equal(r.error, undefined);
        equal(r.check!.passed && r.check!.relL2 < 1e-6, true, `${r.method} ${r.check!.relL2}`);
        equal(r.check!.rows, 2 * 18);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { denseForm } from "../form/form.ts";
import { formFromSegments } from "../form/mask_predicate.ts";
import type { LayoutContext, Method, Params } from "../methods/method.ts";
import { moc } from "../methods/moc.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { radial } from "../methods/radial.ts";
import { sta } from "../methods/sta.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { type LayoutFile, planCase, runPlan } from "./plan.ts";
import { methodLabels } from "../records/file_name.ts";
import { textBlocks } from "../reports/mask_png.ts";

const scenario: Scenario = {
  name: "tiny",
  latent: [6, 8, 8],
  text: { tokens: 20, position: "prefix" },
  shots: [6],
  textSegments: [20],
  heads: 3,
  headDim: 64,
  modelType: "hunyuan",
};

Deno.test("a dynamic method gets synthetic inputs and the requested head", async () => {
  const seen: LayoutContext[] = [];
  const dynamic: Method = {
    name: "probe",
    params: {},
    dynamic: true,
    async layout(s, context) {
      seen.push(context);
      const head = await context.inputs!.head(context.heads![0]);
      equal(head.q.length, (6 * 64 + 20) * s.headDim);
      return { forms: [denseForm(6 * 64 + 20)], routingFlops: 7 };
    },
  };
  const out = await Deno.makeTempDir();
  try {
    const plan = await runPlan([scenario], [dynamic, radial.create({})], {
      outDir: out,
      head: 2,
      seed: 5,
      size: "ci",
      command: "test",
    });
    equal(seen.length, 1);
    deepEqual(seen[0].heads, [2]);
    equal(seen[0].seed, 5);
    equal(plan.cases[0].head, 2);
    equal(plan.cases[0].routingFlops, 7);
    ok(plan.cases[0].notes.some((n) => n.includes("head 2")));
    equal(plan.cases[1].head, null);
    const layout = JSON.parse(
      await Deno.readTextFile(join(out, "probe.layout.json")),
    ) as LayoutFile;
    equal(layout.head, 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("text blocks follow the permutation: STA keeps a text prefix first", async () => {
  const planned = await planCase(scenario, sta.create({ tile: [3, 4, 4] }), {});
  equal(planned.layout.permutation, "sta-tile-major");
  equal(planned.layout.blockSize, 48);
  const layout = await sta.create({ tile: [3, 4, 4] }).layout(scenario, {});
  const marks = textBlocks(scenario, layout.forms[0]);
  // 20 text tokens in blocks of 48: only block 0 holds text.
  equal(marks[0], 1);
  equal(marks.reduce((a, b) => a + b, 0), 1);
});

Deno.test("methodLabels: a repeated method name gets its parameters in the label", () => {
  deepEqual(
    methodLabels([radial.create({ block: 64 }), radial.create({}), sta.create({})]),
    ["radial.block_64_decay_auto", "radial.block_128_decay_auto", "sta"],
  );
});

Deno.test("text blocks are found wherever a permutation moves the text", () => {
  const tokens = 6 * 64 + 20;
  const reversed = Uint32Array.from({ length: tokens }, (_, p) => tokens - 1 - p);
  const form = formFromSegments([0, tokens], () => true, {
    blockSize: 100,
    permutation: reversed,
    permutationName: "reversed",
  });
  // The text prefix (original 0..19) sits at permuted positions 384..403: block 3 and block 4.
  deepEqual(Array.from(textBlocks(scenario, form)), [0, 0, 0, 1, 1]);
});

Deno.test("plan counts what runs: MoC key-chunk-major executes its attended pairs, union tiles more", async () => {
  const inputs = syntheticInputs(scenario, { seed: 3 });
  const context: LayoutContext = { inputs, heads: [1], seed: 3 };
  const plan = async (spec: Params) =>
    (await planCase(scenario, moc.create({ k: 2, chunk: 40, ...spec }), context)).record;
  const chunkMajor = await plan({});
  const union = await plan({ form: "union" });
  equal(chunkMajor.flops, union.flops, "the same attended pairs");
  equal(chunkMajor.executedFlops, chunkMajor.flops, "no masked pairs run");
  ok(union.executedFlops! > union.flops!, "union tiles run masked pairs");
  ok(chunkMajor.notes.some((n) => n.startsWith("executed FLOPs count what the kernel runs")));
  equal(chunkMajor.permutation, "moc-choice-sorted", "the mask's form");
});

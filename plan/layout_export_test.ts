import { equal, match } from "node:assert/strict";
import { exportLayouts } from "./layout_export.ts";
import { resolveMethod } from "../methods/registry.ts";
import { preset } from "../scenarios/presets.ts";

Deno.test("the peers export records a layout with its own key order as failed, naming why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = { ...preset("hunyuan-117f-768x1280", "ci"), heads: 1 };
    const svg2 = await resolveMethod("svg2:qClusters=3;kClusters=5;iters=1");
    const manifest = await exportLayouts([scenario], [svg2], { dir, seed: 1, command: "test" });
    equal(manifest.cases.length, 1);
    match(String(manifest.cases[0].error), /keys run in an order of their own \(keyPermutation\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { throws } from "node:assert/strict";
import { checkMemory, estimateMemory } from "./memory_estimate.ts";
import type { Scenario } from "../scenarios/scenario.ts";

const scenario: Scenario = {
  name: "wide",
  latent: [8, 32, 32],
  text: { tokens: 0, position: "none" },
  shots: [8],
  textSegments: [],
  heads: 256,
  headDim: 128,
  modelType: "hunyuan",
};
const roomy = { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: 2 ** 40 };

Deno.test("a software adapter counts device memory as host memory", () => {
  // 8192 tokens × 128 dims × 256 heads: about 8.0 GiB of Q/K/V/O with permuted copies.
  const estimate = estimateMemory(scenario, "f32", 1);
  const limits = { ...roomy, hostMemoryBytes: 4 * 2 ** 30 };
  checkMemory(scenario, estimate, { ...limits, fallback: false });
  throws(
    () => checkMemory(scenario, estimate, { ...limits, fallback: true }),
    /scenario "wide" \(256 heads × 8192 tokens × 128 dims\) needs about 8\.\d GiB .*the host has 4\.0 GiB/,
  );
});

Deno.test("one head's buffer over the adapter's binding limit is refused, naming the limit", () => {
  const estimate = estimateMemory(scenario, "f16", 0);
  throws(
    () =>
      checkMemory(scenario, estimate, {
        maxBufferSize: 2 ** 30,
        maxStorageBufferBindingSize: 2 ** 20,
        fallback: false,
        hostMemoryBytes: 2 ** 40,
      }),
    /needs 4\.0 MiB for one head's Q\/K\/V\/O buffer; the adapter allows 1\.0 MiB \(maxStorageBufferBindingSize\)/,
  );
});

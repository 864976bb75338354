import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { preset } from "./presets.ts";
import { ScenarioError } from "./scenario.ts";
import {
  INPUT_SIDECAR_KEYS,
  loadScenarioFile,
  parseScenario,
  resolveScenario,
} from "./scenario_file.ts";

const CLI_EXAMPLE = {
  name: "my-clip",
  latent: [30, 48, 80],
  text: { tokens: 256, position: "suffix" },
  shots: [10, 10, 10],
  heads: 8,
  headDim: 128,
  modelType: "hunyuan",
};

Deno.test("cli.md's example parses as written, one text segment", () => {
  const scenario = parseScenario(CLI_EXAMPLE, "my-clip.json");
  deepEqual(scenario, {
    ...CLI_EXAMPLE,
    latent: [30, 48, 80],
    text: { tokens: 256, position: "suffix" },
    textSegments: [256],
  });
});

Deno.test("defaults: name from the file, one shot, no text, d = 128, hunyuan rules", () => {
  const scenario = parseScenario({ latent: [12, 8, 8], heads: 2 }, "dir/short.clip.json");
  deepEqual(scenario, {
    name: "short.clip",
    latent: [12, 8, 8],
    text: { tokens: 0, position: "none" },
    shots: [12],
    textSegments: [],
    heads: 2,
    headDim: 128,
    modelType: "hunyuan",
  });
  const withText = parseScenario({ latent: [12, 8, 8], heads: 2, text: { tokens: 32 } }, "x.json");
  deepEqual(withText.text, { tokens: 32, position: "suffix" });
  deepEqual(withText.textSegments, [32]);
});

Deno.test("multi-shot prompts, source and sidecar fields", () => {
  const json = {
    ...CLI_EXAMPLE,
    textSegments: [100, 100, 56],
    source: "captured from layer 20",
    layout: "nhd",
  };
  const scenario = parseScenario(json, "q.json", { extraKeys: INPUT_SIDECAR_KEYS });
  deepEqual(scenario.textSegments, [100, 100, 56]);
  equal(scenario.source, "captured from layer 20");
  equal("layout" in scenario, false);
});

Deno.test("unknown fields are an error, at the top and inside text", () => {
  throws(
    () => parseScenario({ ...CLI_EXAMPLE, fps: 24 }, "a.json"),
    /^ScenarioError: scenario file "a.json": unknown field "fps" \(allowed: name, latent,/,
  );
  throws(
    () => parseScenario({ ...CLI_EXAMPLE, layout: "hnd" }, "a.json"),
    /unknown field "layout"/,
  );
  throws(
    () => parseScenario({ ...CLI_EXAMPLE, text: { tokens: 4, where: "end" } }, "a.json"),
    /scenario file "a.json": text: unknown field "where" \(allowed: tokens, position\)/,
  );
});

Deno.test("missing and broken fields name the file and the field", () => {
  throws(() => parseScenario({ heads: 2 }, "a.json"), /field "latent" is required/);
  throws(() => parseScenario({ latent: [4, 4, 4] }, "a.json"), /field "heads" is required/);
  throws(() => parseScenario([1, 2], "a.json"), /must hold a JSON object/);
  throws(
    () => parseScenario({ ...CLI_EXAMPLE, text: { position: "prefix" } }, "a.json"),
    /text.tokens is required with position "prefix"/,
  );
  throws(
    () => parseScenario({ ...CLI_EXAMPLE, shots: [10, 10] }, "a.json"),
    (error: Error) =>
      error instanceof ScenarioError &&
      error.message ===
        'scenario file "a.json": scenario "my-clip": shots must sum to latent T = 30 (got 20)',
  );
});

Deno.test("loadScenarioFile and resolveScenario read files and presets", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/clip.json`;
    await Deno.writeTextFile(path, JSON.stringify(CLI_EXAMPLE));
    equal((await loadScenarioFile(path)).name, "my-clip");
    equal((await resolveScenario(path, "ci")).heads, 8);
    deepEqual(await resolveScenario("wan-69f-768x1280", "ci"), preset("wan-69f-768x1280", "ci"));
    await rejects(resolveScenario("no-such-preset", "ci"), /--scenario: unknown preset/);
    await rejects(loadScenarioFile(`${dir}/missing.json`), /missing.json": cannot be read/);
    await Deno.writeTextFile(`${dir}/bad.json`, "{ latent: ");
    await rejects(resolveScenario(`${dir}/bad.json`, "full"), /bad.json": not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

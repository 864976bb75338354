import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { BaselineError, baselineNameFor, saveBaseline } from "./baseline.ts";
import { readResultsFile } from "./results_input.ts";
import { makeRecord, makeResults } from "../tests/results_fixtures.ts";

Deno.test("baselineNameFor gives one name per adapter kind", () => {
  const cases: [string, string, boolean, string][] = [
    ["llvmpipe (LLVM 15.0.6, 256 bits)", "65541", true, "software-llvmpipe"],
    ["llvmpipe (LLVM 17.0.6, 128 bits)", "65541", true, "software-llvmpipe"],
    ["NVIDIA H200", "4318", false, "nvidia-h200"],
    ["NVIDIA GeForce RTX 4090", "0x10de", false, "nvidia-geforce-rtx-4090"],
    ["AMD Radeon RX 7900 XTX (RADV NAVI31)", "4098", false, "amd-radeon-rx-7900-xtx"],
    ["Intel(R) UHD Graphics 630", "32902", false, "intel-uhd-graphics-630"],
    ["Apple M2 Max", "apple", false, "apple-m2-max"],
    ["", "4318", false, "nvidia-adapter"],
  ];
  for (const [description, vendor, fallback, name] of cases) {
    equal(baselineNameFor({ description, vendor, fallback }), name, description);
  }
});

Deno.test("saveBaseline writes <dir>/<name>.json that reads back, leaving no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  const results = makeResults([makeRecord()]);
  const path = await saveBaseline(results, "software-llvmpipe", { dir: join(dir, "baselines") });
  equal(path, join(dir, "baselines", "software-llvmpipe.json"));
  deepEqual(await readResultsFile(path), results);
  const names = [];
  for await (const entry of Deno.readDir(join(dir, "baselines"))) names.push(entry.name);
  deepEqual(names, ["software-llvmpipe.json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveBaseline refuses bad names, one shard, no records and invalid results", async () => {
  const dir = await Deno.makeTempDir();
  const whole = makeResults([makeRecord()]);
  await rejects(saveBaseline(whole, "../escape", { dir }), BaselineError);
  await rejects(saveBaseline({ ...whole, shard: "1/2" }, "x", { dir }), /merge the shards first/);
  await rejects(saveBaseline(makeResults([]), "x", { dir }), /no records/);
  await rejects(
    saveBaseline(makeResults([makeRecord({ dtype: "f64" as "f32" })]), "x", { dir }),
    /records\[0\]\.dtype/,
  );
  deepEqual([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

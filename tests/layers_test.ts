import { deepEqual, equal, ok } from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { floorsFromDiagram, type ImportEdge, layerViolations, relativeImports } from "./layers.ts";

const ROOT = new URL("../", import.meta.url);
/** Folders outside the product: they may import anything and are not on the floors. */
const OUTSIDE = new Set(["tests", "tools", "examples", "docs", "baselines", "results"]);

async function floors() {
  return floorsFromDiagram(await Deno.readTextFile(new URL("docs/architecture.md", ROOT)));
}

/** Every product .ts file (tests beside their module included) and its relative imports. */
async function productEdges(): Promise<ImportEdge[]> {
  const edges: ImportEdge[] = [];
  async function walk(folder: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(folder || ".", ROOT))) {
      const path = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.isDirectory && !entry.name.startsWith(".") && !OUTSIDE.has(path)) {
        if (entry.name !== "node_modules") await walk(path);
      } else if (entry.isFile && path.endsWith(".ts")) {
        const source = await Deno.readTextFile(new URL(path, ROOT));
        for (const spec of relativeImports(source)) {
          edges.push({ from: path, to: normalize(join(dirname(path), spec)) });
        }
      }
    }
  }
  await walk("");
  return edges;
}

Deno.test("layers: every product import runs to the same folder or a lower floor", async () => {
  const edges = await productEdges();
  ok(edges.length > 100, `only ${edges.length} imports found: the scan is broken`);
  deepEqual(layerViolations(await floors(), edges), []);
});

Deno.test("layers: the diagram names every product folder once", async () => {
  const folders = (await floors()).flat();
  equal(new Set(folders).size, folders.length, `a folder sits on two floors: ${folders}`);
  for await (const entry of Deno.readDir(ROOT)) {
    const isProduct = entry.isDirectory && !entry.name.startsWith(".") &&
      !OUTSIDE.has(entry.name) && entry.name !== "node_modules";
    if (isProduct) ok(folders.includes(entry.name), `${entry.name}/ is on no floor`);
  }
});

Deno.test("layers: a planted upward, sideways or outside import is caught", async () => {
  const planted: ImportEdge[] = [
    { from: "kernels/attention.ts", to: "methods/method.ts" },
    { from: "bench/runner.ts", to: "plan/plan.ts" },
    { from: "methods/moc.ts", to: "tests/random_qkv.ts" },
    { from: "gpu/runtime.ts", to: "mod.ts" },
  ];
  const found = layerViolations(await floors(), planted);
  equal(found.length, planted.length, found.join("\n"));
  ok(found[0].includes("higher floor"), found[0]);
  ok(found[1].includes("same floor"), found[1]);
  ok(found[2].includes("outside the product"), found[2]);
});

Deno.test("layers: downward and same-folder imports pass; comments are not imports", async () => {
  const allowed: ImportEdge[] = [
    { from: "methods/moc.ts", to: "kernels/moc_routing.ts" },
    { from: "cli/bench.ts", to: "scenarios/presets.ts" },
    { from: "records/compare.ts", to: "records/stats.ts" },
    { from: "mod.ts", to: "cli/bench.ts" },
  ];
  deepEqual(layerViolations(await floors(), allowed), []);
  const source = [
    "/**",
    ' * import { x } from "../tools/x.ts";',
    " */",
    '// import { y } from "../cli/y.ts";',
    'import type { Z } from "../gpu/z.ts";',
    'export { w } from "./w.ts";',
    'const lazy = await import("../methods/registry.ts");',
  ].join("\n");
  deepEqual(relativeImports(source), ["../gpu/z.ts", "./w.ts", "../methods/registry.ts"]);
});

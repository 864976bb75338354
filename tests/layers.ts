/**
 * The layer check (docs/architecture.md, "Layers"): the floors are read from the diagram of that
 * page, so the picture a reader sees is the rule the suite enforces. A product file may import its
 * own folder and folders on lower floors; an import of a folder on its own floor, on a higher
 * floor, or outside the product (tests/, tools/) is a violation, except a `_test.ts` file's import
 * of tests/ (shared fixtures) or tools/ (file writers). Files at the repository root
 * (mod.ts, the public API) sit above every floor.
 *
 * @module
 */

/** One import of a product file: the importing file and the imported path, both repo-relative. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** The floors from the bottom up; each floor lists its folders (`["scenarios"]`, `["bench", "plan"]`). */
export type Floors = string[][];

/**
 * Floors from the code block under the `## Layers` heading: one line a floor, top first, each
 * line starting with its folders (`bench/   plan/   orchestration…`).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { floorsFromDiagram } from "./layers.ts";
 * const fence = "`".repeat(3);
 * const diagram = "cli/   top\nbench/   plan/   middle\ngpu/   bottom\n";
 * const page = `## Layers\n\n${fence}\n${diagram}${fence}\n`;
 * deepEqual(floorsFromDiagram(page), [["gpu"], ["bench", "plan"], ["cli"]]);
 * ```
 */
export function floorsFromDiagram(markdown: string): Floors {
  const afterHeading = markdown.split(/^## Layers\s*$/m)[1];
  const block = afterHeading?.match(/```\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error("docs/architecture.md: no diagram under ## Layers");
  return block.trim().split("\n").map((line) => {
    const folders = [...line.matchAll(/(?:^|\s)([a-z_]+)\/(?=\s)/g)].map((m) => m[1]);
    if (folders.length === 0) throw new Error(`layer diagram line names no folder: "${line}"`);
    return folders;
  }).reverse();
}

/**
 * The relative imports of one TypeScript source: static `import`/`export … from` statements and
 * dynamic `import("…")`, outside comments (doc examples in JSDoc are not the file's imports).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { relativeImports } from "./layers.ts";
 * const source = 'import { a } from "../gpu/a.ts";\n * import { b } from "./b.ts";\n';
 * deepEqual(relativeImports(source), ["../gpu/a.ts"]);
 * ```
 */
export function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = [
    ...code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/gm),
    ...code.matchAll(/^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm),
    ...code.matchAll(/\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
  ];
  return found.map((m) => m[1]);
}

/** The folder a repo-relative path belongs to, or "" for a file at the root. */
function topFolder(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/**
 * Every edge that breaks the floors, as one line each (`kernels/a.ts → methods/b.ts: kernels/ may
 * not import methods/ (a higher floor)`). Empty when the imports run downward only.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { layerViolations } from "./layers.ts";
 * const floors = [["gpu"], ["kernels"]];
 * deepEqual(layerViolations(floors, [{ from: "kernels/a.ts", to: "gpu/b.ts" }]), []);
 * ```
 */
export function layerViolations(floors: Floors, edges: ImportEdge[]): string[] {
  const floorOf = new Map<string, number>();
  floors.forEach((folders, floor) => folders.forEach((folder) => floorOf.set(folder, floor)));
  const violations: string[] = [];
  for (const { from, to } of edges) {
    const source = topFolder(from);
    const target = topFolder(to);
    if (source === "" || source === target) continue;
    const sourceFloor = floorOf.get(source);
    if (sourceFloor === undefined) {
      violations.push(`${from}: folder ${source}/ is on no floor of the layer diagram`);
      continue;
    }
    // A test beside its module may use the shared fixtures of tests/ and the writers of tools/.
    if ((target === "tests" || target === "tools") && from.endsWith("_test.ts")) continue;
    const targetFloor = target === "" ? floors.length : floorOf.get(target);
    const why = targetFloor === undefined
      ? "is outside the product"
      : targetFloor > sourceFloor
      ? "is on a higher floor"
      : targetFloor === sourceFloor
      ? "is on the same floor"
      : "";
    if (why !== "") {
      violations.push(`${from} → ${to}: ${source}/ may not import ${target || to} (${why})`);
    }
  }
  return violations;
}

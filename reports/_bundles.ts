/**
 * The browser bundles of vega, vega-lite and vega-embed, read from their npm packages (the
 * versions pinned in deno.json) and made safe to inline in a `<script>` element, so the report
 * opens offline with no network request.
 *
 * The static imports pin the three packages in the module graph: Deno downloads them with the
 * rest of the program, and `import.meta.resolve` then points into the local npm cache.
 *
 * @module
 */
import { version as vegaVersion } from "vega";
import { version as vegaLiteVersion } from "vega-lite";
import { version as vegaEmbedVersion } from "vega-embed";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One inlinable browser bundle. */
export interface ScriptBundle {
  /** npm package name. */
  name: string;
  /** Package version. */
  version: string;
  /** Script text, safe inside `<script>…</script>`. */
  code: string;
}

/** Packages in load order (vega-lite needs vega; vega-embed needs both) with their bundle. */
const PACKAGES = [
  { name: "vega", version: vegaVersion, file: "build/vega.min.js" },
  { name: "vega-lite", version: vegaLiteVersion, file: "build/vega-lite.min.js" },
  { name: "vega-embed", version: vegaEmbedVersion, file: "build/vega-embed.min.js" },
];

let cached: Promise<ScriptBundle[]> | null = null;

/** The three bundles in load order (read once per process). */
export function vegaBundles(): Promise<ScriptBundle[]> {
  cached ??= Promise.all(PACKAGES.map(async (pkg) => {
    const root = await packageRoot(pkg.name);
    const code = await Deno.readTextFile(join(root, pkg.file));
    return { name: pkg.name, version: pkg.version, code: inlineScript(code) };
  }));
  return cached;
}

/** The folder of an npm package: walk up from its entry point to its package.json. */
async function packageRoot(name: string): Promise<string> {
  let folder = dirname(fileURLToPath(import.meta.resolve(name)));
  while (true) {
    try {
      const manifest = JSON.parse(await Deno.readTextFile(join(folder, "package.json")));
      if (manifest.name === name) return folder;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`package.json of npm package ${name} not found`);
    folder = parent;
  }
}

/**
 * Script text made safe inside an HTML `<script>` element: `</script` and `<!--` would end or
 * confuse the element, and `\x3C` means `<` in every JS string, template and regex where they can
 * occur. The source-map comment is dropped: it names a file the report does not carry.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { inlineScript } from "./_bundles.ts";
 * equal(inlineScript('s="</script>"\n//# sourceMappingURL=x.map'), 's="\\x3C/script>"\n');
 * ```
 */
export function inlineScript(code: string): string {
  return code
    .replace(/^\/\/# sourceMappingURL=.*$/gm, "")
    .replace(/<\/script/gi, "\\x3C/script")
    .replace(/<!--/g, "\\x3C!--");
}

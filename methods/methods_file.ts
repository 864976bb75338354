/**
 * Methods files (docs/cli.md, "Methods file"): a JSON list of method specs that `--methods`
 * accepts in place of specs (`--methods calibrated.json` or `--methods dense,calibrated.json`).
 * `deno task calibrate` writes one; anyone may write one by hand. Fields other than `schema` and
 * `methods` (where the specs came from) are kept for the reader and ignored here.
 *
 * @module
 */
import { MethodSpecError } from "./method.ts";
import { parseMethodSpec } from "./spec.ts";

/** Version of the methods-file schema. */
export const METHODS_FILE_SCHEMA = "longshot.methods/1";

/** A methods file: the specs, plus whatever says where they came from. */
export interface MethodsFile {
  /** {@link METHODS_FILE_SCHEMA}. */
  schema: typeof METHODS_FILE_SCHEMA;
  /** Method specs as `--methods` takes them (`moc:ks=8/4`), one a method. */
  methods: string[];
  /** Where the specs came from (`calibrate` writes its scenario, target, seeds, record file). */
  [provenance: string]: unknown;
}

/**
 * True when a `--methods` entry names a methods file: a path ending in `.json` with no
 * parameters (`moga:router=r.json` names a method).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { isMethodsFileSpec } from "./methods_file.ts";
 * equal(isMethodsFileSpec("results/calibrated.json"), true);
 * equal(isMethodsFileSpec("moga:router=r.json"), false);
 * ```
 */
export function isMethodsFileSpec(spec: string): boolean {
  const { name, params } = parseMethodSpec(spec);
  return name.toLowerCase().endsWith(".json") && Object.keys(params).length === 0;
}

/** Reads and checks a methods file; a bad one throws a MethodSpecError naming file and field. */
export async function readMethodsFile(path: string): Promise<MethodsFile> {
  const fail = (what: string) => new MethodSpecError(`--methods ${path}: ${what}`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw fail(`cannot be read (${(error as Error).message})`);
  }
  let file: Record<string, unknown>;
  try {
    file = JSON.parse(text);
  } catch (error) {
    throw fail(`is not JSON (${(error as Error).message})`);
  }
  if (file === null || typeof file !== "object" || Array.isArray(file)) {
    throw fail(`must be a JSON object with "schema" and "methods"`);
  }
  if (file.schema !== METHODS_FILE_SCHEMA) {
    throw fail(`"schema" must be "${METHODS_FILE_SCHEMA}" (got ${JSON.stringify(file.schema)})`);
  }
  const methods = file.methods;
  if (
    !Array.isArray(methods) || methods.length === 0 ||
    !methods.every((m) => typeof m === "string" && m.trim() !== "")
  ) {
    throw fail(`"methods" must be a non-empty list of method specs (strings)`);
  }
  const nested = methods.find(isMethodsFileSpec);
  if (nested !== undefined) throw fail(`"methods" names another methods file (${nested})`);
  return file as MethodsFile;
}

/**
 * `--methods` entries with every methods file replaced by its specs, in place, so
 * `dense,calibrated.json` runs dense and then the file's methods.
 */
export async function expandMethodsFiles(specs: readonly string[]): Promise<string[]> {
  const expanded: string[] = [];
  for (const spec of specs) {
    if (isMethodsFileSpec(spec)) expanded.push(...(await readMethodsFile(spec.trim())).methods);
    else expanded.push(spec);
  }
  return expanded;
}

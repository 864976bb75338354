/**
 * Method specs of docs/cli.md: `name[:key=value;…]`, e.g. `radial:decay=0.95;block=128`,
 * `sta:window=3x3x3`. Values parse as numbers, `AxBxC` number lists, booleans or strings.
 *
 * @module
 */
import { MethodSpecError, type Params, type ParamValue } from "./method.ts";

/** A parsed spec: the method name (or module path) and the parameters given. */
export interface MethodSpec {
  /** Registry name or module path. */
  name: string;
  /** Parameters as written (not yet validated). */
  params: Params;
}

/** Parses one value: `3` → 3, `3x6x10` → [3, 6, 10], `true` → true, anything else a string. */
export function parseParamValue(text: string): ParamValue {
  if (text === "true" || text === "false") return text === "true";
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return Number(text);
  if (/^\d+(x\d+)+$/.test(text)) return text.split("x").map(Number);
  return text;
}

/** Parses `name[:key=value;…]`. */
export function parseMethodSpec(spec: string): MethodSpec {
  const colon = spec.search(/:(?![\\/])/);
  const name = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  if (!name) throw new MethodSpecError(`--methods: empty method name in "${spec}"`);
  const params: Params = {};
  if (colon >= 0) {
    for (const part of spec.slice(colon + 1).split(";")) {
      if (!part.trim()) continue;
      const eq = part.indexOf("=");
      if (eq <= 0) {
        throw new MethodSpecError(`--methods: "${part}" in "${spec}" must be key=value`);
      }
      const key = part.slice(0, eq).trim();
      if (Object.hasOwn(params, key)) {
        throw new MethodSpecError(`--methods: parameter "${key}" given twice in "${spec}"`);
      }
      params[key] = parseParamValue(part.slice(eq + 1).trim());
    }
  }
  return { name, params };
}

/** Splits a `--methods` list at commas that are not inside a module path's parameters. */
export function splitMethodList(list: string): string[] {
  return list.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Merges `given` over `defaults`, rejecting unknown keys and values of the wrong type:
 * the error names the method, the parameter and the allowed keys.
 */
export function resolveParams(method: string, defaults: Params, given: Params): Params {
  const resolved: Params = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in defaults)) {
      const allowed = Object.keys(defaults).join(", ") || "none";
      throw new MethodSpecError(`${method}: unknown parameter "${key}" (allowed: ${allowed})`);
    }
    const want = Array.isArray(defaults[key]) ? "list" : typeof defaults[key];
    const got = Array.isArray(value) ? "list" : typeof value;
    if (want !== got && !(want === "list" && got === "number")) {
      throw new MethodSpecError(
        `${method}: parameter "${key}" must be a ${want === "list" ? "AxBxC list" : want} (got ${
          String(value)
        })`,
      );
    }
    resolved[key] = want === "list" && typeof value === "number" ? [value] : value;
  }
  return resolved;
}

/** Formats params back to the spec syntax, `key=value;…` (stable key order). */
export function formatParams(params: Params): string {
  return Object.keys(params).sort().map((k) => {
    const v = params[k];
    return `${k}=${Array.isArray(v) ? v.join("x") : String(v)}`;
  }).join(";");
}

/**
 * The method registry and the loader of a user's own method module (`--methods ./my_method.ts`).
 *
 * @module
 */
import { dense } from "./dense.ts";
import { moc } from "./moc.ts";
import { mogaKmeans } from "./moga.ts";
import { mogaPaper } from "./moga_paper.ts";
import { radial } from "./radial.ts";
import { sparge } from "./sparge.ts";
import { sta } from "./sta.ts";
import { type Method, type MethodDefinition, MethodSpecError } from "./method.ts";
import { parseMethodSpec } from "./spec.ts";

/** Every built-in method, by name. */
export const METHODS: ReadonlyMap<string, MethodDefinition> = new Map(
  [dense, moc, mogaPaper, mogaKmeans, radial, sta, sparge].map((m) => [m.name, m]),
);

/** True when a spec names a module file rather than a registered method. */
export function isModuleSpec(name: string): boolean {
  return /[\\/]/.test(name) || /\.(ts|js|mjs)$/.test(name);
}

/** Options of {@link resolveMethod}. */
export interface ResolveMethodOptions {
  /** Time limit of one call into a user's module, ms (methods/user_module.ts). */
  userTimeLimitMs?: number;
}

/** Resolves one `--methods` entry to a method (built-in, or loaded from a user's module). */
export async function resolveMethod(
  spec: string,
  options: ResolveMethodOptions = {},
): Promise<Method> {
  const { name, params } = parseMethodSpec(spec);
  if (isModuleSpec(name)) {
    const { loadUserMethod } = await import("./user_module.ts");
    return await loadUserMethod(name, params, { timeLimitMs: options.userTimeLimitMs });
  }
  const definition = METHODS.get(name);
  if (!definition) {
    throw new MethodSpecError(
      `--methods: unknown method "${name}" (allowed: ${[...METHODS.keys()].join(", ")}, ` +
        `or a path to a .ts module)`,
    );
  }
  return definition.create(params);
}

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
import { svg2 } from "./svg2.ts";
import { vsa } from "./vsa.ts";
import { type Method, type MethodDefinition, MethodSpecError } from "./method.ts";
import { parseMethodSpec } from "./spec.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import type { KnobGrid } from "./user_module.ts";

/** Every built-in method, by name. */
export const METHODS: ReadonlyMap<string, MethodDefinition> = new Map(
  [dense, moc, mogaPaper, mogaKmeans, radial, sta, svg2, vsa, sparge].map((m) => [m.name, m]),
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

/**
 * The knob of the method `spec` names and its grid on `scenario` (densest first), or null for a
 * method without one (dense, a user module that declares none). A user module's knob is read in a
 * worker (methods/user_module.ts). Throws a {@link MethodSpecError} for an unknown method.
 *
 * @example
 * ```ts
 * import { methodKnob } from "./registry.ts";
 * import { preset } from "../scenarios/presets.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const scenario = preset("moc-multi-shot", "ci");
 * deepEqual((await methodKnob("moc:chunk=shot", scenario))?.param, "k");
 * equal(await methodKnob("dense", scenario), null);
 * ```
 */
export async function methodKnob(
  spec: string,
  scenario: Scenario,
  options: ResolveMethodOptions = {},
): Promise<KnobGrid | null> {
  const { name } = parseMethodSpec(spec);
  if (isModuleSpec(name)) {
    const { userMethodKnob } = await import("./user_module.ts");
    return await userMethodKnob(name, scenario, { timeLimitMs: options.userTimeLimitMs });
  }
  const definition = METHODS.get(name);
  if (!definition) {
    throw new MethodSpecError(
      `--methods: unknown method "${name}" (allowed: ${[...METHODS.keys()].join(", ")}, ` +
        `or a path to a .ts module)`,
    );
  }
  if (!definition.knob) return null;
  const { param, summary, grid } = definition.knob;
  return { param, summary, values: grid(scenario) };
}

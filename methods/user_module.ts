/**
 * A user's own method from a module file (`--methods ./my_method.ts`). The module exports either
 *
 * - `method`: a {@link Method} (used as is) or a {@link MethodDefinition} (made with the spec's
 *   parameters), or
 * - `mask`: a predicate `(q, k, scenario) => boolean` over original token indices, plus
 *   `blockSize`: it is compiled to the execution form as FlexAttention compiles a `mask_mod`
 *   ({@link formFromPredicate}).
 *
 * See examples/my_method.ts.
 *
 * @module
 */
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formFromPredicate } from "./mask_predicate.ts";
import { type Method, type MethodDefinition, MethodSpecError, type Params } from "./method.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";

/** A user's mask: true when query q attends key k (original joint-sequence indices). */
export type UserMask = (q: number, k: number, scenario: Scenario) => boolean;

function isDefinition(value: unknown): value is MethodDefinition {
  const v = value as MethodDefinition;
  return typeof v === "object" && v !== null && typeof v.create === "function" &&
    typeof v.name === "string" && typeof v.defaults === "object";
}

function isMethod(value: unknown): value is Method {
  const v = value as Method;
  return typeof v === "object" && v !== null && typeof v.layout === "function" &&
    typeof v.name === "string" && typeof v.params === "object" && typeof v.dynamic === "boolean";
}

/**
 * A static method from a mask predicate, compiled block by block at `blockSize` (the predicate
 * runs L² times: fine up to a few tens of thousands of tokens).
 *
 * @example
 * ```ts
 * import { maskMethod } from "./user_module.ts";
 * import { attendedPairs } from "./form.ts";
 * import { equal } from "node:assert/strict";
 * const causal = maskMethod("causal", (q, k) => k <= q, 64);
 * const scenario = {
 *   name: "tiny", latent: [2, 2, 2] as [number, number, number],
 *   text: { tokens: 0, position: "none" as const }, shots: [2], textSegments: [0],
 *   heads: 1, headDim: 64, modelType: "hunyuan" as const,
 * };
 * const layout = await causal.layout(scenario, {});
 * equal(attendedPairs(layout.forms[0]), 36);
 * ```
 */
export function maskMethod(name: string, mask: UserMask, blockSize: number): Method {
  return {
    name,
    params: { block: blockSize },
    dynamic: false,
    layout: (scenario) => ({
      forms: [formFromPredicate(totalTokens(scenario), blockSize, (q, k) => mask(q, k, scenario))],
      routingFlops: 0,
    }),
  };
}

/**
 * Loads the method module at `path` (relative to the working directory). Throws a
 * {@link MethodSpecError} naming the file and what is missing when the module has no usable
 * export, or when parameters are given to a module that takes none.
 */
export async function loadUserMethod(path: string, params: Params): Promise<Method> {
  const url = pathToFileURL(resolve(Deno.cwd(), path)).href;
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    const reason = String((error as Error).message ?? error).split("\n")[0];
    throw new MethodSpecError(`--methods: cannot load module "${path}" (${reason})`);
  }
  const given = Object.keys(params);
  const refuseParams = (what: string) => {
    if (given.length > 0) {
      throw new MethodSpecError(
        `--methods: module "${path}" exports ${what}, which takes no parameters (got ${
          given.join(", ")
        }); export a MethodDefinition as "method" to take parameters`,
      );
    }
  };
  if ("method" in module) {
    const method = module.method;
    if (isDefinition(method)) return method.create(params);
    if (isMethod(method)) {
      refuseParams("a ready Method");
      return method;
    }
    throw new MethodSpecError(
      `--methods: module "${path}": export "method" must be a Method ({ name, params, dynamic, ` +
        `layout }) or a MethodDefinition ({ name, defaults, create })`,
    );
  }
  if ("mask" in module) {
    if (typeof module.mask !== "function") {
      throw new MethodSpecError(
        `--methods: module "${path}": export "mask" must be a function (q, k, scenario) => boolean`,
      );
    }
    const blockSize = module.blockSize;
    if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize < 1) {
      throw new MethodSpecError(
        `--methods: module "${path}" exports "mask" but no "blockSize" (an integer ≥ 1, e.g. 128; ` +
          `got ${String(blockSize)})`,
      );
    }
    refuseParams("a mask");
    return maskMethod(basename(path, extname(path)), module.mask as UserMask, blockSize);
  }
  throw new MethodSpecError(
    `--methods: module "${path}" must export "method" (a Method or MethodDefinition) or "mask" ` +
      `(a predicate (q, k, scenario) => boolean) together with "blockSize"`,
  );
}

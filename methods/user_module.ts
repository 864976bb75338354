/**
 * A user's own method from a module file (`--methods ./my_method.ts`). The module exports either
 *
 * - `method`: a {@link Method} (used as is) or a {@link MethodDefinition} (made with the spec's
 *   parameters), or
 * - `mask`: a predicate `(q, k, scenario) => boolean` over original token indices, plus
 *   `blockSize`: it is compiled to the execution form as FlexAttention compiles a `mask_mod`
 *   ({@link formFromPredicate}).
 *
 * User code is not trusted to finish: a static method's code (the module's top level, `create()`,
 * `layout()`, the mask predicate) runs in a Worker that is terminated after a time limit, one
 * worker a call, so a `while (true)` or a `Deno.exit()` fails that case and the run goes on. A
 * dynamic method reads Q/K on the GPU device, which cannot cross into a worker: its `layout()`
 * runs on the main thread under the same limit (a promise that never settles is caught; a busy
 * loop is not). See examples/my_method.ts.
 *
 * A `MethodDefinition` export may declare a `knob` (methods/method.ts): frontier sweeps then turn
 * it like a built-in method's ({@link userMethodKnob}; its grid runs in the worker too).
 *
 * @module
 */
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formFromPredicate } from "../form/mask_predicate.ts";
import {
  type LayoutContext,
  type Method,
  type MethodDefinition,
  type MethodLayout,
  MethodSpecError,
  type Params,
  type ParamValue,
} from "./method.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import {
  callUserWorker,
  UserCodeTimeoutError,
  type UserModuleRequest,
  withTimeLimit,
} from "./_user_worker_call.ts";

/** A user's mask: true when query q attends key k (original joint-sequence indices). */
export type UserMask = (q: number, k: number, scenario: Scenario) => boolean;

/** Time limit of one call into a user module when none is given: 10 minutes. */
export const DEFAULT_USER_TIME_LIMIT_MS = 600_000;

/** Options of {@link loadUserMethod}. */
export interface LoadUserMethodOptions {
  /** Time limit of one call into the module (load, layout), ms. */
  timeLimitMs?: number;
}

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

/** The first line of an error's message, prefixed by its name. */
function errorLine(error: unknown): string {
  const e = error as Error;
  const message = String(e?.message ?? error).split("\n")[0];
  return e instanceof Error ? `${e.name}: ${message}` : message;
}

/**
 * A static method from a mask predicate, compiled block by block at `blockSize` (the predicate
 * runs L² times: fine up to a few tens of thousands of tokens). A predicate that returns anything
 * but a boolean is an error naming the pair and the value.
 *
 * @example
 * ```ts
 * import { maskMethod } from "./user_module.ts";
 * import { attendedPairs } from "../form/form.ts";
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
  const attends = (q: number, k: number, scenario: Scenario) => {
    const value = mask(q, k, scenario);
    if (typeof value !== "boolean") {
      throw new MethodSpecError(
        `${name}: mask must return a boolean (got ${JSON.stringify(value) ?? String(value)} ` +
          `for q=${q}, k=${k})`,
      );
    }
    return value;
  };
  return {
    name,
    params: { block: blockSize },
    dynamic: false,
    layout: (scenario) => ({
      forms: [
        formFromPredicate(totalTokens(scenario), blockSize, (q, k) => attends(q, k, scenario)),
      ],
      routingFlops: 0,
    }),
  };
}

/**
 * The method a loaded module defines (see the module doc), made with `params`. Throws a
 * {@link MethodSpecError} naming the file and what is missing when the module has no usable
 * export, when parameters are given to a module that takes none, or when `create()` throws.
 */
export function methodFromModule(
  module: Record<string, unknown>,
  path: string,
  params: Params,
): Method {
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
    if (isDefinition(method)) {
      try {
        return method.create(params);
      } catch (error) {
        if (error instanceof MethodSpecError) throw error;
        throw new MethodSpecError(
          `--methods: module "${path}": create() threw ${errorLine(error)}`,
        );
      }
    }
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

/** A knob with its settings on one scenario, densest first (what a frontier sweep turns). */
export interface KnobGrid {
  /** Parameter name. */
  param: string;
  /** One line: what turning it does. */
  summary: string;
  /** Settings on the scenario, densest first. */
  values: ParamValue[];
}

function isParamValue(value: unknown): value is ParamValue {
  return ["number", "string", "boolean"].includes(typeof value) ||
    (Array.isArray(value) && value.every((x) => typeof x === "number"));
}

/**
 * The knob a loaded module's `MethodDefinition` declares and its grid on `scenario`, or null
 * when the module exports no definition or the definition has no knob. Throws a
 * {@link MethodSpecError} naming the file when the knob is malformed (no parameter of that name,
 * a grid that is not a list of parameter values).
 */
export function knobFromModule(
  module: Record<string, unknown>,
  path: string,
  scenario: Scenario,
): KnobGrid | null {
  const definition = module.method;
  if (!isDefinition(definition) || definition.knob === undefined) return null;
  const { param, summary, grid } = definition.knob;
  if (typeof param !== "string" || !(param in definition.defaults)) {
    throw new MethodSpecError(
      `--methods: module "${path}": knob.param must name a parameter of defaults (allowed: ${
        Object.keys(definition.defaults).join(", ") || "none"
      }; got ${String(param)})`,
    );
  }
  const values: unknown = typeof grid === "function" ? grid(scenario) : undefined;
  if (!Array.isArray(values) || values.length === 0 || !values.every(isParamValue)) {
    throw new MethodSpecError(
      `--methods: module "${path}": knob.grid(scenario) must return a non-empty list of ` +
        `numbers, strings, booleans or number lists`,
    );
  }
  return { param, summary: String(summary ?? ""), values };
}

/**
 * The knob of the user's method module at `path` on `scenario` (see {@link knobFromModule}),
 * computed in a worker under the time limit like every call into user code.
 */
export async function userMethodKnob(
  path: string,
  scenario: Scenario,
  options: LoadUserMethodOptions = {},
): Promise<KnobGrid | null> {
  const url = pathToFileURL(resolve(Deno.cwd(), path)).href;
  const reply = await callUserWorker(
    { url, path, params: {}, call: { kind: "knob", scenario } },
    options.timeLimitMs ?? DEFAULT_USER_TIME_LIMIT_MS,
    "knob.grid()",
  ).catch((error: Error) => {
    const known = error instanceof UserCodeTimeoutError || error.name === "MethodSpecError";
    throw new MethodSpecError(
      known ? error.message : `--methods: module "${path}": knob: ${error.name}: ${error.message}`,
    );
  });
  return reply.knob ?? null;
}

/** Imports the module at `url`; a failure is a {@link MethodSpecError} naming `path`. */
export async function importUserModule(
  url: string,
  path: string,
): Promise<Record<string, unknown>> {
  try {
    return await import(url);
  } catch (error) {
    const reason = String((error as Error).message ?? error).split("\n")[0];
    throw new MethodSpecError(`--methods: cannot load module "${path}" (${reason})`);
  }
}

/**
 * Loads the method module at `path` (relative to the working directory) in a worker and returns
 * its method (see the module doc for where its code runs). Throws a {@link MethodSpecError} for
 * a module without a usable export, parameters given to a module that takes none, a `create()`
 * that throws, or a module that does not load within the time limit.
 */
export async function loadUserMethod(
  path: string,
  params: Params,
  options: LoadUserMethodOptions = {},
): Promise<Method> {
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_USER_TIME_LIMIT_MS;
  const url = pathToFileURL(resolve(Deno.cwd(), path)).href;
  const request = (call: UserModuleRequest["call"]) => ({ url, path, params, call });
  const described = await callUserWorker(request({ kind: "describe" }), timeLimitMs, "load")
    .catch((error: Error) => {
      const known = error instanceof UserCodeTimeoutError || error.name === "MethodSpecError";
      throw new MethodSpecError(
        known ? error.message : `--methods: module "${path}": ${error.name}: ${error.message}`,
      );
    });
  const { name, params: methodParams, dynamic, hasAnalyticFlops } = described.describe!;
  if (dynamic) {
    const method = methodFromModule(await importUserModule(url, path), path, params);
    return {
      name: method.name,
      params: method.params,
      dynamic: true,
      layout: (scenario: Scenario, context: LayoutContext) =>
        withTimeLimit(
          Promise.resolve().then(() => method.layout(scenario, context)),
          timeLimitMs,
          `--methods: module "${path}": layout()`,
        ),
      analyticFlops: method.analyticFlops?.bind(method),
    };
  }
  const analyticFlops = new Map<string, number | null>();
  const method: Method = {
    name,
    params: methodParams,
    dynamic: false,
    async layout(scenario: Scenario, context: LayoutContext): Promise<MethodLayout> {
      const reply = await callUserWorker(
        request({ kind: "layout", scenario, seed: context.seed }),
        timeLimitMs,
        "layout()",
      );
      analyticFlops.set(scenario.name, reply.layout!.analyticFlops);
      return reply.layout!.layout;
    },
  };
  if (hasAnalyticFlops) {
    return { ...method, analyticFlops: (scenario) => analyticFlops.get(scenario.name) ?? null };
  }
  return method;
}

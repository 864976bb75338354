/**
 * One call into a user's method module, run in a fresh Worker that is terminated when the call
 * ends or its time limit passes (the worker's side is methods/_user_module_worker.ts).
 *
 * @module
 */
import type { MethodLayout, Params, ParamValue } from "./method.ts";
import type { Scenario } from "../scenarios/scenario.ts";

/** What to do with the module, once loaded. */
export type UserModuleCall =
  | { kind: "describe" }
  | { kind: "layout"; scenario: Scenario; seed?: number }
  | { kind: "knob"; scenario: Scenario };

/** A request to the worker: load `url` (named `path` in messages), make the method, call it. */
export interface UserModuleRequest {
  /** File URL of the module. */
  url: string;
  /** The path as the user wrote it. */
  path: string;
  /** Parameters of the method spec. */
  params: Params;
  /** The call. */
  call: UserModuleCall;
}

/** The worker's answer: exactly one of the fields is set. */
export interface UserModuleReply {
  /** The method's identity (a `describe` call). */
  describe?: { name: string; params: Params; dynamic: boolean; hasAnalyticFlops: boolean };
  /** The layout and the analytic FLOPs for the scenario (a `layout` call). */
  layout?: { layout: MethodLayout; analyticFlops: number | null };
  /** The module's knob and its grid on the scenario, or null without one (a `knob` call). */
  knob?: { param: string; summary: string; values: ParamValue[] } | null;
  /** The user code's error: its name and the first line of its message. */
  error?: { name: string; message: string };
}

/** Thrown when user code does not finish within its time limit. */
export class UserCodeTimeoutError extends Error {
  /**
   * Creates the instance.
   * @param message what did not finish, and the limit
   */
  constructor(message: string) {
    super(message);
    this.name = "UserCodeTimeoutError";
  }
}

/**
 * `work`, or a {@link UserCodeTimeoutError} naming `what` when it has not settled within
 * `limitMs` (`onTimeout` runs first).
 */
export function withTimeLimit<T>(
  work: Promise<T>,
  limitMs: number,
  what: string,
  onTimeout: () => void = () => {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(
        new UserCodeTimeoutError(`${what} did not finish within ${limitMs / 1000} s (stopped)`),
      );
    }, limitMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `request` in a new worker and returns its reply; the user code's error is rethrown with
 * its name and one-line message, and a call past `limitMs` terminates the worker and throws a
 * {@link UserCodeTimeoutError} naming `what`.
 */
export async function callUserWorker(
  request: UserModuleRequest,
  limitMs: number,
  what: string,
): Promise<UserModuleReply> {
  const worker = new Worker(new URL("./_user_module_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const reply = new Promise<UserModuleReply>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data as UserModuleReply);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message.split("\n")[0]));
      };
      worker.postMessage(request);
    });
    const answer = await withTimeLimit(
      reply,
      limitMs,
      `--methods: module "${request.path}": ${what}`,
    );
    if (answer.error) {
      const error = new Error(answer.error.message);
      error.name = answer.error.name;
      throw error;
    }
    return answer;
  } finally {
    worker.terminate();
  }
}

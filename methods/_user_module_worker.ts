/**
 * The worker side of {@link callUserWorker}: loads a user's method module, makes its method and
 * answers one call. `Deno.exit` is replaced first, so user code that calls it fails its call
 * instead of ending the worker without an answer.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { importUserModule, knobFromModule, methodFromModule } from "./user_module.ts";
import type { UserModuleReply, UserModuleRequest } from "./_user_worker_call.ts";

Object.defineProperty(Deno, "exit", {
  value: (code?: number): never => {
    throw new Error(`user code called Deno.exit(${code ?? ""}); a method module must not exit`);
  },
});

async function answer(request: UserModuleRequest): Promise<UserModuleReply> {
  const module = await importUserModule(request.url, request.path);
  if (request.call.kind === "knob") {
    return { knob: knobFromModule(module, request.path, request.call.scenario) };
  }
  const method = methodFromModule(module, request.path, request.params);
  const { call } = request;
  if (call.kind === "describe") {
    return {
      describe: {
        name: method.name,
        params: method.params,
        dynamic: method.dynamic,
        hasAnalyticFlops: typeof method.analyticFlops === "function",
      },
    };
  }
  const layout = await method.layout(call.scenario, { seed: call.seed });
  return {
    layout: { layout, analyticFlops: method.analyticFlops?.(call.scenario) ?? null },
  };
}

self.onmessage = async (event: MessageEvent<UserModuleRequest>) => {
  let reply: UserModuleReply;
  try {
    reply = await answer(event.data);
  } catch (error) {
    const name = (error as Error)?.name ?? "Error";
    const message = String((error as Error)?.message ?? error).split("\n")[0];
    reply = { error: { name, message } };
  }
  self.postMessage(reply);
};

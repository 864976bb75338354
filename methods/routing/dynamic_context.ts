/**
 * The parts of a dynamic method's `layout(scenario, context)` that MoC and MoGA share: which
 * heads to route, where the inputs are (GPU or CPU), and running a GPU routing program once for
 * its result and then for its timing.
 *
 * @module
 */
import type { GpuRuntime } from "../../gpu/runtime.ts";
import { GPU_WARMUP_MS } from "../../gpu/timing.ts";
import type { HeadTensors } from "../../scenarios/inputs.ts";
import type { Scenario } from "../../scenarios/scenario.ts";
import type { GpuQkv } from "../../gpu/upload_qkv.ts";
import type { LayoutContext } from "../method.ts";
import {
  type RoutingProgram,
  type RoutingTiming,
  runRoutingOnce,
  timeRouting,
} from "../../kernels/routing_program.ts";

/** Thrown when a dynamic method is asked for a layout without Q/K. */
export class MissingInputsError extends RangeError {
  /**
   * Creates the instance.
   * @param method the method's name
   */
  constructor(method: string) {
    super(
      `${method}: the layout needs Q/K: context.inputs (CPU routing) or context.gpu with ` +
        `context.gpuInputs (GPU routing)`,
    );
    this.name = "MissingInputsError";
  }
}

/** The heads asked for (default every head), each checked against the scenario. */
export function layoutHeads(scenario: Scenario, context: LayoutContext): number[] {
  const heads = context.heads ?? Array.from({ length: scenario.heads }, (_, h) => h);
  for (const h of heads) {
    if (!Number.isInteger(h) || h < 0 || h >= scenario.heads) {
      throw new RangeError(
        `heads: ${h} is not a head of ${scenario.name} (0…${scenario.heads - 1})`,
      );
    }
  }
  return heads;
}

/** A routing program that reads back one result per routed head. */
export interface ReadableRouting<T> extends RoutingProgram {
  /** The per-head results of the last run, in head order. */
  read(): Promise<T[]>;
}

/** How a dynamic method routes its heads: a GPU program, or the float64 CPU reference. */
export interface HeadRouter<T> {
  /** Builds the routing program for `heads` on the GPU. */
  gpu(runtime: GpuRuntime, inputs: GpuQkv, heads: number[]): Promise<ReadableRouting<T>>;
  /** Routes head number `index` of the list (head `head`) on the CPU. */
  cpu(tensors: HeadTensors, index: number, head: number): T;
}

/** The per-head routing results, the GPU timing when it ran there, and where it ran. */
export interface RoutedHeads<T> {
  /** One result per requested head, in order. */
  results: T[];
  /** Routing kernel timing (GPU only). */
  routing?: RoutingTiming;
  /** `gpu` when the context had a GPU with uploaded inputs, else `cpu-float64`. */
  routedOn: "gpu" | "cpu-float64";
}

/**
 * Routes `heads` on the GPU when the context has one with uploaded inputs (run once, read, then
 * timed), else head by head on the CPU from `context.inputs` ({@link MissingInputsError} without).
 */
export async function routeHeads<T>(
  method: string,
  context: LayoutContext,
  job: { heads: number[]; router: HeadRouter<T> },
): Promise<RoutedHeads<T>> {
  const { heads, router } = job;
  if (context.gpu && context.gpuInputs) {
    const program = await router.gpu(context.gpu, context.gpuInputs, heads);
    const { result, routing } = await runGpuRouting(context.gpu, {
      program,
      read: () => program.read(),
      context,
    });
    return { results: result, routing, routedOn: "gpu" };
  }
  const results: T[] = [];
  for (const [index, head] of heads.entries()) {
    if (!context.inputs) throw new MissingInputsError(method);
    results.push(router.cpu(await context.inputs.head(head), index, head));
  }
  return { results, routedOn: "cpu-float64" };
}

/**
 * Runs `program` once, reads its result with `read`, then times it (context.routingWarmup,
 * default 1, and then at least {@link GPU_WARMUP_MS} of warm-up on a GPU unless it is 0;
 * context.routingRepeats, default 3). The program is released in every case.
 */
export async function runGpuRouting<T>(
  runtime: GpuRuntime,
  job: { program: RoutingProgram; read: () => Promise<T>; context: LayoutContext },
): Promise<{ result: T; routing?: RoutingTiming }> {
  const { program, read, context } = job;
  try {
    await runRoutingOnce(runtime, program);
    const result = await read();
    const routing = await timeRouting(runtime, program, {
      warmup: context.routingWarmup ?? 1,
      // A GPU's clocks rise only under steady work; a software adapter has none to raise.
      warmupMs: context.routingWarmup === 0 || runtime.facts.fallback ? 0 : GPU_WARMUP_MS,
      repeats: context.routingRepeats ?? 3,
    });
    return { result, routing };
  } finally {
    program.release();
  }
}

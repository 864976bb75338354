/**
 * The parts of a dynamic method's `layout(scenario, context)` that MoC and MoGA share: which
 * heads to route, where the inputs are (GPU or CPU), and running a GPU routing program once for
 * its result and then for its timing.
 *
 * @module
 */
import type { GpuRuntime } from "../../gpu/runtime.ts";
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

/** The GPU and its inputs when routing should run there, else null. */
export function gpuRouting(context: LayoutContext): { gpu: GpuRuntime; inputs: GpuQkv } | null {
  return context.gpu && context.gpuInputs ? { gpu: context.gpu, inputs: context.gpuInputs } : null;
}

/** One head's CPU tensors, or a {@link MissingInputsError} when there is no CPU source. */
export function cpuHead(
  method: string,
  context: LayoutContext,
  head: number,
): Promise<HeadTensors> {
  if (!context.inputs) throw new MissingInputsError(method);
  return context.inputs.head(head);
}

/**
 * Runs `program` once, reads its result with `read`, then times it (context.routingWarmup,
 * default 1; context.routingRepeats, default 3). The program is released in every case.
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
      repeats: context.routingRepeats ?? 3,
    });
    return { result, routing };
  } finally {
    program.release();
  }
}

/**
 * Fills buffers with a quiet-NaN word on the GPU: the poisoning of a case's outputs before its
 * timed runs (docs/metrics.md, "How bench times a case"). Writing them from the CPU took seconds
 * for a case whose branches hold gigabytes of outputs, and the GPU's clocks fell while it waited,
 * so the first timed run read slow (docs/results/nvidia-h200/kernel-v4.md, "Fourth pass").
 *
 * @module
 */
import { type Binding, bindingKinds, bindingsWgsl } from "./bindings.ts";
import type { GpuRuntime } from "./runtime.ts";

/** The word every poisoned f32 slot holds: a quiet NaN. */
export const POISON_WORD = 0x7fc00000;

/** Threads a workgroup of the fill kernel. */
const FILL_WORKGROUP = 256;

const FILL_BINDINGS: Binding[] = [{ name: "words", kind: "read_write", type: "array<u32>" }];

const FILL_WGSL = /* wgsl */ `
${bindingsWgsl(FILL_BINDINGS)}

@compute @workgroup_size(${FILL_WORKGROUP})
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let i = gid.x + gid.y * groups.x * ${FILL_WORKGROUP}u;
  if (i < arrayLength(&words)) {
    words[i] = ${POISON_WORD}u;
  }
}
`;

/** A fill of fixed buffers with {@link POISON_WORD}, compiled once, encoded on demand. */
export class PoisonFill {
  readonly #runtime: GpuRuntime;
  readonly #pipeline: GPUComputePipeline;
  readonly #targets: { group: GPUBindGroup; grid: [number, number] }[];

  private constructor(
    runtime: GpuRuntime,
    pipeline: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
  ) {
    this.#runtime = runtime;
    this.#pipeline = pipeline;
    const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
    this.#targets = buffers.map((buffer) => {
      const workgroups = Math.ceil(buffer.size / 4 / FILL_WORKGROUP);
      const x = Math.max(1, Math.min(workgroups, limit));
      return {
        group: runtime.device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [{ binding: 0, resource: { buffer } }],
        }),
        grid: [x, Math.ceil(workgroups / x)],
      };
    });
  }

  /** The fill of `buffers` (each a whole number of u32 words). */
  static async create(runtime: GpuRuntime, buffers: readonly GPUBuffer[]): Promise<PoisonFill> {
    const { pipeline } = await runtime.pipeline(
      "poison-fill",
      FILL_WGSL,
      bindingKinds(FILL_BINDINGS),
    );
    return new PoisonFill(runtime, pipeline, buffers);
  }

  /** Submits the fill of every buffer (one compute pass, ordered before later submissions). */
  submit(): void {
    const encoder = this.#runtime.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.#pipeline);
    for (const { group, grid } of this.#targets) {
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(grid[0], grid[1]);
    }
    pass.end();
    this.#runtime.device.queue.submit([encoder.finish()]);
  }
}

/**
 * Test fixture of the attention kernel: runs one execution form once on the GPU and reads the
 * outputs back, for the kernel tests in kernels/.
 *
 * @module
 */
import type { ExecutionForm } from "../form/form.ts";
import { submitComputePass } from "../gpu/compute_pass.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { uploadHead } from "../gpu/upload_qkv.ts";
import { AttentionProgram } from "../kernels/attention.ts";
import type { AttentionTiling, KernelMath } from "../kernels/attention_tiling.ts";

/**
 * Runs `form` once over one head of `tensors` (outputs poisoned with NaN first, so a row the
 * kernel does not write shows) and returns that head's output rows and LSEs.
 */
export async function runFormOnce(
  runtime: GpuRuntime,
  form: ExecutionForm,
  tensors: { q: Float32Array; k: Float32Array; v: Float32Array },
  options: { precision: "f32" | "f16"; tiling?: AttentionTiling; math?: KernelMath },
): Promise<{ out: Float32Array; lse: Float32Array }> {
  const buffers = uploadHead(runtime, tensors, options.precision, 0);
  try {
    const program = await AttentionProgram.create(runtime, [form], {
      precision: options.precision,
      q: [buffers.q],
      k: [buffers.k],
      v: [buffers.v],
    }, { tiling: options.tiling, math: options.math });
    try {
      program.poisonOutputs();
      submitComputePass(runtime, (pass) => program.encode(pass));
      const out = new Float32Array(await runtime.read(program.outputs.out[0]));
      const lse = new Float32Array(await runtime.read(program.outputs.lse[0]));
      return { out, lse };
    } finally {
      program.release();
    }
  } finally {
    runtime.release([buffers.q, buffers.k, buffers.v]);
  }
}

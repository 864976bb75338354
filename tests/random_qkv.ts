/**
 * Seeded Q/K/V for the routing tests. `quantized` values are multiples of 1/8 in [−2, 2): every
 * sum and product the routing kernels form is then exact in f16 storage, f32 and f64 alike, so
 * GPU and CPU must choose identically, ties included.
 *
 * @module
 */
import type { HeadTensors, QkvSource } from "../scenarios/inputs.ts";
import { Prng } from "../scenarios/prng.ts";

/** `count` seeded values: multiples of 1/8 in [−2, 2) when quantized, else standard normal. */
export function seededValues(
  count: number,
  options: { seed: number; stream: number; quantized: boolean },
): Float32Array {
  const prng = new Prng(options.seed, 0, options.stream);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    values[i] = options.quantized ? (Math.floor(prng.uniform() * 32) - 16) / 8 : prng.normal();
  }
  return values;
}

/** A source of `heads` heads of seeded [tokens, headDim] tensors. */
export function seededQkv(
  shape: { tokens: number; heads: number; headDim: number },
  options: { seed: number; quantized: boolean },
): QkvSource & { tensors: HeadTensors[] } {
  const { tokens, heads, headDim } = shape;
  const tensors: HeadTensors[] = [];
  for (let h = 0; h < heads; h++) {
    const make = (stream: number) =>
      seededValues(tokens * headDim, { ...options, stream: 3 * h + stream });
    tensors.push({ q: make(0), k: make(1), v: make(2) });
  }
  return {
    description: `seeded test tensors (seed ${options.seed})`,
    tokens,
    heads,
    headDim,
    tensors,
    head: (h) => Promise.resolve(tensors[h]),
  };
}

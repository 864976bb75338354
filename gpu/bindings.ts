/**
 * A kernel's bindings declared once by name: the same list gives the WGSL declarations of group 0
 * (`@binding(n)` in list order), the layout kinds {@link GpuRuntime.pipeline} builds, and the bind
 * group built from buffers named like the variables — nothing is matched by position by hand.
 *
 * @module
 */
import type { BindingKind, GpuRuntime } from "./runtime.ts";

/** One variable of group 0: its WGSL name, access and type. */
export interface Binding {
  /** The WGSL variable name, also the key of its buffer in {@link bindNamed}. */
  readonly name: string;
  /** `read` and `read_write` are storage buffers; `uniform` a uniform buffer. */
  readonly kind: BindingKind;
  /** The WGSL type (`array<f32>`, `Params`). */
  readonly type: string;
}

/**
 * The WGSL declarations of `bindings`, one line each, `@binding(n)` in list order.
 *
 * @example
 * ```ts
 * import { bindingsWgsl } from "./bindings.ts";
 * import { equal } from "node:assert/strict";
 * const wgsl = bindingsWgsl([
 *   { name: "keys", kind: "read", type: "array<f32>" },
 *   { name: "params", kind: "uniform", type: "Params" },
 * ]);
 * equal(wgsl, "@group(0) @binding(0) var<storage, read> keys: array<f32>;\n" +
 *   "@group(0) @binding(1) var<uniform> params: Params;");
 * ```
 */
export function bindingsWgsl(bindings: readonly Binding[]): string {
  return bindings.map(({ name, kind, type }, n) => {
    const space = kind === "uniform" ? "uniform" : `storage, ${kind}`;
    return `@group(0) @binding(${n}) var<${space}> ${name}: ${type};`;
  }).join("\n");
}

/** The layout kinds of `bindings`, in binding order (what {@link GpuRuntime.pipeline} takes). */
export function bindingKinds(bindings: readonly Binding[]): BindingKind[] {
  return bindings.map((binding) => binding.kind);
}

/** A whole buffer, or a slice of one (`offset` a multiple of the device's storage alignment). */
export type BufferResource = GPUBuffer | GPUBufferBinding;

/** A buffer (or slice) for every binding, keyed by the binding's name. */
export type NamedBuffers<B extends readonly Binding[]> = Record<B[number]["name"], BufferResource>;

/**
 * The bind group of `pipeline`'s group 0 with each binding's buffer taken by name from `buffers`.
 */
export function bindNamed<B extends readonly Binding[]>(
  runtime: GpuRuntime,
  pipeline: GPUComputePipeline,
  bindings: B,
  buffers: NamedBuffers<B>,
): GPUBindGroup {
  const named = buffers as Record<string, BufferResource>;
  return bindBuffers(runtime, pipeline, bindings.map((binding) => named[binding.name]));
}

/** A bind group of `buffers` (or slices) at bindings 0, 1, … of `pipeline`'s group 0. */
export function bindBuffers(
  runtime: GpuRuntime,
  pipeline: GPUComputePipeline,
  buffers: readonly BufferResource[],
): GPUBindGroup {
  return runtime.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((resource, binding) => ({
      binding,
      resource: resource instanceof GPUBuffer ? { buffer: resource } : resource,
    })),
  });
}

/**
 * Every head of a routing stage in one dispatch: Q/K arrive one GPU buffer a head
 * (gpu/upload_qkv.ts), so a batched kernel binds one variable per head (`keys0`, `keys1`, …) and
 * reads them through a generated accessor that switches on the head (uniform across a workgroup,
 * so it costs no divergence). The number of heads a dispatch can take is bounded by the device's
 * storage buffers per shader stage: longer head lists run in several batches.
 *
 * @module
 */
import type { Binding } from "../gpu/bindings.ts";

/**
 * One read-only storage binding per head, `${name}0` … `${name}${heads - 1}`, each an
 * `array<vec4<Stored>>` (the kernel declares the `Stored` alias: f32 or f16).
 *
 * @example
 * ```ts
 * import { perHeadBindings } from "./head_bindings.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(perHeadBindings("keys", 2).map((b) => b.name), ["keys0", "keys1"]);
 * ```
 */
export function perHeadBindings(name: string, heads: number): Binding[] {
  return Array.from(
    { length: heads },
    (_, h) => ({ name: `${name}${h}`, kind: "read", type: "array<vec4<Stored>>" }),
  );
}

/**
 * WGSL `fn ${name}At(head: u32, index: u32) -> vec4<f32>`: element `index` of head `head`'s
 * binding (see {@link perHeadBindings}), converted to f32; a head past the last reads the last.
 *
 * @example
 * ```ts
 * import { perHeadAccessorWgsl } from "./head_bindings.ts";
 * import { ok } from "node:assert/strict";
 * ok(perHeadAccessorWgsl("keys", 2).includes("case 0u: { value = vec4<f32>(keys0[index]); }"));
 * ```
 */
export function perHeadAccessorWgsl(name: string, heads: number): string {
  const cases = Array.from({ length: heads }, (_, h) => {
    const label = h === heads - 1 ? "default" : `case ${h}u`;
    return `    ${label}: { value = vec4<f32>(${name}${h}[index]); }`;
  });
  return `fn ${name}At(head: u32, index: u32) -> vec4<f32> {
  var value: vec4<f32>;
  switch head {
${cases.join("\n")}
  }
  return value;
}`;
}

/**
 * WGSL that declares each of `loads`' variables (`var name: vec4<f32>`) and fills it with
 * element `index` of head `head`'s binding (see {@link perHeadBindings}), converted to f32, under
 * one switch on the head: every load of a case can be issued before the first is used, where a
 * call of {@link perHeadAccessorWgsl} a load puts a switch between each two. A head past the
 * last reads the last.
 *
 * @example
 * ```ts
 * import { perHeadLoadsWgsl } from "./head_bindings.ts";
 * import { ok } from "node:assert/strict";
 * const wgsl = perHeadLoadsWgsl("keys", 2, [{ variable: "k0", index: "base" }]);
 * ok(wgsl.includes("var k0: vec4<f32>;"));
 * ok(wgsl.includes("default: { k0 = vec4<f32>(keys1[base]); }"));
 * ```
 */
export function perHeadLoadsWgsl(
  name: string,
  heads: number,
  loads: readonly { variable: string; index: string }[],
): string {
  const declarations = loads.map(({ variable }) => `  var ${variable}: vec4<f32>;`);
  const cases = Array.from({ length: heads }, (_, h) => {
    const label = h === heads - 1 ? "default" : `case ${h}u`;
    const body = loads.map(({ variable, index }) =>
      `${variable} = vec4<f32>(${name}${h}[${index}]);`
    );
    return `    ${label}: { ${body.join(" ")} }`;
  });
  return `${declarations.join("\n")}
  switch head {
${cases.join("\n")}
  }`;
}

/**
 * `items` cut into runs of at most `size` (the last shorter), in order.
 *
 * @example
 * ```ts
 * import { batches } from "./head_bindings.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(batches([0, 1, 2, 3, 4], 2), [[0, 1], [2, 3], [4]]);
 * ```
 */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`batch size must be an integer ≥ 1 (got ${size})`);
  }
  const runs: T[][] = [];
  for (let first = 0; first < items.length; first += size) {
    runs.push(items.slice(first, first + size));
  }
  return runs;
}

/**
 * Heads one dispatch can bind: the device's storage buffers per shader stage, less the kernel's
 * other storage bindings, shared among `perHead` bindings a head.
 */
export function headsPerDispatch(
  device: GPUDevice,
  bindings: { perHead: number; others: number },
): number {
  const free = device.limits.maxStorageBuffersPerShaderStage - bindings.others;
  const heads = Math.floor(free / bindings.perHead);
  if (heads < 1) {
    throw new RangeError(
      `routing: maxStorageBuffersPerShaderStage ${device.limits.maxStorageBuffersPerShaderStage} ` +
        `leaves no binding for a head (${bindings.others} other storage bindings)`,
    );
  }
  return heads;
}

/**
 * The bind-group entries of {@link perHeadBindings}: `${name}h` → `buffers[h]`.
 *
 * @example
 * ```ts ignore
 * bindNamed(runtime, pipeline, perHeadBindings("keys", 2), { ...perHeadBuffers("keys", [k0, k1]) });
 * ```
 */
export function perHeadBuffers(name: string, buffers: GPUBuffer[]): Record<string, GPUBuffer> {
  return Object.fromEntries(buffers.map((buffer, h) => [`${name}${h}`, buffer]));
}

/**
 * One list a head, one after another (a per-head table in one buffer, head h at h·length).
 *
 * @example
 * ```ts
 * import { concatPerHead } from "./head_bindings.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual([...concatPerHead([Uint32Array.of(1, 2), Uint32Array.of(3, 4)])], [1, 2, 3, 4]);
 * ```
 */
export function concatPerHead(lists: Uint32Array[]): Uint32Array {
  const all = new Uint32Array(lists.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const list of lists) {
    all.set(list, at);
    at += list.length;
  }
  return all;
}

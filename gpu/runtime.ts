/**
 * The one owner of WebGPU state: adapter, device, buffers, the pipeline cache and timers.
 * Methods and reports never call WebGPU directly; kernels go through this runtime.
 *
 * @module
 */

/** Facts about the adapter that every record carries (docs/metrics.md, `adapter`). */
export interface AdapterFacts {
  /** Driver's description, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** PCI vendor id or name as the adapter reports it. */
  vendor: string;
  /** Architecture string (often empty on Mesa). */
  architecture: string;
  /** True for a software (CPU) adapter such as Mesa's llvmpipe/lavapipe. */
  fallback: boolean;
  /** Graphics API under WebGPU: from DENO_WEBGPU_BACKEND, else inferred ("vulkan", "gl"). */
  backend: string;
  /** Whether `shader-f16` is available (f16 storage). */
  shaderF16: boolean;
  /** Whether `timestamp-query` is available (GPU timers). */
  timestampQuery: boolean;
  /** Largest storage-buffer binding in bytes. */
  maxStorageBufferBindingSize: number;
  /** Largest buffer in bytes. */
  maxBufferSize: number;
}

/** Thrown when no WebGPU adapter exists; the message says how to get one. */
export class NoAdapterError extends Error {
  constructor() {
    super(
      "no WebGPU adapter: install Mesa's software drivers (apt-get install -y mesa-vulkan-drivers) " +
        "or run on a machine with a GPU driver",
    );
    this.name = "NoAdapterError";
  }
}

/** Thrown when a buffer would pass the adapter's size limits; the message names the limit. */
export class BufferLimitError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "BufferLimitError";
  }
}

/** Thrown when the device was lost while a case ran. */
export class DeviceLostError extends Error {
  constructor(message: string) {
    super(`GPU device lost: ${message}`);
    this.name = "DeviceLostError";
  }
}

/** A compiled compute pipeline with the time its compilation took. */
export interface CompiledPipeline {
  /** The pipeline. */
  pipeline: GPUComputePipeline;
  /** Wall time of createComputePipelineAsync, in ms (0 when it came from the cache). */
  compileMs: number;
}

/** How a kernel uses each binding of group 0, in binding order. */
export type BindingKind = "read" | "read_write" | "uniform";

/** Options of {@link GpuRuntime.open}. */
export interface OpenOptions {
  /** Ask for the high-performance adapter (default) or the low-power one. */
  powerPreference?: GPUPowerPreference;
}

/**
 * Gives the process a private XDG_RUNTIME_DIR when it has none (or a relative one): Mesa's
 * libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set" twice when it loads without
 * one, and it reads the variable with getenv when the adapter is first requested, after this
 * runs. The directory is one per user under the temporary folder, reused by later runs. Returns
 * the directory set, or null when the environment already had a usable one.
 */
export function ensureXdgRuntimeDir(): string | null {
  if (Deno.build.os !== "linux") return null;
  const current = Deno.env.get("XDG_RUNTIME_DIR");
  if (current?.startsWith("/") && isDirectory(current)) return null;
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  const dir = `${tmp}/longshot-xdg-${Deno.uid()}`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.env.set("XDG_RUNTIME_DIR", dir);
  return dir;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function inferBackend(info: GPUAdapterInfo): string {
  const fromEnv = Deno.env.get("DENO_WEBGPU_BACKEND");
  if (fromEnv) return fromEnv;
  // wgpu's GL backend reports the default subgroup range 4..128; Vulkan drivers report their own.
  const sub = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  if (sub.subgroupMinSize === 4 && sub.subgroupMaxSize === 128) return "gl";
  return Deno.build.os === "darwin" ? "metal" : "vulkan";
}

/** Owns adapter, device, buffers, pipelines and timers for one run. */
export class GpuRuntime {
  /** The adapter's facts. */
  readonly facts: AdapterFacts;
  /** The device all kernels run on. */
  readonly device: GPUDevice;
  #pipelines = new Map<string, Promise<CompiledPipeline>>();
  #buffers = new Set<GPUBuffer>();
  #lostReason: string | null = null;

  private constructor(device: GPUDevice, facts: AdapterFacts) {
    this.device = device;
    this.facts = facts;
    device.lost.then((info) => {
      this.#lostReason = info.message || info.reason || "unknown reason";
    });
  }

  /** Requests an adapter and a device with f16 and timestamps where the adapter has them. */
  static async open(options: OpenOptions = {}): Promise<GpuRuntime> {
    if (!("gpu" in navigator)) throw new NoAdapterError();
    ensureXdgRuntimeDir();
    const adapter = await navigator.gpu.requestAdapter({
      powerPreference: options.powerPreference ?? "high-performance",
    });
    if (!adapter) throw new NoAdapterError();
    const info = adapter.info;
    const features: GPUFeatureName[] = [];
    if (adapter.features.has("shader-f16")) features.push("shader-f16");
    if (adapter.features.has("timestamp-query")) features.push("timestamp-query");
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: features,
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      },
    });
    const facts: AdapterFacts = {
      description: info.description || "unknown adapter",
      vendor: info.vendor,
      architecture: info.architecture,
      fallback: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        false,
      backend: inferBackend(info),
      shaderF16: features.includes("shader-f16"),
      timestampQuery: features.includes("timestamp-query"),
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
    };
    return new GpuRuntime(device, facts);
  }

  /** Throws {@link DeviceLostError} when the device has been lost. */
  assertAlive(): void {
    if (this.#lostReason !== null) throw new DeviceLostError(this.#lostReason);
  }

  /** True once the device has been lost. */
  get lost(): boolean {
    return this.#lostReason !== null;
  }

  /**
   * A compute pipeline for `code`, compiled once per `key` and cached; `compileMs` is the time
   * of the first compilation (0 on a cache hit). `bindings` gives group 0's layout explicitly,
   * so a binding a variant does not read still keeps its slot.
   */
  async pipeline(
    key: string,
    code: string,
    bindings: readonly BindingKind[],
  ): Promise<CompiledPipeline> {
    const cached = this.#pipelines.get(key);
    if (cached) return { pipeline: (await cached).pipeline, compileMs: 0 };
    const compiled = (async () => {
      const start = performance.now();
      this.device.pushErrorScope("validation");
      const module = this.device.createShaderModule({ label: key, code });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === "error");
      if (errors.length > 0) {
        const lines = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ");
        throw new Error(`kernel ${key} failed to compile: ${lines}`);
      }
      const pipeline = await this.device.createComputePipelineAsync({
        label: key,
        layout: this.device.createPipelineLayout({
          bindGroupLayouts: [this.device.createBindGroupLayout({
            entries: bindings.map((kind, binding) => ({
              binding,
              visibility: GPUShaderStage.COMPUTE,
              buffer: {
                type: kind === "uniform"
                  ? "uniform"
                  : kind === "read"
                  ? "read-only-storage"
                  : "storage",
              },
            })),
          })],
        }),
        compute: { module, entryPoint: "main" },
      });
      const error = await this.device.popErrorScope();
      if (error) throw new Error(`kernel ${key} failed to compile: ${error.message}`);
      return { pipeline, compileMs: performance.now() - start };
    })();
    this.#pipelines.set(key, compiled);
    try {
      return await compiled;
    } catch (e) {
      this.#pipelines.delete(key);
      throw e;
    }
  }

  /** Checks a storage binding of `bytes` against the adapter's limits; `what` names it. */
  checkBinding(what: string, bytes: number): void {
    const { maxStorageBufferBindingSize: maxBinding, maxBufferSize } = this.facts;
    if (bytes > maxBufferSize) {
      throw new BufferLimitError(
        `${what} needs ${bytes} bytes, over this adapter's maxBufferSize (${maxBufferSize})`,
      );
    }
    if (bytes > maxBinding) {
      throw new BufferLimitError(
        `${what} needs ${bytes} bytes, over this adapter's maxStorageBufferBindingSize ` +
          `(${maxBinding}); use fewer tokens or a GPU with larger bindings`,
      );
    }
  }

  /** A storage buffer of `bytes` (rounded up to 4), owned by this runtime until {@link release}. */
  buffer(label: string, bytes: number, usage = 0): GPUBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    this.checkBinding(label, size);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | usage,
    });
    this.#buffers.add(buffer);
    return buffer;
  }

  /** A storage buffer holding `data`. */
  upload(label: string, data: ArrayBufferView): GPUBuffer {
    const buffer = this.buffer(label, data.byteLength);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : new Uint8Array(buffer.size);
    if (padded !== bytes) padded.set(bytes);
    this.device.queue.writeBuffer(buffer, 0, padded as Uint8Array<ArrayBuffer>);
    return buffer;
  }

  /** A uniform buffer holding `data` (u32 words). */
  uniform(label: string, data: Uint32Array): GPUBuffer {
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#buffers.add(buffer);
    this.device.queue.writeBuffer(buffer, 0, data as Uint32Array<ArrayBuffer>);
    return buffer;
  }

  /** Copies `bytes` of `buffer` (from `offset`) back to the CPU. */
  async read(buffer: GPUBuffer, bytes = buffer.size, offset = 0): Promise<ArrayBuffer> {
    const staging = this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, staging.size);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    this.assertAlive();
    const copy = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  /** Destroys buffers made by this runtime (all, or the ones given). */
  release(buffers?: Iterable<GPUBuffer>): void {
    for (const b of buffers ?? [...this.#buffers]) {
      if (this.#buffers.delete(b)) b.destroy();
    }
  }

  /** Releases every buffer and the device. */
  destroy(): void {
    this.release();
    this.device.destroy();
  }
}

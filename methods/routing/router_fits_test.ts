import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  checkRouterFits,
  type RouterKernelConfig,
  routerLogitsWgsl,
  routerMemoryPlan,
  type RouterVariant,
} from "../../kernels/router_logits_wgsl.ts";
import { MOGA_MAX_GROUPS } from "../moga.ts";

const SOFTWARE_LIMIT = 32_768; // llvmpipe's maxComputeWorkgroupStorageSize
const H200_LIMIT = 49_152; // NVIDIA's Vulkan compute limit
const WEBGPU_DEFAULT_LIMIT = 16_384;

function kernel(variant: RouterVariant, groups: number, headDim = 128, limit = H200_LIMIT) {
  return {
    variant,
    headDim,
    precision: "f32" as const,
    groups,
    heads: 8,
    workgroupLimit: limit,
  } satisfies RouterKernelConfig;
}

/** Σ over the kernel's `var<workgroup>` declarations of each one's size rounded up to 16. */
function declaredBytes(code: string): number {
  const constants = new Map<string, number>();
  for (const [, name, value] of code.matchAll(/const (\w+): u32 = (\d+)u;/g)) {
    constants.set(name, Number(value));
  }
  const evaluate = (expression: string) =>
    Function(
      `return ${
        expression.replace(/(\d+)u/g, "$1").replace(/[A-Z]\w*/g, (c) => String(constants.get(c)))
      };`,
    )() as number;
  let bytes = 0;
  for (const [, type, count] of code.matchAll(/var<workgroup> \w+: array<(.+?), ([^>]+)>;/g)) {
    const size = type.startsWith("vec4") ? 16 : 4;
    bytes += Math.ceil(size * evaluate(count) / 16) * 16;
  }
  return bytes;
}

Deno.test("routerMemoryPlan's bytes are what the generated kernel declares", () => {
  for (const variant of ["route", "accumulate", "nearest"] as const) {
    for (const headDim of [64, 128]) {
      for (const groups of [5, 16, 41, 256, 640, 1000]) {
        if (variant !== "nearest" && groups > MOGA_MAX_GROUPS) continue;
        for (const limit of [WEBGPU_DEFAULT_LIMIT, SOFTWARE_LIMIT, H200_LIMIT]) {
          const config = kernel(variant, groups, headDim, limit);
          const plan = routerMemoryPlan(config);
          if (plan.bytes > limit) continue;
          equal(declaredBytes(routerLogitsWgsl(config)), plan.bytes, JSON.stringify(config));
        }
      }
    }
  }
});

Deno.test("router kernels of the largest MoGA and SVG2 settings fit 32 KiB of workgroup memory", () => {
  for (const headDim of [64, 128, 256]) {
    for (const variant of ["route", "accumulate"] as const) {
      const config = kernel(variant, MOGA_MAX_GROUPS, headDim, SOFTWARE_LIMIT);
      checkRouterFits(config);
      ok(routerMemoryPlan(config).bits, `${variant} d ${headDim} ranks from bits`);
    }
    // SVG2's key clusters at hunyuan's size: 1,000.
    checkRouterFits(kernel("nearest", 1000, headDim, SOFTWARE_LIMIT));
  }
});

Deno.test("on WebGPU's default 16 KiB the router stages fewer rows and drops the bits", () => {
  const plan = routerMemoryPlan(kernel("accumulate", 16, 128, WEBGPU_DEFAULT_LIMIT));
  ok(!plan.bits);
  ok(plan.chunk >= 1 && plan.chunk < 16, `chunk ${plan.chunk}`);
  ok(plan.bytes <= WEBGPU_DEFAULT_LIMIT);
  checkRouterFits(kernel("nearest", 1000, 128, WEBGPU_DEFAULT_LIMIT));
});

Deno.test("the router ranks from membership bits only where they fit beside the staged rows", () => {
  // By hand: groupOf 1,024 + counts 4·G + 16 router rows of d = 128 (8,192) + norms 4·G, and
  // bits 32·G: wan's 640 SVG2 key clusters take 34,816 bytes with bits, hunyuan's 1,000 49,216.
  deepEqual(routerMemoryPlan(kernel("nearest", 640)), { chunk: 16, bits: true, bytes: 34_816 });
  deepEqual(routerMemoryPlan(kernel("nearest", 1000)), { chunk: 16, bits: false, bytes: 17_216 });
});

Deno.test("checkRouterFits names the groups, d and the limit when the kernel does not fit", () => {
  const config = { ...kernel("route", 16), heads: 1 };
  checkRouterFits({ ...config, workgroupLimit: 16_384 });
  throws(
    () => checkRouterFits({ ...config, workgroupLimit: 1_500 }),
    /route, 16 groups, d = 128\) needs 1600 bytes .* 1500/,
  );
});

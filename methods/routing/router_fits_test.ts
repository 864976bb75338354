import { ok, throws } from "node:assert/strict";
import { checkRouterFits, routerWorkgroupBytes } from "../../kernels/router_logits_wgsl.ts";
import { MOGA_MAX_GROUPS } from "../moga.ts";

const SOFTWARE_LIMIT = 32_768; // llvmpipe's maxComputeWorkgroupStorageSize

Deno.test("router kernels of the largest MoGA and SVG2 settings fit 32 KiB of workgroup memory", () => {
  for (const headDim of [64, 128, 256]) {
    for (const variant of ["route", "accumulate"] as const) {
      const kernel = {
        variant,
        headDim,
        precision: "f32" as const,
        groups: MOGA_MAX_GROUPS,
        heads: 8,
      };
      ok(routerWorkgroupBytes(kernel) <= SOFTWARE_LIMIT, `${variant} d ${headDim}`);
    }
    // SVG2's key clusters at hunyuan's size (1,000: over the membership-bit limit).
    const nearest = {
      variant: "nearest" as const,
      headDim,
      precision: "f32" as const,
      groups: 1000,
      heads: 8,
    };
    ok(routerWorkgroupBytes(nearest) <= SOFTWARE_LIMIT, `nearest d ${headDim}`);
  }
});

Deno.test("checkRouterFits names the groups, d and the limit when the kernel does not fit", () => {
  const kernel = {
    variant: "route" as const,
    headDim: 128,
    precision: "f32" as const,
    groups: 16,
    heads: 1,
  };
  checkRouterFits(kernel, 16_384);
  throws(
    () => checkRouterFits(kernel, 4_096),
    /route, 16 groups, d = 128\) needs 9792 bytes .* 4096/,
  );
});

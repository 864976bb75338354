import { equal, ok, throws } from "node:assert/strict";
import {
  checkRouterFits,
  routerWorkgroupBytes,
  usesRankBits,
} from "../../kernels/router_logits_wgsl.ts";
import { MOGA_MAX_GROUPS } from "../moga.ts";

const SOFTWARE_LIMIT = 32_768; // llvmpipe's maxComputeWorkgroupStorageSize
const H200_LIMIT = 49_152;

function kernel(variant: "route" | "accumulate" | "nearest", groups: number, headDim = 128) {
  return { variant, headDim, precision: "f32" as const, groups, heads: 8 };
}

Deno.test("router kernels of the largest MoGA and SVG2 settings fit 32 KiB of workgroup memory", () => {
  for (const headDim of [64, 128, 256]) {
    for (const variant of ["route", "accumulate"] as const) {
      const config = {
        ...kernel(variant, MOGA_MAX_GROUPS, headDim),
        workgroupLimit: SOFTWARE_LIMIT,
      };
      checkRouterFits(config);
      ok(usesRankBits(config), `${variant} d ${headDim} ranks from bits`);
    }
    // SVG2's key clusters at hunyuan's size: 1,000.
    checkRouterFits({ ...kernel("nearest", 1000, headDim), workgroupLimit: SOFTWARE_LIMIT });
  }
});

Deno.test("the router ranks from membership bits only where they fit the device", () => {
  // By hand: groupOf 1,024 + counts 4·G + 16 router rows of d = 128 (8,192) + norms 4·G, and
  // bits 32·G: wan's 640 SVG2 key clusters take 34,816 bytes with bits, hunyuan's 1,000 49,216.
  const wan = { ...kernel("nearest", 640), workgroupLimit: H200_LIMIT };
  equal(routerWorkgroupBytes(wan), 34_816);
  ok(usesRankBits(wan));
  const hunyuan = { ...kernel("nearest", 1000), workgroupLimit: H200_LIMIT };
  ok(!usesRankBits(hunyuan));
  equal(routerWorkgroupBytes(hunyuan), 17_216);
});

Deno.test("checkRouterFits names the groups, d and the limit when the kernel does not fit", () => {
  const config = { ...kernel("route", 16), heads: 1 };
  checkRouterFits({ ...config, workgroupLimit: 16_384 });
  throws(
    () => checkRouterFits({ ...config, workgroupLimit: 4_096 }),
    /route, 16 groups, d = 128\) needs 9280 bytes .* 4096/,
  );
});

/**
 * Times MoGA's router kernel (kernels/router_logits_wgsl.ts, all three variants) next to
 * logits-only variants that differ in one choice each, on the adapter at hand, 8 heads, d 128:
 * the key in named values (`lets`) or read a vec4 at a time against G running logits
 * (`chunked`), or staged through workgroup memory a column slice at a time (`staged`); the
 * router rows read from storage or from workgroup memory (`shared`); the logits in named values,
 * the key read a vec4 at a time from storage or staged 4 or 8 vec4 a token at a time (`named`).
 * Each line prints the median and p10/p90 of 15 timestamped runs after at least 3 warm-ups and
 * gpu/timing.ts GPU_WARMUP_MS of them, and a checksum of its output; a logits-only
 * variant whose assignment differs from the product `route` kernel's is flagged, and one that
 * would declare more workgroup memory than the device has is skipped.
 * docs/results/routing.md gives what it measured on the H200.
 *
 * Usage: `deno run -A tools/router_probe.ts [TOKENS] [GROUPS…]` (default 69120 tokens, G 16 and 5).
 *
 * @module
 */
import { GpuRuntime } from "../gpu/runtime.ts";
import { GPU_WARMUP_MS, summarizeSamples, timeComputePass } from "../gpu/timing.ts";
import { type Binding, bindingKinds, bindingsWgsl } from "../gpu/bindings.ts";
import { perHeadAccessorWgsl, perHeadBindings } from "../kernels/head_bindings.ts";
import { ROUTE_BLOCK, routerBindings, routerLogitsWgsl } from "../kernels/router_logits_wgsl.ts";

const HEADS = 8, D = 128, D4 = D / 4;
const count = Number(Deno.args[0] ?? 69120);
const groupList = (Deno.args.slice(1).length ? Deno.args.slice(1) : ["16", "5"]).map(Number);
const runtime = await GpuRuntime.open();
console.log(runtime.facts.description, "tokens", count, "heads", HEADS);
const blocks = Math.ceil(count / ROUTE_BLOCK);

function rnd(n: number, seed: number) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}
const keys = Array.from(
  { length: HEADS },
  (_, h) => runtime.upload(`k${h}`, rnd(count * D, h + 1)),
);

const probeBindings: Binding[] = [
  ...perHeadBindings("keys", HEADS),
  { name: "router", kind: "read", type: "array<vec4<f32>>" },
  { name: "assignment", kind: "read_write", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
];

function probeWgsl(groups: number, shape: "lets" | "chunked" | "staged", shared: boolean): string {
  const r = (idx: string) =>
    shared ? `routerShared[${idx}]` : `router[head * params.routerStride + ${idx}]`;
  const lets = Array.from(
    { length: D4 },
    (_, j) => `    let k${j} = keysAt(head, keyBase + ${j}u);`,
  ).join("\n");
  const dot = Array.from({ length: D4 }, (_, j) => `dot(k${j}, ${r(`g * D4 + ${j}u`)})`).join(
    " + ",
  );
  const staged = `    var logits: array<f32, GROUPS>;
    for (var g = 0u; g < GROUPS; g++) { logits[g] = 0.0; }
    for (var c = 0u; c < D4; c += 8u) {
      workgroupBarrier();
      for (var i = lid.x; i < BLOCK * 8u; i += BLOCK) {
        let t = i / 8u;
        let jj = i % 8u;
        keysShared[t * 9u + jj] = keysAt(head, (params.rowOffset + min(wid.x * BLOCK + t, params.count - 1u)) * D4 + c + jj);
      }
      workgroupBarrier();
      for (var jj = 0u; jj < 8u; jj++) {
        let kv = keysShared[lid.x * 9u + jj];
        for (var g = 0u; g < GROUPS; g++) { logits[g] += dot(kv, ${r("g * D4 + c + jj")}); }
      }
    }
    if (token < params.count) {
      for (var g = 0u; g < GROUPS; g++) {
        if (g == 0u || logits[g] > bestLogit) { best = g; bestLogit = logits[g]; }
      }
      assignment[head * params.count + token] = best;
    }`;
  const body = shape === "lets"
    ? `${lets}
    for (var g = 0u; g < GROUPS; g++) {
      let logit = ${dot};
      if (g == 0u || logit > bestLogit) { best = g; bestLogit = logit; }
    }`
    : `    var logits: array<f32, GROUPS>;
    for (var g = 0u; g < GROUPS; g++) { logits[g] = 0.0; }
    for (var j = 0u; j < D4; j++) {
      let kv = keysAt(head, keyBase + j);
      for (var g = 0u; g < GROUPS; g++) { logits[g] += dot(kv, ${r("g * D4 + j")}); }
    }
    for (var g = 0u; g < GROUPS; g++) {
      if (g == 0u || logits[g] > bestLogit) { best = g; bestLogit = logits[g]; }
    }`;
  return `
alias Stored = f32;
const D4: u32 = ${D4}u;
const GROUPS: u32 = ${groups}u;
const BLOCK: u32 = ${ROUTE_BLOCK}u;
struct Params { count: u32, rowOffset: u32, blocks: u32, routerStride: u32 }
${bindingsWgsl(probeBindings)}
${perHeadAccessorWgsl("keys", HEADS)}
${shape === "staged" ? "var<workgroup> keysShared: array<vec4<f32>, BLOCK * 9u>;" : ""}
${shared ? "var<workgroup> routerShared: array<vec4<f32>, GROUPS * D4>;" : ""}
@compute @workgroup_size(${ROUTE_BLOCK})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let head = wid.y;
  let token = wid.x * BLOCK + lid.x;
${
    shared
      ? `  for (var i = lid.x; i < GROUPS * D4; i += BLOCK) { routerShared[i] = router[head * params.routerStride + i]; }
  workgroupBarrier();`
      : ""
  }
  var best = 0xffffffffu;
  var bestLogit = 0.0;
${
    shape === "staged" ? staged : `  if (token < params.count) {
    let keyBase = (params.rowOffset + token) * D4;
${body}
    assignment[head * params.count + token] = best;
  }`
  }
}`;
}

/**
 * Logits in named values (`l0` … `l{G − 1}`), one pass over the key a vec4 at a time, router rows
 * staged in workgroup memory: `chunk` 0 reads the token's own key from storage, `chunk` C stages
 * every token's next C vec4 through workgroup memory first (coalesced loads; a token's row padded
 * by one vec4 so that the reads do not share banks).
 */
function namedWgsl(groups: number, chunk: number): string {
  const names = Array.from({ length: groups }, (_, g) => `l${g}`);
  const sums = (kv: string, j: string) =>
    names.map((l, g) => `      ${l} += dot(${kv}, routerShared[${g}u * D4 + ${j}]);`).join("\n");
  const argmax = names.map((l, g) =>
    g === 0
      ? `    best = 0u; bestLogit = ${l};`
      : `    if (${l} > bestLogit) { best = ${g}u; bestLogit = ${l}; }`
  ).join("\n");
  const walk = chunk === 0
    ? `  let keyBase = (params.rowOffset + min(token, params.count - 1u)) * D4;
  for (var j = 0u; j < D4; j++) {
    let kv = keysAt(head, keyBase + j);
${sums("kv", "j")}
  }`
    : `  for (var c = 0u; c < D4; c += CHUNK) {
    workgroupBarrier();
    for (var i = lid.x; i < BLOCK * CHUNK; i += BLOCK) {
      let t = i / CHUNK;
      keysShared[t * (CHUNK + 1u) + i % CHUNK] =
        keysAt(head, (params.rowOffset + min(wid.x * BLOCK + t, params.count - 1u)) * D4 + c + i % CHUNK);
    }
    workgroupBarrier();
    for (var jj = 0u; jj < CHUNK; jj++) {
      let kv = keysShared[lid.x * (CHUNK + 1u) + jj];
      let j = c + jj;
${sums("kv", "j")}
    }
  }`;
  return `
alias Stored = f32;
const D4: u32 = ${D4}u;
const GROUPS: u32 = ${groups}u;
const BLOCK: u32 = ${ROUTE_BLOCK}u;
const CHUNK: u32 = ${Math.max(chunk, 1)}u;
struct Params { count: u32, rowOffset: u32, blocks: u32, routerStride: u32 }
${bindingsWgsl(probeBindings)}
${perHeadAccessorWgsl("keys", HEADS)}
${chunk ? "var<workgroup> keysShared: array<vec4<f32>, BLOCK * (CHUNK + 1u)>;" : ""}
var<workgroup> routerShared: array<vec4<f32>, GROUPS * D4>;
@compute @workgroup_size(${ROUTE_BLOCK})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let head = wid.y;
  let token = wid.x * BLOCK + lid.x;
  for (var i = lid.x; i < GROUPS * D4; i += BLOCK) { routerShared[i] = router[head * params.routerStride + i]; }
  workgroupBarrier();
${names.map((l) => `  var ${l} = 0.0;`).join("\n")}
${walk}
  var best = 0u;
  var bestLogit = 0.0;
  if (token < params.count) {
${argmax}
    assignment[head * params.count + token] = best;
  }
}`;
}

/**
 * Times one kernel over (blocks, heads) and prints its median, p10 and p90; returns a checksum of
 * `out` (the sum of its u32 words, or of its f32 values for `float`).
 */
async function time(
  label: string,
  code: string,
  bindings: readonly Binding[],
  buffers: GPUBuffer[],
  out: { buffer: GPUBuffer; float: boolean },
): Promise<string> {
  const { pipeline } = await runtime.pipeline(label, code, bindingKinds(bindings));
  const group = runtime.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const t = await timeComputePass(runtime, (pass) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(blocks, HEADS);
  }, { warmup: 3, warmupMs: GPU_WARMUP_MS, repeats: 15 });
  const s = summarizeSamples(t.samples);
  const bytes = await runtime.read(out.buffer);
  const checksum = out.float
    ? new Float32Array(bytes).reduce((x, y) => x + y, 0).toPrecision(6)
    : String(new Uint32Array(bytes).reduce((x, y) => (x + y) >>> 0, 0));
  console.log(
    `${label.padEnd(34)} median ${s.median.toFixed(3)} ms  p10 ${s.p10.toFixed(3)} p90 ${
      s.p90.toFixed(3)
    }  checksum ${checksum}`,
  );
  return checksum;
}

/** Workgroup bytes a probe variant declares (keys staged 9 vec4 a token; router rows). */
function probeBytes(groups: number, shape: string, shared: boolean): number {
  return (shape === "staged" ? ROUTE_BLOCK * 9 * 16 : 0) + (shared ? groups * D4 * 16 : 0);
}

const LIMIT = runtime.device.limits.maxComputeWorkgroupStorageSize;

for (const groups of groupList) {
  const router = runtime.upload(`router${groups}`, rnd(HEADS * groups * D, 99));
  const params = runtime.uniform("params", new Uint32Array([count, 0, blocks, groups * D4]));
  const assignment = runtime.buffer("assignment", HEADS * count * 4);
  const gate = runtime.buffer("gate", HEADS * count * 4);
  const ranks = runtime.buffer("ranks", HEADS * count * 4);
  const counts = runtime.buffer("counts", HEADS * blocks * groups * 4);
  const partials = runtime.buffer("partials", HEADS * blocks * groups * D * 4);
  let routeChecksum = "";
  for (const variant of ["route", "nearest", "accumulate"] as const) {
    const b = routerBindings(variant, HEADS);
    const bufs = variant === "route"
      ? [...keys, router, assignment, gate, ranks, counts, params]
      : variant === "nearest"
      ? [...keys, router, assignment, ranks, counts, params]
      : [...keys, router, partials, params];
    const code = routerLogitsWgsl({
      variant,
      headDim: D,
      precision: "f32",
      groups,
      heads: HEADS,
      workgroupLimit: LIMIT,
    });
    // route's assignment is what the logits-only variants must reproduce; nearest's argmax is
    // another rule (2·k·c − ‖c‖²) and accumulate writes key sums.
    const out = variant === "accumulate"
      ? { buffer: partials, float: true }
      : { buffer: assignment, float: false };
    const checksum = await time(`G${groups} product ${variant}`, code, b, bufs, out);
    if (variant === "route") routeChecksum = checksum;
  }
  for (const chunk of [0, 4, 8]) {
    const label = `G${groups} probe named${chunk ? ` staged ${chunk}` : ""}`;
    const bytes = groups * D4 * 16 + (chunk ? ROUTE_BLOCK * (chunk + 1) * 16 : 0);
    if (bytes > LIMIT) {
      console.log(`${label.padEnd(34)} skipped: ${bytes} bytes of workgroup memory > ${LIMIT}`);
      continue;
    }
    const checksum = await time(label, namedWgsl(groups, chunk), probeBindings, [
      ...keys,
      router,
      assignment,
      params,
    ], { buffer: assignment, float: false });
    if (checksum !== routeChecksum) console.log(`  ^ assignment differs from route's`);
  }
  for (const shape of ["lets", "chunked", "staged"] as const) {
    for (const shared of [false, true]) {
      const label = `G${groups} probe ${shape}${shared ? " shared" : ""}`;
      const bytes = probeBytes(groups, shape, shared);
      if (bytes > LIMIT) {
        console.log(`${label.padEnd(34)} skipped: ${bytes} bytes of workgroup memory > ${LIMIT}`);
        continue;
      }
      const checksum = await time(
        label,
        probeWgsl(groups, shape, shared),
        probeBindings,
        [...keys, router, assignment, params],
        { buffer: assignment, float: false },
      );
      if (checksum !== routeChecksum) console.log(`  ^ assignment differs from route's`);
    }
  }
}

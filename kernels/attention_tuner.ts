/**
 * Tiling chosen by measurement: on first use per adapter, head dim and arithmetic, every
 * candidate tiling that fits the device (kernels/attention_tiling.ts) is timed on one dense
 * problem and the fastest is kept, in memory and in a cache file, so later runs on the same
 * adapter and Deno (whose wgpu compiles the shaders) skip the measurement. A software adapter is
 * not tuned: it gets the small tiling that compiles fast. Forms whose tiles are shorter than the
 * winner's row block (kernels/row_block.ts) get a tiling tuned apart among candidates of at most
 * that many rows, cached under a key of its own.
 *
 * The cache file is `$LONGSHOT_TILING_CACHE`, else `$XDG_CACHE_HOME/longshot/kernel-tilings.json`,
 * else `~/.cache/longshot/kernel-tilings.json`; delete it to tune again.
 *
 * @module
 */
import type { GpuRuntime } from "../gpu/runtime.ts";
import {
  type AttentionTiling,
  candidateTilings,
  f16ScoreChunkFor,
  fallbackTiling,
  type KernelMath,
  parseTiling,
  type TileKernelTiling,
  tilingName,
  tilingProblem,
  tilingThreads,
} from "./attention_tiling.ts";

/** The tiling a program runs and where it came from. */
export interface TilingChoice {
  /** The tiling. */
  tiling: AttentionTiling;
  /** `override` (given), `tuned` (measured now), `cached` (measured earlier), `software`. */
  source: "override" | "tuned" | "cached" | "software";
  /** The tiling as chosen, where its row block was narrowed to the forms (kernels/row_block.ts). */
  narrowedFrom?: AttentionTiling;
  /** Its time on the tuner's dense problem (ms), where the tuner measured it (tuned or cached). */
  denseMs?: number;
}

/** One cache entry: the winner and what each candidate measured (ms). */
interface CacheEntry {
  tiling: string;
  measuredMs: Record<string, number>;
  date: string;
}

const chosen = new WeakMap<GpuRuntime, Map<string, Promise<TilingChoice>>>();

/** Path of the tiling cache file. */
export function tilingCachePath(): string {
  const explicit = Deno.env.get("LONGSHOT_TILING_CACHE");
  if (explicit) return explicit;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "."}/.cache`;
  return `${base}/longshot/kernel-tilings.json`;
}

/** What a tiling is chosen for: head dim, arithmetic and, optionally, the widest row block. */
export interface TilingTarget {
  /** Head dim d. */
  headDim: number;
  /** Arithmetic of the kernel. */
  math: KernelMath;
  /**
   * Widest row block the forms to run allow (kernels/row_block.ts); candidates are narrowed to
   * it, or kept where their row block divides it. Absent = any.
   */
  maxRows?: number;
}

/**
 * Cache key: the adapter as WebGPU describes it, the backend, Deno's version, d and math (with
 * f16 math, the default score chunk, which the tuner measures at), and the row limit where there
 * is one.
 */
export function tilingCacheKey(runtime: GpuRuntime, target: TilingTarget): string {
  const { description, vendor, architecture, backend } = runtime.facts;
  const rows = target.maxRows === undefined ? "" : `|rows≤${target.maxRows}`;
  const chunk = target.math === "f16" ? `c${f16ScoreChunkFor(target.headDim)}` : "";
  return `${description}|${vendor}|${architecture}|${backend}|deno ${Deno.version.deno}|` +
    `d${target.headDim}|${target.math}${chunk}${rows}`;
}

/** Tile-kernel tilings the tuner times: the largest workgroup tiles that fit. */
const TILE_CANDIDATES = 4;

/**
 * Candidates worth timing: every row-kernel and row-block shape, and the {@link TILE_CANDIDATES} tile-kernel
 * tilings of largest workgroup tile (64 to 256 threads, at least 32 rows, at most 64 output
 * accumulators a thread, 128 at head dims of 128 and more, where few tilings fit): on an H200
 * the larger tiles were the faster ones throughout (docs/results/nvidia-h200/kernel-v4.md).
 */
export function tuningCandidates(runtime: GpuRuntime, target: TilingTarget): AttentionTiling[] {
  const { headDim, math } = target;
  const all = candidateTilings(headDim, math, runtime.device.limits);
  const accumulators = headDim >= 128 ? 128 : 64;
  const tiles = all.filter((t): t is TileKernelTiling => {
    if (t.kernel !== "tiles") return false;
    const threads = tilingThreads(t);
    return threads >= 64 && threads <= 256 && t.blockQ >= 32 &&
      t.outRows * t.outDims <= accumulators;
  }).sort((a, b) => b.blockQ * b.blockK - a.blockQ * a.blockK);
  const chosen = [...all.filter((t) => t.kernel !== "tiles"), ...tiles.slice(0, TILE_CANDIDATES)];
  return target.maxRows === undefined ? chosen : withinRows(chosen, target, runtime);
}

/**
 * `tilings` fitted to `target.maxRows`: each kept where its row block divides the limit, else
 * narrowed to it where it can run so, else left out; duplicates removed.
 */
function withinRows(
  tilings: AttentionTiling[],
  target: TilingTarget,
  runtime: GpuRuntime,
): AttentionTiling[] {
  const maxRows = target.maxRows!;
  const fitted = new Map<string, AttentionTiling>();
  for (const tiling of tilings) {
    if (tiling.blockQ < maxRows && maxRows % tiling.blockQ) continue;
    const narrowed = { ...tiling, blockQ: Math.min(tiling.blockQ, maxRows) } as AttentionTiling;
    const problem = tilingProblem(narrowed, target.headDim, target.math, runtime.device.limits);
    if (problem === null) fitted.set(tilingName(narrowed), narrowed);
  }
  return [...fitted.values()];
}

async function readCache(path: string): Promise<Record<string, CacheEntry>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return {};
  }
}

async function writeCache(path: string, key: string, entry: CacheEntry): Promise<void> {
  const cache = await readCache(path);
  cache[key] = entry;
  const dir = path.slice(0, Math.max(0, path.lastIndexOf("/")));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(cache, null, 2) + "\n");
}

/**
 * The tiling for `target` on `runtime`: the software tiling on a software adapter, else the
 * cached winner, else the fastest candidate by `measure` (ms), cached afterwards.
 */
export function kernelTiling(
  runtime: GpuRuntime,
  target: TilingTarget,
  measure: (tiling: AttentionTiling) => Promise<number>,
): Promise<TilingChoice> {
  let perRuntime = chosen.get(runtime);
  if (!perRuntime) chosen.set(runtime, perRuntime = new Map());
  const key = tilingCacheKey(runtime, target);
  let choice = perRuntime.get(key);
  if (!choice) {
    choice = chooseTiling(runtime, { key, target }, measure);
    perRuntime.set(key, choice);
  }
  return choice;
}

async function chooseTiling(
  runtime: GpuRuntime,
  { key, target }: { key: string; target: TilingTarget },
  measure: (tiling: AttentionTiling) => Promise<number>,
): Promise<TilingChoice> {
  const { headDim, math } = target;
  const limits = runtime.device.limits;
  if (runtime.facts.fallback) {
    return { tiling: fallbackTiling(headDim, math, limits, true), source: "software" };
  }
  const path = tilingCachePath();
  const cached = (await readCache(path))[key];
  if (cached) {
    const tiling = parseTiling(cached.tiling);
    if (tilingProblem(tiling, headDim, math, limits) === null) {
      return { tiling, source: "cached", denseMs: cached.measuredMs[cached.tiling] };
    }
  }
  const measuredMs: Record<string, number> = {};
  let best: { tiling: AttentionTiling; ms: number } | null = null;
  const candidates = tuningCandidates(runtime, target);
  // One untimed pass first: the first dispatches after start-up ran up to 4× slower on an H200.
  if (candidates.length) await measure(candidates[0]).catch(() => 0);
  for (const tiling of candidates) {
    let ms: number;
    try {
      ms = await measure(tiling);
    } catch {
      continue; // a candidate the driver cannot compile is skipped
    }
    measuredMs[tilingName(tiling)] = ms;
    if (!best || ms < best.ms) best = { tiling, ms };
  }
  if (!best) return { tiling: fallbackTiling(headDim, math, limits, false), source: "tuned" };
  await writeCache(path, key, {
    tiling: tilingName(best.tiling),
    measuredMs,
    date: new Date().toISOString(),
  });
  return { tiling: best.tiling, source: "tuned", denseMs: best.ms };
}

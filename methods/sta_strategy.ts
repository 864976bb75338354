/**
 * FastVideo's STA mask-strategy files (hao-ai-lab/FastVideo, `FASTVIDEO_ATTENTION_CONFIG`): a
 * JSON object keyed `"step_layer_head"` whose values are STA windows `[t, h, w]` in tiles. The
 * mask search writes one entry per (step, layer, head) it tuned; a full window (the tile grid)
 * is dense attention.
 *
 * @module
 */
import { MethodSpecError } from "./method.ts";

/** A window in tiles (t, h, w). */
export type StrategyWindow = [number, number, number];

/** A parsed mask-strategy file: windows by (step, layer, head). */
export interface MaskStrategy {
  /** The file it came from, for messages. */
  origin: string;
  /** Window of each `"step_layer_head"` key. */
  windows: ReadonlyMap<string, StrategyWindow>;
}

/** The key of a (step, layer, head) cell, as the file writes it. */
export function strategyKey(step: number, layer: number, head: number): string {
  return `${step}_${layer}_${head}`;
}

/**
 * The strategy in `json` (from `origin`), checked: keys are three integers ≥ 0 joined by `_`,
 * values three integers ≥ 1.
 *
 * @example
 * ```ts
 * import { parseMaskStrategy } from "./sta_strategy.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * const s = parseMaskStrategy({ "12_0_1": [3, 6, 10] }, "s.json");
 * deepEqual(s.windows.get("12_0_1"), [3, 6, 10]);
 * throws(() => parseMaskStrategy({ "12_0": [3, 6, 10] }, "s.json"), /step_layer_head/);
 * ```
 */
export function parseMaskStrategy(json: unknown, origin: string): MaskStrategy {
  const where = `sta: mask-strategy file "${origin}"`;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new MethodSpecError(`${where} must hold a JSON object {"step_layer_head": [t, h, w]}`);
  }
  const windows = new Map<string, StrategyWindow>();
  for (const [key, value] of Object.entries(json)) {
    if (!/^\d+_\d+_\d+$/.test(key)) {
      throw new MethodSpecError(
        `${where}: key "${key}" must be step_layer_head, three integers ≥ 0 (e.g. "12_0_3")`,
      );
    }
    const ok = Array.isArray(value) && value.length === 3 &&
      value.every((v) => Number.isInteger(v) && v >= 1);
    if (!ok) {
      throw new MethodSpecError(
        `${where}: "${key}" must be a window [t, h, w] of three integers ≥ 1 (got ${
          JSON.stringify(value)
        })`,
      );
    }
    const [step, layer, head] = key.split("_").map(Number);
    windows.set(strategyKey(step, layer, head), value as StrategyWindow);
  }
  return { origin, windows };
}

/** Reads and parses a mask-strategy file (synchronously: methods are created synchronously). */
export function readMaskStrategy(path: string): MaskStrategy {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new MethodSpecError(
      `sta: mask-strategy file "${path}" cannot be read (${(error as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MethodSpecError(
      `sta: mask-strategy file "${path}" is not valid JSON (${(error as Error).message})`,
    );
  }
  return parseMaskStrategy(json, path);
}

/**
 * The window of (step, layer, head), or a {@link MethodSpecError} naming the missing key.
 */
export function strategyWindow(
  strategy: MaskStrategy,
  step: number,
  layer: number,
  head: number,
): StrategyWindow {
  const key = strategyKey(step, layer, head);
  const window = strategy.windows.get(key);
  if (!window) {
    throw new MethodSpecError(
      `sta: mask-strategy file "${strategy.origin}" has no window for "${key}" ` +
        `(step_layer_head); give every head of the steps and layers that run STA`,
    );
  }
  return window;
}

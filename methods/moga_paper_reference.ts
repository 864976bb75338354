/**
 * Float64 CPU reference of one head of MoGA as published (arXiv 2510.18692): three (query, key)
 * masks written straight from the paper's rules, token by token in the original order and
 * independent of the execution forms, each run through the float64 attention reference, then
 * out = (gate · group output + spatial-temporal output + per-frame output) / 3. Small inputs only
 * (three L × L masks).
 *
 * @module
 */
import { referenceAttention } from "../kernels/reference.ts";
import type { HeadTensors } from "../scenarios/inputs.ts";
import {
  frameOfToken,
  type Scenario,
  shotFrameBounds,
  shotOfFrames,
  totalTokens,
  videoStart,
} from "../scenarios/scenario.ts";
import { spatialPartitionOf } from "./moga_branches.ts";
import type { MogaRouting } from "../kernels/moga_groups.ts";

/** The settings of the reference (those of `moga` as published). */
export interface MogaPaperSettings {
  /** The grouping of the video tokens (shared by every head). */
  routing: MogaRouting;
  /** Video queries attend the text keys. */
  textKeys: boolean;
  /** Spatial partitions [rows, columns]. */
  partitions: [number, number];
  /** Neighbouring-shot frames a temporal group reaches on each side. */
  adjacent: number;
  /** Scale the group output by the gate. */
  gate: boolean;
}

/** The three masks (L × L bytes, 1 = attended): groups, spatial-temporal, per frame. */
export function mogaPaperMasks(scenario: Scenario, settings: MogaPaperSettings): Uint8Array[] {
  const L = totalTokens(scenario);
  const [, H, W] = scenario.latent;
  const v0 = videoStart(scenario);
  const shotOf = shotOfFrames(scenario);
  const bounds = shotFrameBounds(scenario);
  const frame = Int32Array.from({ length: L }, (_, i) => frameOfToken(scenario, i));
  const partition = Int32Array.from({ length: L }, (_, i) => {
    if (frame[i] < 0) return -1;
    const cell = (i - v0) % (H * W);
    return spatialPartitionOf(
      scenario,
      { h: Math.floor(cell / W), w: cell % W },
      settings.partitions,
    );
  });
  const masks = [0, 1, 2].map(() => new Uint8Array(L * L));
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) {
      const row = i * L + j;
      if (frame[i] < 0 || (frame[j] < 0 && settings.textKeys)) {
        for (const mask of masks) mask[row] = 1;
        continue;
      }
      if (frame[j] < 0) continue;
      const shot = shotOf[frame[i]];
      const reach = frame[j] >= bounds[shot] - settings.adjacent &&
        frame[j] < bounds[shot + 1] + settings.adjacent;
      const groupOf = (t: number) => settings.routing.assignment[t - v0];
      masks[0][row] = groupOf(i) === groupOf(j) ? 1 : 0;
      masks[1][row] = partition[i] === partition[j] && reach ? 1 : 0;
      masks[2][row] = frame[i] === frame[j] ? 1 : 0;
    }
  }
  return masks;
}

/** One head's MoGA output and LSE (the largest of the three branches' LSEs) in float64. */
export function mogaPaperReference(
  scenario: Scenario,
  tensors: HeadTensors,
  settings: MogaPaperSettings,
): { out: Float64Array; lse: Float64Array } {
  const L = totalTokens(scenario);
  const d = scenario.headDim;
  const v0 = videoStart(scenario);
  const branches = mogaPaperMasks(scenario, settings).map((mask) =>
    referenceAttention(tensors, { tokens: L, headDim: d, mask })
  );
  const out = new Float64Array(L * d);
  const lse = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    const routed = i - v0 >= 0 && i - v0 < settings.routing.assignment.length;
    const gate = settings.gate && routed ? settings.routing.gate[i - v0] : 1;
    const weights = [gate, 1, 1];
    for (let c = 0; c < d; c++) {
      let sum = 0;
      branches.forEach((b, n) => sum += weights[n] * b.out[i * d + c]);
      out[i * d + c] = sum / branches.length;
    }
    lse[i] = Math.max(...branches.map((b) => b.lse[i]));
  }
  return { out, lse };
}

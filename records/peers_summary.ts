/**
 * The Markdown section `compare --peers` adds to its summary: for every case of the current
 * results that a peer ran (records/peers.ts), Longshot's and the peer's medians and their ratio,
 * next to the base results' ratio for the same case and peer when the base ran it too, so a change
 * that moved Longshot against PyTorch is visible in the same review as the regression check.
 * Informational: it never changes the verdict.
 *
 * @module
 */
import type { PeerRow } from "./peers.ts";

function round(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/**
 * The section for `current` peer rows, with the ratio of the matching `base` row (same case key
 * and peer) in its own column; "" when no current case has a peer.
 *
 * @example
 * ```ts
 * import { peersSummary } from "./peers_summary.ts";
 * import { ok } from "node:assert/strict";
 * const row = { caseKey: "k", scenario: "s", methodSpec: "dense:block=128", tokens: 1024,
 *   longshotDtype: "f32", longshotMs: 30, peer: "torch-sdpa f32", peerMs: 10, speedRatio: 1 / 3,
 *   peerChecked: true, sameFlops: true };
 * const markdown = peersSummary([row], [{ ...row, longshotMs: 20, speedRatio: 0.5 }]);
 * ok(markdown.includes("| s | dense:block=128 | 1024 | f32 | 30 | torch-sdpa f32 | 10 | 0.3333 | 0.5 |"));
 * ```
 */
export function peersSummary(current: readonly PeerRow[], base: readonly PeerRow[]): string {
  if (current.length === 0) return "";
  const baseRatio = new Map(base.map((r) => [`${r.caseKey}\u0000${r.peer}`, r.speedRatio]));
  const lines = [
    "### Longshot vs PyTorch",
    "",
    "Ratio = peer median / Longshot median: above 1, Longshot is faster (docs/peers.md).",
    "",
    "| scenario | method | tokens | Longshot dtype | Longshot ms | peer | peer ms | ratio | base ratio |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of current) {
    const before = baseRatio.get(`${r.caseKey}\u0000${r.peer}`);
    const flags = [
      r.peerChecked === false ? "output check failed" : "",
      r.sameFlops ? "" : "other layout: FLOPs differ",
    ].filter((f) => f !== "");
    const peer = flags.length > 0 ? `${r.peer} (${flags.join("; ")})` : r.peer;
    lines.push(
      `| ${r.scenario} | ${r.methodSpec} | ${r.tokens} | ${r.longshotDtype} | ` +
        `${round(r.longshotMs)} | ${peer} | ${round(r.peerMs)} | ${round(r.speedRatio)} | ` +
        `${before === undefined ? "—" : round(before)} |`,
    );
  }
  return lines.join("\n");
}

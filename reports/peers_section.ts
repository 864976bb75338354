/**
 * The report's "Longshot vs PyTorch" section: one row per (Longshot record, peer record) of the
 * same case (records/peers.ts), with both medians and their ratio.
 *
 * @module
 */
import { escapeHtml, formatNumber } from "./_format.ts";
import type { PeerRow } from "../records/peers.ts";

/**
 * The section's HTML, or "" when there is no row.
 *
 * @example
 * ```ts
 * import { peersSection } from "./peers_section.ts";
 * import { ok } from "node:assert/strict";
 * const html = peersSection([{ caseKey: "k", scenario: "s", methodSpec: "dense:block=128",
 *   tokens: 1024, longshotDtype: "f32", longshotMs: 30, peer: "torch-sdpa f32", peerMs: 10,
 *   speedRatio: 1 / 3, peerChecked: true, sameFlops: true }]);
 * ok(html.includes("<td>0.333</td>") && html.includes('id="peers"'));
 * ```
 */
export function peersSection(rows: readonly PeerRow[]): string {
  if (rows.length === 0) return "";
  const body = rows.map((r) =>
    `<tr><td class="text">${escapeHtml(r.scenario)}</td><td class="text">` +
    `${escapeHtml(r.methodSpec)}</td><td>${r.tokens}</td><td>${escapeHtml(r.longshotDtype)}</td>` +
    `<td>${formatNumber(r.longshotMs)}</td><td class="text">${escapeHtml(r.peer)}` +
    `${r.peerChecked === false ? " (output check failed)" : ""}` +
    `${r.sameFlops ? "" : " (other layout: FLOPs differ)"}</td>` +
    `<td>${formatNumber(r.peerMs)}</td><td>${formatNumber(r.speedRatio)}</td></tr>`
  ).join("\n");
  return `<section id="peers"><h2>Longshot vs PyTorch</h2>
<p class="note">The same cases run by PyTorch on the same GPU (tools/peers.py on the layouts ` +
    `<code>plan --export-layouts</code> wrote; docs/peers.md): SDPA for dense, FlexAttention for ` +
    `every method, same shapes and attended pairs. <b>Ratio</b> = PyTorch median / Longshot ` +
    `median: above 1, Longshot is faster.</p>
<table class="records"><thead><tr><th>scenario</th><th>method</th><th>tokens</th>` +
    `<th>Longshot dtype</th><th>Longshot ms</th><th>peer</th><th>peer ms</th><th>ratio</th>` +
    `</tr></thead><tbody>
${body}
</tbody></table></section>`;
}

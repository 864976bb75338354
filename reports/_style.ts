/**
 * The report's stylesheet: readable on a laptop screen (a centred column, charts two a row when
 * they fit) and in print (no navigation, charts kept whole, a compact table).
 *
 * @module
 */

/** CSS of the report page, screen and print. */
export const REPORT_STYLE = `
:root {
  --ink: #1d1d1f; --muted: #6b6b70; --line: #e3e3e6; --panel: #f7f7f8; --accent: #1f4e9c;
  --warn-bg: #fff1e6; --warn-line: #d9480f; --warn-ink: #7a2600;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
}
header, nav, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 28px; }
header { padding-top: 28px; }
h1 { font-size: 1.75rem; margin: 0 0 4px; letter-spacing: -0.01em; }
h1 .muted { font-weight: 400; font-size: 1.1rem; margin-left: 6px; }
h2 { font-size: 1.3rem; margin: 36px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 8px; }
.muted { color: var(--muted); }
.summary { margin: 0 0 16px; color: var(--muted); }
.note { color: var(--muted); margin: 6px 0 14px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em; }
.fallback {
  margin: 10px 0 6px; padding: 14px 18px; border: 2px solid var(--warn-line); border-radius: 8px;
  background: var(--warn-bg); color: var(--warn-ink); font-size: 1.02rem;
}
.fallback strong { display: block; font-size: 1.15rem; margin-bottom: 2px; }
nav {
  position: sticky; top: 0; z-index: 5; background: rgba(255, 255, 255, 0.94);
  border-bottom: 1px solid var(--line); display: flex; gap: 22px; padding-top: 10px;
  padding-bottom: 10px; backdrop-filter: blur(4px);
}
nav a { color: var(--accent); text-decoration: none; font-weight: 600; font-size: 0.93rem; }
nav a:hover { text-decoration: underline; }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
.run { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; }
.run-fallback { border-color: var(--warn-line); }
.badge {
  display: inline-block; margin-left: 6px; padding: 1px 8px; border-radius: 10px; font-size: 0.75rem;
  background: var(--warn-line); color: #fff; vertical-align: 2px;
}
.run dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0; }
.run dt { color: var(--muted); }
.run dd { margin: 0; overflow-wrap: anywhere; }
.run code.command { display: block; }
.run code.command + code.command { margin-top: 3px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 18px; }
.chart {
  margin: 0; padding: 14px 16px 10px; border: 1px solid var(--line); border-radius: 8px;
  background: #fff; break-inside: avoid; overflow-x: auto;
}
#chart-decay, #chart-quality, .frontier-chart { grid-column: 1 / -1; }
.frontier-targets td.none { color: var(--muted); font-style: italic; }
.chart figcaption { color: var(--muted); font-size: 0.87rem; margin-top: 6px; }
.omitted { font-style: italic; }
.chart-error { color: var(--warn-ink); }
.earlier-shot { color: var(--ink); }
.masks { display: flex; flex-wrap: wrap; gap: 16px; }
.mask { margin: 0; width: 236px; }
.mask img {
  width: 236px; height: 236px; object-fit: contain; image-rendering: pixelated;
  border: 1px solid var(--line); background: #fff;
}
.mask figcaption { font-size: 0.85rem; color: var(--muted); overflow-wrap: anywhere; }
.table-wrap {
  overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 14px;
}
#summary .table-wrap { display: inline-block; max-width: 100%; vertical-align: top; }
table.summary-table { width: auto; font-size: 0.92rem; }
.summary-table th[scope="rowgroup"] { vertical-align: top; border-right: 1px solid var(--line); }
.failed-case { color: var(--warn-ink); }
table.records { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
.records th {
  position: sticky; top: 0; background: var(--panel); text-align: right; font-weight: 600;
  padding: 6px 7px; border-bottom: 1px solid var(--line); vertical-align: bottom;
}
.records td {
  padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top;
  font-variant-numeric: tabular-nums; white-space: nowrap;
}
.records small { display: block; color: var(--muted); font-size: 0.8em; font-weight: 400; }
.records .text { text-align: left; }
/* The first column stays in view when a narrow screen scrolls the table sideways. */
.records tbody td:first-child, .records thead th:first-child {
  position: sticky; left: 0; background: #fff; z-index: 1;
}
.records thead th:first-child { z-index: 2; background: var(--panel); }
.records td code { white-space: normal; }
.records tbody tr:nth-child(even) { background: #fbfbfc; }
.records tbody tr:hover { background: #eef3fb; }
.method { white-space: nowrap; font-weight: 600; }
.method::before {
  content: ""; display: inline-block; width: 9px; height: 9px; border-radius: 50%;
  margin-right: 6px; background: #999; vertical-align: 1px;
}
.failed { padding-left: 20px; }
.failed pre {
  white-space: pre-wrap; background: var(--warn-bg); border-left: 3px solid var(--warn-line);
  padding: 8px 10px; margin: 4px 0 12px; font-size: 0.85rem;
}
.notes dt { margin-top: 10px; }
.notes dd { margin: 2px 0 2px 18px; }
.definitions li { margin-bottom: 4px; }
footer { margin-top: 40px; padding-top: 14px; padding-bottom: 28px; color: var(--muted);
  font-size: 0.85rem; border-top: 1px solid var(--line); }
.vega-chart, .vega-embed { width: 100%; max-width: 100%; }
@media (max-width: 700px) {
  header, nav, main, footer { padding-left: 14px; padding-right: 14px; }
  .charts { grid-template-columns: 1fr; }
}
@media print {
  @page { margin: 12mm; }
  html { font-size: 10pt; }
  nav { display: none; }
  header, main, footer { max-width: none; padding: 0; }
  h2 { break-after: avoid; margin-top: 18px; }
  .charts { display: block; }
  .chart { border: none; padding: 0; margin: 0 0 14px; overflow: visible; }
  .run, .chart, .mask, tr { break-inside: avoid; }
  .table-wrap { overflow: visible; border: none; }
  table.records { font-size: 7pt; }
  .records th { position: static; }
  .records td, .records th { padding: 2px 4px; white-space: normal; }
  .fallback { border-width: 2px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

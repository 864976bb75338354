/**
 * Text formatting for the HTML report: escaping, and numbers as a reader wants them (three
 * significant digits, SI prefixes for FLOPs, percentages for sparsity, a dash for "no figure").
 *
 * @module
 */

/** Shown where a record has no figure. */
export const NO_FIGURE = "—";

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { escapeHtml } from "./_format.ts";
 * equal(escapeHtml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/**
 * A number with `digits` significant digits, without trailing zeros; the dash for null.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { formatNumber } from "./_format.ts";
 * equal(formatNumber(3.14159), "3.14");
 * equal(formatNumber(1234567), "1,234,567");
 * equal(formatNumber(2.1e-7), "2.1e-7");
 * equal(formatNumber(null), "—");
 * ```
 */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return NO_FIGURE;
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (Math.abs(value) >= 10 ** digits) return Math.round(value).toLocaleString("en-US");
  if (value !== 0 && Math.abs(value) < 1e-3) {
    return Number(value.toPrecision(digits)).toExponential();
  }
  return Number(value.toPrecision(digits)).toLocaleString("en-US", {
    maximumSignificantDigits: digits,
  });
}

const SI_PREFIXES = ["", "k", "M", "G", "T", "P", "E"];

/**
 * A large count with an SI prefix: 1.66e13 → "16.6 T".
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { formatSi } from "./_format.ts";
 * equal(formatSi(1.66e13), "16.6 T");
 * equal(formatSi(512), "512");
 * ```
 */
export function formatSi(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_FIGURE;
  let power = 0;
  let scaled = value;
  while (Math.abs(scaled) >= 1000 && power < SI_PREFIXES.length - 1) {
    scaled /= 1000;
    power++;
  }
  const prefix = SI_PREFIXES[power];
  return prefix ? `${formatNumber(scaled)} ${prefix}` : formatNumber(scaled);
}

/**
 * A share as a percentage with one decimal: 0.8766 → "87.7%".
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { formatPercent } from "./_format.ts";
 * equal(formatPercent(0.8766), "87.7%");
 * ```
 */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_FIGURE;
  return `${(value * 100).toFixed(1)}%`;
}

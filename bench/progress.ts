/**
 * The progress line of a long run on stderr: case i/n, elapsed time and ETA, rewritten in place.
 * Quiet when stderr is not a terminal or with `--quiet`.
 *
 * @module
 */

/** Formats seconds as `1m05s` / `12s`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** A progress printer; `update` before each case, `finish` at the end. */
export class ProgressLine {
  readonly #enabled: boolean;
  readonly #start = performance.now();
  readonly #encoder = new TextEncoder();

  /**
   * Creates the instance.
   * @param quiet suppress the line even on a terminal
   */
  constructor(quiet: boolean) {
    this.#enabled = !quiet && Deno.stderr.isTerminal();
  }

  /** Shows `[done+1/total] label · elapsed · ETA`. */
  update(done: number, total: number, label: string): void {
    if (!this.#enabled) return;
    const elapsed = (performance.now() - this.#start) / 1000;
    const eta = done > 0 ? formatSeconds((elapsed / done) * (total - done)) : "…";
    const line = `[${done + 1}/${total}] ${label} · ${formatSeconds(elapsed)} elapsed · ETA ${eta}`;
    Deno.stderr.writeSync(this.#encoder.encode(`\r\x1b[2K${line.slice(0, 120)}`));
  }

  /** Clears the line. */
  finish(): void {
    if (this.#enabled) Deno.stderr.writeSync(this.#encoder.encode("\r\x1b[2K"));
  }
}

/**
 * Progress of a long run on stderr. On a terminal: one line rewritten in place. Without one (a
 * CI log, a file): a timestamped line when each case starts, and inside a case a line at least
 * every `everyMs` (default {@link HEARTBEAT_MS}; runs done, time left), so a slow case still shows
 * signs of life.
 * `--quiet` prints nothing.
 *
 * @module
 */

/** Default longest gap between two progress lines inside a case, ms (`bench --progress-every`). */
export const HEARTBEAT_MS = 10_000;

/** Formats seconds as `1m05s` / `12s`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Where and how {@link ProgressLine} writes (the defaults are stderr and the clock). */
export interface ProgressOptions {
  /** Print nothing. */
  quiet?: boolean;
  /** Rewrite one line in place (default: whether stderr is a terminal). */
  terminal?: boolean;
  /** Writes text (default: stderr). */
  write?: (text: string) => void;
  /** Longest gap between two lines inside a case, ms (default {@link HEARTBEAT_MS}, at least 2 s). */
  everyMs?: number;
}

/** A runs-done count inside a case, as the runner reports it. */
export interface CaseStep {
  /** Warm-up (untimed) or timed runs. */
  phase: "warmup" | "timed";
  /** Runs of this phase done. */
  done: number;
  /** Runs this phase has. */
  of: number;
}

/** A progress printer: `startCase` before each case, `step` after each run, `finish` at the end. */
export class ProgressLine {
  readonly #quiet: boolean;
  readonly #terminal: boolean;
  readonly #write: (text: string) => void;
  readonly #heartbeatMs: number;
  readonly #start = performance.now();
  #caseStart = this.#start;
  #timedStart = this.#start;
  #lastLine = this.#start;
  #lastStep = this.#start;
  #head = "";
  #step: CaseStep | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Creates the instance.
   * @param options quiet, terminal or not, writer and longest gap (defaults: stderr, 10 s)
   */
  constructor(options: ProgressOptions = {}) {
    this.#quiet = options.quiet ?? false;
    this.#terminal = options.terminal ?? Deno.stderr.isTerminal();
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    // The heartbeat timer ticks every second, so a line is due a little before the gap ends.
    this.#heartbeatMs = Math.max(500, (options.everyMs ?? HEARTBEAT_MS) - 2000);
  }

  /** A case starts: `[done+1/total] label · elapsed · ETA`. */
  startCase(done: number, total: number, label: string): void {
    if (this.#quiet) return;
    const now = performance.now();
    const elapsed = (now - this.#start) / 1000;
    const eta = done > 0 ? formatSeconds((elapsed / done) * (total - done)) : "…";
    this.#head = `[${done + 1}/${total}] ${label}`;
    this.#caseStart = now;
    this.#lastStep = now;
    this.#step = null;
    this.#print(`${this.#head} · ${formatSeconds(elapsed)} elapsed · ETA ${eta}`);
    this.#startTimer();
  }

  /** A warm-up or timed run of the current case finished. */
  step(step: CaseStep): void {
    if (this.#quiet) return;
    const now = performance.now();
    // The first timed run started where the run before it (or the case) ended.
    if (step.phase === "timed" && step.done === 1) this.#timedStart = this.#lastStep;
    this.#lastStep = now;
    this.#step = step;
    if (this.#terminal || now - this.#lastLine >= this.#heartbeatMs) {
      this.#print(this.#inCase());
    }
  }

  /** Clears the line and stops the heartbeat. */
  finish(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#quiet && this.#terminal) this.#write("\r\x1b[2K");
  }

  #inCase(): string {
    const now = performance.now();
    const inCase = formatSeconds((now - this.#caseStart) / 1000);
    const step = this.#step;
    if (!step) return `${this.#head} · ${inCase} in case · preparing`;
    const runs = `${step.phase === "warmup" ? "warm-up" : "timed"} ${step.done}/${step.of}`;
    let left = "";
    if (step.phase === "timed") {
      const perRun = (now - this.#timedStart) / step.done;
      left = ` · ~${formatSeconds((perRun * (step.of - step.done)) / 1000)} left in timing`;
    }
    return `${this.#head} · ${inCase} in case · ${runs} runs done${left}`;
  }

  #print(line: string): void {
    this.#lastLine = performance.now();
    if (this.#terminal) {
      this.#write(`\r\x1b[2K${line.slice(0, 120)}`);
    } else {
      this.#write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    }
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => {
      if (performance.now() - this.#lastLine >= this.#heartbeatMs) this.#print(this.#inCase());
    }, 1000);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}

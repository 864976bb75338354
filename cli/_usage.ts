/**
 * Shared command-line plumbing: option errors print one line and exit 2 (docs/cli.md), nothing
 * written; library errors that name a field (RangeError family) are treated the same way.
 *
 * @module
 */

import { dirname } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { splitMethodList } from "../methods/spec.ts";
import { DEFAULT_USER_TIME_LIMIT_MS } from "../methods/user_module.ts";

/** Bad command-line input: printed in one line, exit 2. */
export class UsageError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the option and the allowed values
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The parseArgs options bench and plan share (docs/cli.md, "Options shared by bench and plan"). */
export const SHARED_OPTIONS = {
  scenario: { type: "string" },
  size: { type: "string" },
  methods: { type: "string" },
  precision: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  "time-limit-s": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Usage line of `--time-limit-s`. */
export const TIME_LIMIT_USAGE =
  "--time-limit-s N        time limit of one call into a user's method module (default 600)";

/** `--time-limit-s` in ms (default: methods/user_module.ts's). */
export function userTimeLimitMs(text: string | undefined): number {
  return integerOption("time-limit-s", text, DEFAULT_USER_TIME_LIMIT_MS / 1000, 1, 86400) * 1000;
}

/** Parses a whole number option within [min, max]. */
export function integerOption(
  name: string,
  text: string | undefined,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `${min}..${max}`;
    throw new UsageError(`--${name} must be an integer ${range} (got "${text}")`);
  }
  return value;
}

/**
 * Splits a comma-separated list option (`--methods a,b`); an empty list is an error, not "the
 * default".
 */
export function listOption(name: string, text: string, allowed: string): string[] {
  const entries = splitMethodList(text);
  if (entries.length === 0) {
    throw new UsageError(`--${name} must name at least one ${allowed} (got "${text}")`);
  }
  return entries;
}

/**
 * `args` with `--name -1` written as `--name=-1` for the string options in `options`, so a
 * negative number reaches the option's own check (one line naming the allowed values) instead of
 * parseArgs' "ambiguous argument" message.
 */
export function attachDashValues(
  args: readonly string[],
  options: Record<string, { type: "string" | "boolean" }>,
): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : null;
    const next = args[i + 1];
    if (name && options[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

/** A parseArgs configuration whose options are all known (no `--name` outside them). */
export type CommandLineConfig = ParseArgsConfig & {
  args: string[];
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
};

/**
 * parseArgs with `strict`, `--name -1` passed to the option's own check
 * ({@link attachDashValues}), and an unknown option reported in one line that names the valid
 * ones.
 */
export function parseCommandLine<T extends CommandLineConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    // strict is forced on: every option of the config is known, as the return type assumes.
    const args = attachDashValues(config.args, config.options);
    return parseArgs({ ...config, strict: true, args }) as ReturnType<typeof parseArgs<T>>;
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw error;
    const unknown = e.message.match(/'([^']+)'/)?.[1] ?? "";
    const valid = Object.keys(config.options).map((name) => `--${name}`).join(", ");
    throw new UsageError(`unknown option '${unknown}' (valid: ${valid})`);
  }
}

/** Checks `value` is one of `allowed`. */
export function choiceOption<T extends string>(
  name: string,
  text: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!allowed.includes(text as T)) {
    throw new UsageError(`--${name} must be ${allowed.join(" or ")} (got "${text}")`);
  }
  return text as T;
}

/**
 * Runs a command's `main` and exits with its code; an input error (RangeError family, or a
 * parseArgs error) prints `name: message` in one line and exits 2.
 */
export async function runCommand(name: string, main: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    const e = error as Error & { code?: string };
    const isInput = e instanceof RangeError || e.code?.startsWith("ERR_PARSE_ARGS") ||
      e.name === "InputFileError" || e.name === "NoAdapterError";
    if (!isInput) throw error;
    console.error(`${name}: ${e.message}`);
    code = 2;
  }
  Deno.exit(code);
}

/**
 * Throws a UsageError naming `--option` unless `file` is a file that can be appended to, or
 * could be created (nothing is created or written).
 */
export async function checkWritableFile(file: string, option: string): Promise<void> {
  const info = await Deno.stat(file).catch(() => null);
  if (info === null) return await checkWritableDir(dirname(file), option);
  if (!info.isFile) {
    throw new UsageError(`--${option} ${file} must be a file (it is a directory or special file)`);
  }
  if (info.mode !== null && (info.mode & 0o222) === 0) {
    throw new UsageError(`--${option} ${file} is not writable (the file is read-only)`);
  }
  try {
    (await Deno.open(file, { append: true })).close();
  } catch (error) {
    throw new UsageError(`--${option} ${file} is not writable (${(error as Error).message})`);
  }
}

/**
 * Throws a UsageError naming `--option` (default `--out`) unless `dir` could be created and
 * written: probes its closest existing ancestor with a temporary file (removed), creating
 * nothing.
 */
export async function checkWritableDir(dir: string, option = "out"): Promise<void> {
  let existing = dir;
  while (true) {
    try {
      if (!(await Deno.stat(existing)).isDirectory) {
        throw new UsageError(`--${option} ${dir} is not writable (${existing} is a file)`);
      }
      break;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  const probe = `${existing}/.longshot-probe-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new UsageError(`--${option} ${dir} is not writable (${(error as Error).message})`);
  }
}

/**
 * The one subprocess runner of the CLI tests: runs a Deno script with every permission (or any
 * `deno` subcommand) and returns its exit code and decoded output.
 *
 * @module
 */

/** What a finished CLI run returned. */
export interface CliRun {
  /** Exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Working directory (default: the test's). */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** Runs `deno run --allow-all SCRIPT ARGS…` and waits for it. */
export function runCli(
  script: string,
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<CliRun> {
  return runDeno(["run", "--allow-all", script, ...args], options);
}

/** Runs `deno ARGS…` (any subcommand) with `NO_COLOR` and no stdin, and waits for it. */
export async function runDeno(
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<CliRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** True when `dir` does not exist or holds nothing. */
export async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return false;
    return true;
  } catch {
    return true;
  }
}

/** Starts `deno run --allow-all SCRIPT ARGS…` without waiting (its output is discarded). */
export function spawnCli(
  script: string,
  args: readonly string[],
  options: RunCliOptions = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

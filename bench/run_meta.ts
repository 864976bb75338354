/**
 * Facts about a run for the top of its results file: git commit, Deno version, date.
 *
 * @module
 */
import { join } from "node:path";

/** Environment variable naming the commit, for machines whose copy has no git (a lent GPU). */
export const COMMIT_ENV = "LONGSHOT_COMMIT";

/** Where {@link gitCommit} looks. */
export interface CommitSources {
  /** The environment to read {@link COMMIT_ENV} from (default: the process's). */
  env?: (name: string) => string | undefined;
  /** The working tree (default: the current directory). */
  cwd?: string;
}

/**
 * The commit the run measured, first found of: {@link COMMIT_ENV} (as given); `git` (12 hex
 * digits, `+dirty` when tracked files changed); `.git/HEAD` read directly, through its ref, when
 * git itself is missing (no dirty check possible). Null when none tells.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { gitCommit } from "./run_meta.ts";
 * equal(await gitCommit({ env: () => "abc1234" }), "abc1234");
 * ```
 */
export async function gitCommit(sources: CommitSources = {}): Promise<string | null> {
  const fromEnv = (sources.env ?? ((name) => Deno.env.get(name)))(COMMIT_ENV)?.trim();
  if (fromEnv) return fromEnv;
  const cwd = sources.cwd ?? Deno.cwd();
  return await commitFromGit(cwd) ?? await commitFromHeadFile(cwd);
}

async function commitFromGit(cwd: string): Promise<string | null> {
  try {
    const run = (args: string[]) =>
      new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "null" }).output();
    const head = await run(["rev-parse", "--short=12", "HEAD"]);
    if (!head.success) return null;
    const commit = new TextDecoder().decode(head.stdout).trim();
    const status = await run(["status", "--porcelain", "--untracked-files=no"]);
    const dirty = status.success && new TextDecoder().decode(status.stdout).trim().length > 0;
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return null;
  }
}

const readText = (path: string) => Deno.readTextFile(path).catch(() => null);

/** The commit `.git/HEAD` points at (a detached hash, or a loose or packed ref), 12 digits. */
async function commitFromHeadFile(cwd: string): Promise<string | null> {
  let gitDir = join(cwd, ".git");
  // A worktree or submodule has a `.git` file: `gitdir: PATH`.
  const pointer = (await Deno.stat(gitDir).catch(() => null))?.isFile
    ? /^gitdir:\s*(.+)$/m.exec(await readText(gitDir) ?? "")?.[1]
    : undefined;
  if (pointer) gitDir = pointer.startsWith("/") ? pointer : join(cwd, pointer);
  const head = (await readText(join(gitDir, "HEAD")))?.trim();
  if (!head) return null;
  const short = (hash: string | undefined) =>
    /^[0-9a-f]{40}$/.test(hash ?? "") ? hash!.slice(0, 12) : null;
  const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
  if (!ref) return short(head);
  // Refs live in the common dir of a worktree (its `commondir` file names it).
  const common = (await readText(join(gitDir, "commondir")))?.trim();
  const dirs = common ? [gitDir, common.startsWith("/") ? common : join(gitDir, common)] : [gitDir];
  for (const dir of dirs) {
    const loose = (await readText(join(dir, ref)))?.trim();
    if (loose) return short(loose);
    const packed = await readText(join(dir, "packed-refs"));
    const line = packed?.split("\n").find((l) => l.endsWith(` ${ref}`));
    if (line) return short(line.split(" ")[0]);
  }
  return null;
}

/** `results/<prefix><date-time>`, the default output folder of bench (and plan). */
export function defaultOutDir(prefix = "", now = new Date()): string {
  return `results/${prefix}${now.toISOString().replace(/[:]/g, "-").replace(/\..*$/, "")}`;
}

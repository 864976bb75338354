/**
 * Facts about a run for the top of its results file: git commit, Deno version, date.
 *
 * @module
 */

/** The git commit of the working tree (with `+dirty` when it has changes), or null. */
export async function gitCommit(): Promise<string | null> {
  try {
    const run = (args: string[]) =>
      new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
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

/** `results/<prefix><date-time>`, the default output folder of bench (and plan). */
export function defaultOutDir(prefix = "", now = new Date()): string {
  return `results/${prefix}${now.toISOString().replace(/[:]/g, "-").replace(/\..*$/, "")}`;
}

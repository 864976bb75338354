/**
 * A run's output folder is filled all at once: its files are written into a staging folder
 * beside the target, then renamed into place. A run killed before that leaves only a hidden
 * `.NAME.partial-…` folder, never a half-written set. A default folder (`results/<date-time>`)
 * is created exclusively when the set is published, with `-2`, `-3`… added when the name is
 * taken, so two runs never share one.
 *
 * @module
 */
import { basename, dirname, join, relative } from "node:path";

/** Creates an empty staging folder beside `target` (its parent is created when missing). */
export async function stagingFolder(target: string): Promise<string> {
  const parent = dirname(target);
  await Deno.mkdir(parent, { recursive: true });
  return await Deno.makeTempDir({ dir: parent, prefix: `.${basename(target)}.partial-` });
}

/**
 * Moves everything in `staged` into `target` and removes `staged`: one rename of the folder
 * when `target` is missing or empty, else one rename a file (each atomic) into the existing
 * folder, replacing files of the same name.
 */
export async function publishFolder(staged: string, target: string): Promise<void> {
  if (await isMissingOrEmpty(target)) {
    await Deno.rename(staged, target);
    return;
  }
  for (const file of await filesUnder(staged)) {
    const destination = join(target, relative(staged, file));
    await Deno.mkdir(dirname(destination), { recursive: true });
    await Deno.rename(file, destination);
  }
  await Deno.remove(staged, { recursive: true });
}

/**
 * Publishes `staged` as a new folder: `base` when free, else the first free of `base-2`,
 * `base-3`…, each claimed by an exclusive mkdir. Returns the folder's path.
 */
export async function publishNewFolder(staged: string, base: string): Promise<string> {
  for (let n = 1;; n++) {
    const target = n === 1 ? base : `${base}-${n}`;
    try {
      await Deno.mkdir(target);
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      throw error;
    }
    await Deno.rename(staged, target);
    return target;
  }
}

async function isMissingOrEmpty(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return false;
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await filesUnder(path));
    else files.push(path);
  }
  return files;
}

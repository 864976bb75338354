/**
 * Whole-file writes that never leave half a file: write a temporary file beside the target,
 * then rename it over the target (rename is atomic within one file system).
 *
 * @module
 */
import { dirname } from "node:path";

/** Writes `text` to `path` through a temporary file and a rename; creates the folder. */
export async function writeTextFileAtomic(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

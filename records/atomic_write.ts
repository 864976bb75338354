/**
 * Whole-file writes that never leave half a file: write a temporary file in the target's folder,
 * then rename it over the target (rename is atomic within one file system).
 *
 * @module
 */
import { dirname, join } from "node:path";

/** Writes `data` to `path` through a temporary file and a rename; creates the folder. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${crypto.randomUUID()}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

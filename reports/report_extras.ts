/**
 * What a results folder may hold for the report besides results.json, so `deno task report`
 * rebuilds the same page bench wrote:
 * - `decay.json`: the scenarios' decay curves, an array of {@link AttentionDecay};
 * - mask pictures, `<method>.mask.png` at the top (plan's names; the scenario is the results'
 *   only scenario, or the folder name) or `masks/<scenario>/<method>.mask.png`.
 * Neither is required; a malformed decay.json is left out with a warning naming the file, so the
 * rest of the report is still written.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { basename, join } from "node:path";
import type { AttentionDecay } from "../metrics/decay.ts";
import type { MaskPicture, ReportExtras } from "./html.ts";

/** File name of the decay curves in a results folder. */
export const DECAY_FILE_NAME = "decay.json";
/** Sub-folder of per-scenario mask pictures in a results folder. */
export const MASKS_FOLDER = "masks";
/** Suffix of a mask picture. */
export const MASK_SUFFIX = ".mask.png";

/** Thrown for a report input that cannot be used; the message names the file and the field. */
export class ReportInputError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the file and what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "ReportInputError";
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => null))?.isFile ?? false;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    throw new ReportInputError(`${file}: not JSON (${(error as Error).message})`);
  }
}

function checkDecay(value: unknown, file: string): AttentionDecay[] {
  const fail = (what: string) => new ReportInputError(`${file}: ${what}`);
  if (!Array.isArray(value)) throw fail("must hold an array of decay curves");
  value.forEach((curve, i) => {
    if (typeof curve?.scenario !== "string") throw fail(`[${i}].scenario must be a string`);
    for (const key of ["temporal", "spatial"]) {
      const points = curve[key];
      if (
        !Array.isArray(points) ||
        !points.every((p) => Number.isFinite(p?.distance) && Number.isFinite(p?.mass))
      ) {
        throw fail(`[${i}].${key} must be an array of { distance, mass } numbers`);
      }
    }
  });
  return value as AttentionDecay[];
}

async function masksIn(folder: string, scenario: string): Promise<MaskPicture[]> {
  const found: MaskPicture[] = [];
  const entries = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && entry.name.endsWith(MASK_SUFFIX)) entries.push(entry.name);
  }
  for (const name of entries.sort()) {
    const bytes = await Deno.readFile(join(folder, name));
    found.push({
      scenario,
      method: name.slice(0, -MASK_SUFFIX.length),
      pngBase64: Buffer.from(bytes).toString("base64"),
    });
  }
  return found;
}

/** What {@link readReportExtras} found. */
export interface FoundExtras extends Required<Pick<ReportExtras, "decay" | "masks">> {
  /** One line a file that was left out (a malformed decay.json). */
  warnings: string[];
}

/**
 * The decay curves and mask pictures a results folder holds (see module doc). `scenarios` are
 * the scenario names of its records: a single one names the top-level mask pictures.
 */
export async function readReportExtras(
  folder: string,
  scenarios: string[],
): Promise<FoundExtras> {
  const decayFile = join(folder, DECAY_FILE_NAME);
  let decay: AttentionDecay[] = [];
  const warnings: string[] = [];
  if (await isFile(decayFile)) {
    try {
      decay = checkDecay(await readJson(decayFile), decayFile);
    } catch (error) {
      if (!(error instanceof ReportInputError)) throw error;
      warnings.push(`${error.message}; the report is written without its decay chart`);
    }
  }
  const unique = [...new Set(scenarios)];
  const masks = await masksIn(folder, unique.length === 1 ? unique[0] : basename(folder));
  const perScenario = join(folder, MASKS_FOLDER);
  if ((await Deno.stat(perScenario).catch(() => null))?.isDirectory) {
    const names = [];
    for await (const entry of Deno.readDir(perScenario)) {
      if (entry.isDirectory) names.push(entry.name);
    }
    for (const name of names.sort()) masks.push(...await masksIn(join(perScenario, name), name));
  }
  return { decay, masks, warnings };
}

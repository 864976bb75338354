/**
 * Reading results for compare and report: a results file (docs/metrics.md schema), a folder holding
 * `results.json`, or a folder of shard folders each holding one (merged with
 * {@link mergeShards}). Every field compare relies on is checked; the first bad one is named in
 * a one-line {@link ResultsInputError}.
 *
 * @module
 */
import { join } from "node:path";
import { PRECISIONS, RESULTS_SCHEMA, type ResultsFile } from "./schema.ts";
import { caseKey } from "./case_key.ts";
import { mergeShards, parseShard, ShardError } from "./shards.ts";

/** Thrown for a results file or folder compare cannot use; the message names file and field. */
export class ResultsInputError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "ResultsInputError";
  }
}

/** The file name bench writes inside its `--out` folder (docs/cli.md). */
export const RESULTS_FILE_NAME = "results.json";

type Check = (value: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber: Check = (v) => typeof v === "number" && Number.isFinite(v);
const isString: Check = (v) => typeof v === "string";
const orNull = (check: Check): Check => (v) => v === null || check(v);
const isSampleArray: Check = (v) => Array.isArray(v) && v.every(isNumber);
const isParamValue: Check = (v) =>
  isNumber(v) || isString(v) || typeof v === "boolean" || isSampleArray(v);

/** Numeric record fields a rerun must reproduce exactly (FLOPs, sizes, sparsity). */
export const EXACT_NUMBER_FIELDS = [
  "tokens",
  "textTokens",
  "heads",
  "headDim",
  "denseFlops",
  "flops",
  "executedFlops",
  "routingFlops",
  "analyticFlops",
  "tokenSparsity",
  "blockSparsity",
  "blockSize",
] as const;
const QUALITY_FIELDS = ["relL2", "cosine", "psnrDb", "recall", "crossShotRecall"] as const;

class FieldChecker {
  constructor(readonly source: string) {}

  require(owner: Record<string, unknown>, path: string, field: string, check: Check, want: string) {
    if (!check(owner[field])) {
      const got = owner[field] === undefined ? "missing" : JSON.stringify(owner[field]);
      throw new ResultsInputError(
        `${this.source}: ${path}${field} must be ${want} (got ${got?.slice(0, 60)})`,
      );
    }
  }
}

function checkRecord(checker: FieldChecker, record: unknown, path: string): void {
  if (!isObject(record)) {
    throw new ResultsInputError(`${checker.source}: ${path} must be an object`);
  }
  const at = `${path}.`;
  checker.require(record, at, "scenario", isString, "a string");
  checker.require(record, at, "method", isString, "a string");
  checker.require(
    record,
    at,
    "params",
    (v) => isObject(v) && Object.values(v).every(isParamValue),
    "an object of numbers, strings, booleans or number lists",
  );
  checker.require(
    record,
    at,
    "dtype",
    (v) => (PRECISIONS as readonly unknown[]).includes(v),
    PRECISIONS.map((p) => `"${p}"`).join(", "),
  );
  checker.require(
    record,
    at,
    "adapter",
    (v) => isObject(v) && isString(v.description),
    "an adapter with a description",
  );
  checker.require(record, at, "inputs", isString, "a string");
  for (const field of EXACT_NUMBER_FIELDS) {
    checker.require(record, at, field, orNull(isNumber), "a number or null");
  }
  checker.require(
    record,
    at,
    "layoutDigest",
    (v) => v === undefined || orNull(isString)(v),
    "a string or null",
  );
  checker.require(
    record,
    at,
    "kernelEfficiency",
    (v) => v === undefined || orNull(isNumber)(v),
    "a number or null",
  );
  checker.require(
    record,
    at,
    "stats",
    orNull((v) => isObject(v) && Object.values(v).every((x) => isNumber(x) || isString(x))),
    "null or an object of numbers and strings",
  );
  checker.require(
    record,
    at,
    "error",
    (v) => v === undefined || isString(v),
    "a string when present",
  );
  checker.require(
    record,
    at,
    "knob",
    (v) =>
      v === undefined || v === null || (isObject(v) && isString(v.param) && isParamValue(v.value)),
    "null or { param, value } when present",
  );
  checker.require(record, at, "latency", orNull(isObject), "an object or null");
  if (isObject(record.latency)) {
    const latency = record.latency;
    const lat = `${at}latency.`;
    checker.require(latency, lat, "samples", isSampleArray, "an array of finite numbers");
    checker.require(latency, lat, "routingSamples", isSampleArray, "an array of finite numbers");
    checker.require(latency, lat, "median", isNumber, "a number");
    checker.require(latency, lat, "timer", (v) => v === "gpu" || v === "wall", '"gpu" or "wall"');
    checker.require(
      latency,
      lat,
      "routingStages",
      (v) =>
        v === undefined ||
        (isObject(v) &&
          Object.values(v).every((ms) => typeof ms === "number" && Number.isFinite(ms) && ms >= 0)),
      "an object of stage names to finite ms ≥ 0 when present",
    );
  }
  checker.require(record, at, "quality", orNull(isObject), "an object or null");
  if (isObject(record.quality)) {
    for (const field of QUALITY_FIELDS) {
      checker.require(record.quality, `${at}quality.`, field, orNull(isNumber), "a number or null");
    }
  }
}

/**
 * Checks that `value` is a results file compare can use and returns it typed; `source` names
 * it in errors. Case keys must be unique within the file.
 *
 * @example
 * ```ts
 * import { validateResults, ResultsInputError } from "./results_input.ts";
 * import { throws } from "node:assert/strict";
 * throws(() => validateResults({ schema: "other/9" }, "a.json"), ResultsInputError);
 * ```
 */
export function validateResults(value: unknown, source: string): ResultsFile {
  const checker = new FieldChecker(source);
  if (!isObject(value)) throw new ResultsInputError(`${source}: must hold a JSON object`);
  checker.require(value, "", "schema", (v) => v === RESULTS_SCHEMA, `"${RESULTS_SCHEMA}"`);
  checker.require(value, "", "suite", isString, "a string");
  checker.require(value, "", "commit", orNull(isString), "a string or null");
  checker.require(value, "", "date", isString, "an ISO date string");
  checker.require(value, "", "shard", (v) => v === undefined || orNull(isString)(v), "I/N or null");
  if (isString(value.shard)) {
    try {
      parseShard(value.shard as string);
    } catch (error) {
      if (error instanceof ShardError) {
        throw new ResultsInputError(`${source}: shard: ${error.message}`);
      }
      throw error;
    }
  }
  checker.require(value, "", "records", Array.isArray, "an array");
  const records = value.records as unknown[];
  const seen = new Map<string, number>();
  records.forEach((record, i) => {
    checkRecord(checker, record, `records[${i}]`);
    const key = caseKey(record as ResultsFile["records"][number]);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ResultsInputError(
        `${source}: records[${i}] repeats the case of records[${first}] (${key})`,
      );
    }
    seen.set(key, i);
  });
  return { ...(value as unknown as ResultsFile), shard: (value.shard as string | null) ?? null };
}

/** Reads and validates one results file. */
export async function readResultsFile(path: string): Promise<ResultsFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ResultsInputError(`${path}: cannot read (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ResultsInputError(`${path}: not JSON (${(error as Error).message})`);
  }
  return validateResults(value, path);
}

async function shardFolders(folder: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (!entry.isDirectory) continue;
    const candidate = join(folder, entry.name, RESULTS_FILE_NAME);
    const info = await Deno.stat(candidate).catch(() => null);
    if (info?.isFile) found.push(candidate);
  }
  return found.sort();
}

/**
 * Loads results from a file, a folder holding `results.json`, or a folder whose sub-folders
 * each hold the `results.json` of one shard (merged; the shards must cover 1..N once).
 */
export async function loadResults(path: string): Promise<ResultsFile> {
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) throw new ResultsInputError(`${path}: no such file or folder`);
  if (info.isFile) return await readResultsFile(path);
  const direct = join(path, RESULTS_FILE_NAME);
  if ((await Deno.stat(direct).catch(() => null))?.isFile) return await readResultsFile(direct);
  const shards = await shardFolders(path);
  if (shards.length === 0) {
    throw new ResultsInputError(
      `${path}: holds no ${RESULTS_FILE_NAME}, neither itself nor in a sub-folder`,
    );
  }
  const files = await Promise.all(shards.map(readResultsFile));
  try {
    return mergeShards(files, { sources: shards });
  } catch (error) {
    if (error instanceof ShardError) throw new ResultsInputError(`${path}: ${error.message}`);
    throw error;
  }
}

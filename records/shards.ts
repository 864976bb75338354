/**
 * Sharding a suite over CI jobs or machines (docs/cli.md `--shard I/N`: run every N-th case starting
 * at I, I counted from 1) and merging the shards' results back into one file.
 *
 * Merging interleaves the shards' records round-robin, which restores the unsharded case order
 * exactly, since shard I holds cases I, I+N, I+2N… in order.
 *
 * @module
 */
import type { ResultsFile } from "./schema.ts";
import { caseKey } from "./case_key.ts";

/** Thrown for a bad `--shard` value or a set of shards that cannot be merged. */
export class ShardError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "ShardError";
  }
}

/** Shard I of N, I in 1..N. */
export interface Shard {
  /** 1-based shard number I. */
  index: number;
  /** Number of shards N. */
  count: number;
}

function checkShard(shard: Shard, text: string): Shard {
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index))) {
    throw new ShardError(`--shard must be I/N with integers 1 ≤ I ≤ N (got "${text}")`);
  }
  if (index < 1 || index > count) {
    throw new ShardError(`--shard I must be in 1..${count} (got "${text}")`);
  }
  return shard;
}

/**
 * Parses `I/N` (docs/cli.md `--shard`).
 *
 * @example
 * ```ts
 * import { parseShard } from "./shards.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseShard("2/3"), { index: 2, count: 3 });
 * throws(() => parseShard("0/3"), /1\.\.3/);
 * ```
 */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new ShardError(`--shard must be I/N with integers 1 ≤ I ≤ N (got "${text}")`);
  return checkShard({ index: Number(match[1]), count: Number(match[2]) }, text);
}

/**
 * `I/N`, as stored in a results file's `shard` field.
 *
 * @example
 * ```ts
 * import { formatShard } from "./shards.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatShard({ index: 1, count: 4 }), "1/4");
 * ```
 */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * Every N-th case starting at the I-th (1-based): deterministic, and shards 1..N together hold
 * every case exactly once.
 *
 * @example
 * ```ts
 * import { shardCases } from "./shards.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(shardCases(["a", "b", "c", "d", "e"], { index: 2, count: 3 }), ["b", "e"]);
 * ```
 */
export function shardCases<T>(cases: readonly T[], shard: Shard): T[] {
  checkShard(shard, formatShard(shard));
  return cases.filter((_, i) => i % shard.count === shard.index - 1);
}

/** Options of {@link mergeShards}. */
export interface MergeOptions {
  /** Names of the files (same order), for error messages; default `shard #k`. */
  sources?: readonly string[];
}

/**
 * Merges the results of shards 1/N … N/N into one unsharded results file (`shard: null`, run
 * facts of shard 1 but `command`: every shard's command line, in shard order, one a line). Errors name the culprit: a file without a shard, shards of different N,
 * suites or commits, a shard present twice or missing, a case present in two shards.
 *
 * @example
 * ```ts
 * import { mergeShards } from "./shards.ts";
 * import { throws } from "node:assert/strict";
 * throws(() => mergeShards([]), /no results/);
 * ```
 */
export function mergeShards(
  files: readonly ResultsFile[],
  options: MergeOptions = {},
): ResultsFile {
  if (files.length === 0) throw new ShardError("mergeShards: no results files to merge");
  const name = (i: number) => options.sources?.[i] ?? `shard #${i + 1}`;
  const shards = files.map((file, i) => {
    if (file.shard === null || file.shard === undefined) {
      throw new ShardError(
        `${name(i)}: shard is null; only results of --shard I/N runs can be merged`,
      );
    }
    return parseShard(file.shard);
  });
  const count = shards[0].count;
  const byIndex = new Map<number, number>();
  shards.forEach((shard, i) => {
    if (shard.count !== count) {
      throw new ShardError(
        `shards disagree on N: ${name(0)} is ${files[0].shard}, ${name(i)} is ${files[i].shard}`,
      );
    }
    for (const field of ["suite", "commit"] as const) {
      if (files[i][field] !== files[0][field]) {
        throw new ShardError(
          `shards disagree on ${field}: ${name(0)} has ${files[0][field]}, ${name(i)} has ${
            files[i][field]
          }`,
        );
      }
    }
    const other = byIndex.get(shard.index);
    if (other !== undefined) {
      throw new ShardError(`shard ${formatShard(shard)} appears twice: ${name(other)}, ${name(i)}`);
    }
    byIndex.set(shard.index, i);
  });
  const missing = [];
  for (let index = 1; index <= count; index++) {
    if (!byIndex.has(index)) missing.push(`${index}/${count}`);
  }
  if (missing.length > 0) {
    throw new ShardError(
      `missing shard ${missing.join(", ")} (have ${shards.map(formatShard).sort().join(", ")})`,
    );
  }

  const ordered = Array.from({ length: count }, (_, k) => byIndex.get(k + 1)!);
  const owner = new Map<string, number>();
  for (const i of ordered) {
    for (const record of files[i].records) {
      const key = caseKey(record);
      const first = owner.get(key);
      if (first !== undefined) {
        throw new ShardError(
          `case ${key} is in both ${files[first].shard} (${name(first)}) and ${files[i].shard} (${
            name(i)
          })`,
        );
      }
      owner.set(key, i);
    }
  }

  const records = [];
  const longest = Math.max(...ordered.map((i) => files[i].records.length));
  for (let row = 0; row < longest; row++) {
    for (const i of ordered) {
      if (row < files[i].records.length) records.push(files[i].records[row]);
    }
  }
  // Every shard's command line, one a line, so the merged run says how it was made.
  const command = ordered.map((i) => files[i].command).join("\n");
  return { ...files[ordered[0]], shard: null, command, records };
}

/**
 * Peer results (docs/peers.md): the same cases run by another library on the same GPU
 * (`tools/peers.py`: PyTorch SDPA and FlexAttention on the layouts `plan --export-layouts`
 * wrote), and their join with Longshot's results by case.
 *
 * A case is (scenario, method with its parameters, tokens, heads, head dim); precision is a
 * field of each record on both sides, so one Longshot f32 record meets every peer precision of
 * its case, each row naming both.
 *
 * @module
 */
import type { Params } from "../methods/method.ts";
import { methodSpecOf } from "./case_key.ts";
import type { ResultsFile } from "./schema.ts";

/** Version of the peers-file schema. */
export const PEERS_SCHEMA = "longshot.peers/1";

/** The fields that make a case, shared by Longshot records, layout exports and peer records. */
export interface PeerCaseFields {
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** Resolved method parameters, as Longshot records them. */
  params: Params;
  /** Sequence length L. */
  tokens: number;
  /** Heads. */
  heads: number;
  /** Head dimension. */
  headDim: number;
}

/**
 * The case key of a record without its precision: `scenario · method:params · L · heads · d`.
 *
 * @example
 * ```ts
 * import { peerCaseKey } from "./peers.ts";
 * import { equal } from "node:assert/strict";
 * const key = peerCaseKey({ scenario: "wan", method: "radial", params: { decay: 0.2, block: 128 },
 *   tokens: 69120, heads: 8, headDim: 128 });
 * equal(key, "wan · radial:block=128;decay=0.2 · L 69120 · H 8 · d 128");
 * ```
 */
export function peerCaseKey(fields: PeerCaseFields): string {
  return [
    fields.scenario,
    methodSpecOf(fields.method, fields.params),
    `L ${fields.tokens}`,
    `H ${fields.heads}`,
    `d ${fields.headDim}`,
  ].join(" · ");
}

/** One case run by a peer library at one precision. */
export interface PeerRecord extends PeerCaseFields {
  /** The peer: `torch-sdpa` or `torch-flex`. */
  peer: string;
  /** Kernel behind it (`efficient`, `flash`, `flex-compiled`). */
  backend: string;
  /** Precision of Q/K/V and output: `f32` or `bf16`. */
  dtype: string;
  /** Longshot's counted FLOPs of the case, all heads (from the layout manifest). */
  flops: number;
  /** Latency in ms, CUDA events: median, p10, p90 of `n` timed repeats, and the samples. */
  latency: { median: number; p10: number; p90: number; n: number; samples: number[] } | null;
  /** Counted FLOPs / median. */
  tflops: number | null;
  /** Output check against a float64 reference on sampled rows. */
  check:
    | { rows: number; relL2: number; maxAbsErr: number; tolerance: number; passed: boolean }
    | null;
  /** Why the case did not run, when it did not. */
  error?: string;
}

/** A peers file. */
export interface PeersFile {
  /** {@link PEERS_SCHEMA}. */
  schema: string;
  /** ISO date of the run. */
  date: string;
  /** The command line. */
  command: string;
  /** GPU name. */
  device: string;
  /** Library versions (`torch`, `cuda`, `triton`). */
  versions: Record<string, string>;
  /** One record per (case, peer, precision). */
  records: PeerRecord[];
}

/** Thrown for a peers file that cannot be used; the message names the file and field. */
export class PeersFileError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the file and the field
   */
  constructor(message: string) {
    super(message);
    this.name = "PeersFileError";
  }
}

/** Reads and checks a peers file (schema and the fields the join needs). */
export async function readPeersFile(path: string): Promise<PeersFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new PeersFileError(`${path}: not a readable JSON file (${(error as Error).message})`);
  }
  const file = parsed as PeersFile;
  if (file?.schema !== PEERS_SCHEMA) {
    throw new PeersFileError(
      `${path}: schema must be "${PEERS_SCHEMA}" (got ${JSON.stringify(file?.schema)})`,
    );
  }
  if (!Array.isArray(file.records)) throw new PeersFileError(`${path}: records must be an array`);
  file.records.forEach((r, i) => {
    for (const field of ["scenario", "method", "peer", "dtype"] as const) {
      if (typeof r[field] !== "string") {
        throw new PeersFileError(`${path}: records[${i}].${field} must be a string`);
      }
    }
    for (const field of ["tokens", "heads", "headDim"] as const) {
      if (!Number.isInteger(r[field])) {
        throw new PeersFileError(`${path}: records[${i}].${field} must be an integer`);
      }
    }
    if (typeof r.params !== "object" || r.params === null) {
      throw new PeersFileError(`${path}: records[${i}].params must be an object`);
    }
  });
  return file;
}

/** Reads several peers files as one (their records in order; the first file's facts). */
export async function readPeersFiles(paths: readonly string[]): Promise<PeersFile> {
  const files = [];
  for (const path of paths) files.push(await readPeersFile(path));
  return { ...files[0], records: files.flatMap((f) => f.records) };
}

/** One row of the side-by-side table: a Longshot record against one peer record. */
export interface PeerRow {
  /** {@link peerCaseKey} of the case. */
  caseKey: string;
  /** Scenario name. */
  scenario: string;
  /** Method with its parameters, in spec syntax. */
  methodSpec: string;
  /** Sequence length L. */
  tokens: number;
  /** Longshot's precision. */
  longshotDtype: string;
  /** Longshot's median, ms. */
  longshotMs: number;
  /** Peer and precision, `torch-flex bf16`. */
  peer: string;
  /** The peer's median, ms. */
  peerMs: number;
  /** Peer median / Longshot median: above 1, Longshot is faster. */
  speedRatio: number;
  /** Whether the peer's output passed its float64 check (null when not checked). */
  peerChecked: boolean | null;
  /** Whether both ran the same counted FLOPs (false: the layouts differ, e.g. another routing). */
  sameFlops: boolean;
}

/**
 * Joins Longshot's records with peer records of the same case (see the module doc): one row per
 * (Longshot record, peer record) pair where both ran, in Longshot's record order, then the peer
 * file's order. Cases without a partner on the other side are left out.
 *
 * @example
 * ```ts
 * import { joinPeers } from "./peers.ts";
 * import { equal } from "node:assert/strict";
 * const c = { scenario: "s", method: "dense", params: { block: 128 }, tokens: 1024, heads: 8, headDim: 128 };
 * const results = { records: [{ ...c, dtype: "f32", latency: { median: 30 } }] };
 * const peers = { records: [{ ...c, peer: "torch-sdpa", dtype: "f32", latency: { median: 10 } }] };
 * // deno-lint-ignore no-explicit-any
 * const [row] = joinPeers(results as any, peers as any);
 * equal(row.speedRatio, 10 / 30);
 * ```
 */
export function joinPeers(results: ResultsFile, peers: PeersFile): PeerRow[] {
  const byCase = new Map<string, PeerRecord[]>();
  for (const p of peers.records) {
    if (p.error || !p.latency) continue;
    const key = peerCaseKey(p);
    byCase.set(key, [...(byCase.get(key) ?? []), p]);
  }
  const rows: PeerRow[] = [];
  for (const r of results.records) {
    if (r.error || !r.latency) continue;
    const key = peerCaseKey(r);
    for (const p of byCase.get(key) ?? []) {
      rows.push({
        caseKey: key,
        scenario: r.scenario,
        methodSpec: methodSpecOf(r.method, r.params),
        tokens: r.tokens,
        longshotDtype: r.dtype,
        longshotMs: r.latency.median,
        peer: `${p.peer} ${p.dtype}`,
        peerMs: p.latency!.median,
        speedRatio: p.latency!.median / r.latency.median,
        peerChecked: p.check ? p.check.passed : null,
        sameFlops: r.flops === p.flops,
      });
    }
  }
  return rows;
}

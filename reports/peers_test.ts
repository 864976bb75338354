import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import {
  joinPeers,
  type PeerRecord,
  PEERS_SCHEMA,
  type PeersFile,
  readPeersFile,
} from "../records/peers.ts";
import { peersSection } from "./peers_section.ts";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

const CASE = {
  scenario: "wan-69f",
  method: "radial",
  params: { decay: 0.2, block: 128 },
  tokens: 69120,
  heads: 8,
  headDim: 128,
};

function longshot(overrides: Partial<BenchRecord>): BenchRecord {
  return {
    ...CASE,
    dtype: "f32",
    flops: 1,
    latency: { median: 300 },
    ...overrides,
  } as BenchRecord;
}

function peer(overrides: Partial<PeerRecord>): PeerRecord {
  return {
    ...CASE,
    params: { block: 128, decay: 0.2 }, // same parameters, other key order
    peer: "torch-flex",
    backend: "flex-compiled",
    dtype: "f32",
    flops: 1,
    latency: { median: 450, p10: 440, p90: 460, n: 10, samples: [] },
    tflops: null,
    check: { rows: 36, relL2: 1e-6, maxAbsErr: 1e-7, tolerance: 2e-3, passed: true },
    ...overrides,
  };
}

function files(records: BenchRecord[], peers: PeerRecord[]): [ResultsFile, PeersFile] {
  return [
    { records } as ResultsFile,
    { schema: PEERS_SCHEMA, date: "", command: "", device: "", versions: {}, records: peers },
  ];
}

Deno.test("joinPeers pairs each Longshot record with every peer record of its case", () => {
  const [results, peers] = files(
    [
      longshot({}),
      longshot({ dtype: "f16", latency: { median: 200 } as BenchRecord["latency"] }),
      longshot({ method: "sta", params: {} }), // no peer ran it
      longshot({ method: "moc", error: "failed" }),
    ],
    [
      peer({}),
      peer({ dtype: "bf16", latency: { median: 30, p10: 29, p90: 31, n: 10, samples: [] } }),
      peer({ heads: 24 }), // another case: different heads
      peer({ peer: "torch-sdpa", error: "OutOfMemoryError: CUDA out of memory", latency: null }),
    ],
  );
  const rows = joinPeers(results, peers);
  deepEqual(
    rows.map((r) => [r.longshotDtype, r.peer, r.longshotMs, r.peerMs, r.speedRatio]),
    [
      ["f32", "torch-flex f32", 300, 450, 1.5],
      ["f32", "torch-flex bf16", 300, 30, 0.1],
      ["f16", "torch-flex f32", 200, 450, 2.25],
      ["f16", "torch-flex bf16", 200, 30, 0.15],
    ],
  );
  equal(rows[0].methodSpec, "radial:block=128;decay=0.2");
  equal(rows[0].caseKey, "wan-69f · radial:block=128;decay=0.2 · L 69120 · H 8 · d 128");
});

Deno.test("peersSection names a failed output check and a layout that differs; no rows, no section", () => {
  const [results, peers] = files([longshot({})], [
    peer({ check: { rows: 36, relL2: 0.4, maxAbsErr: 1, tolerance: 2e-3, passed: false } }),
    peer({ dtype: "bf16", flops: 2 }),
  ]);
  const rows = joinPeers(results, peers);
  deepEqual(rows.map((r) => r.sameFlops), [true, false]);
  const html = peersSection(rows);
  equal(html.includes("torch-flex f32 (output check failed)</td>"), true);
  equal(html.includes("torch-flex bf16 (other layout: FLOPs differ)</td>"), true);
  equal(peersSection([]), "");
});

Deno.test("readPeersFile names the bad field of a peers file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "peers.json");
    await Deno.writeTextFile(path, JSON.stringify({ schema: "other/1", records: [] }));
    await rejects(readPeersFile(path), /schema must be "longshot.peers\/1"/);
    const [, good] = files([], [peer({})]);
    await Deno.writeTextFile(path, JSON.stringify(good));
    equal((await readPeersFile(path)).records.length, 1);
    const bad = { ...good, records: [{ ...peer({}), tokens: "69120" }] };
    await Deno.writeTextFile(path, JSON.stringify(bad));
    await rejects(readPeersFile(path), /records\[0\]\.tokens must be an integer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

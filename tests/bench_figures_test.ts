/**
 * One small bench run with a failing case, checked figure by figure: the exit code, the derived
 * figures (speedup, efficiency, TFLOP/s) recomputed from the record's own latencies, the FLOPs
 * and memory counted by hand from the scenario, and every CSV cell against the JSON.
 */
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import type { BenchRecord, ResultsFile } from "../records/schema.ts";

const decoder = new TextDecoder();
const L = 256; // tests/fixtures/tiny_tiled.json: latent 4×8×8, no text, one head, d = 64
const D = 64;

/** The value at a dotted path (`latency.median`) of a record, undefined when absent. */
function at(record: BenchRecord, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split(".")) {
    value = value === null || typeof value !== "object" ? undefined : (value as never)[key];
  }
  return value;
}

function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual / expected - 1) < 1e-12, `${what}: ${actual}`);
}

Deno.test("bench: a failing case exits 1; figures, FLOPs, memory and CSV cells are right", async () => {
  const out = await Deno.makeTempDir();
  const run = await new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--allow-all", "cli/bench.ts", "--quiet", "--no-history", "--no-quality"],
      ...["--scenario", "tests/fixtures/tiny_tiled.json", "--warmup", "1", "--repeats", "3"],
      ...[
        "--methods",
        "dense,sta:tile=2x4x4;window=1x1x1,./examples/my_method.ts,./tests/fixtures/failing_method.ts",
      ],
      ...["--out", out],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(run.stdout);
  assert.equal(run.code, 1, stdout + decoder.decode(run.stderr));
  assert.match(stdout, /4 records \(1 failed, 0 not applicable\)/);
  const results: ResultsFile = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  const [dense, sta, window, failing] = results.records;
  assert.equal(failing.error, "Error: layout exploded");
  assert.equal(failing.latency, null);

  // FLOPs by hand: dense 4·L²·d; STA 1×1×1 with 2×4×4 tiles, each query attends its 32-token tile.
  assert.equal(dense.flops, 4 * L * L * D);
  assert.equal(dense.executedFlops, 4 * L * L * D);
  assert.equal(sta.flops, 4 * L * 32 * D);
  assert.equal(sta.executedFlops, 4 * L * 32 * D, "tiles align with STA's: no masked work");
  assert.equal(sta.tokenSparsity, 1 - 32 / L);
  // examples/my_method.ts: frames of 64 tokens attend frames within ±1 (2, 3, 3, 2 of them),
  // compiled at block 128 with token masks, so the kernel executes more than it counts.
  assert.equal(window.flops, 4 * 64 * 64 * (2 + 3 + 3 + 2) * D);
  assert.ok(window.executedFlops! > window.flops!);

  // Derived figures from the records' own latencies.
  for (const record of [dense, sta, window]) {
    close(record.tflops, record.flops! / (record.latency!.median * 1e-3) / 1e12, "tflops");
    close(record.speedup, dense.latency!.median / record.latency!.median, "speedup");
    close(record.efficiency, record.speedup! / (dense.flops! / record.flops!), "efficiency");
  }
  assert.equal(dense.speedup, 1);

  // Memory: at least Q/K/V in, outputs and log-sum-exps out (f32), and not much more at L = 256.
  const floor = 3 * L * D * 4 + L * D * 4 + L * 4;
  for (const record of [dense, sta, window]) {
    assert.ok(record.memoryBytes! >= floor && record.memoryBytes! < 4 * floor, `memoryBytes`);
  }

  // Every CSV cell is the JSON value (arrays `;`-joined, null empty), numbers exact.
  const rows: Record<string, string>[] = parse(await Deno.readTextFile(`${out}/results.csv`), {
    columns: true,
  });
  assert.equal(rows.length, 4);
  for (const column of ["speedup", "efficiency", "tflops", "latency.median", "memoryBytes"]) {
    assert.ok(column in rows[0], column);
  }
  rows.forEach((row, i) => {
    for (const [column, cell] of Object.entries(row)) {
      const value = at(results.records[i], column);
      // An object here is a column another record left null (a failed case's `latency`).
      const expected = value === null || value === undefined ||
          (typeof value === "object" && !Array.isArray(value))
        ? ""
        : Array.isArray(value)
        ? value.join(";")
        : String(value);
      assert.equal(cell, expected, `record ${i}, column ${column}`);
      if (typeof value === "number") assert.equal(Number(cell), value, `record ${i}, ${column}`);
    }
  });
  await Deno.remove(out, { recursive: true });
});

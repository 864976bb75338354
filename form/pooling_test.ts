import assert from "node:assert/strict";
import {
  NO_POOLED_ROW,
  pooledRowOfToken,
  PoolingError,
  poolRows,
  validatePooling,
} from "./pooling.ts";

Deno.test("validatePooling names the first broken rule", () => {
  const ok = { offsets: Uint32Array.of(0, 2, 3), members: Uint32Array.of(4, 1, 0) };
  assert.equal(validatePooling(ok, 5), ok);
  const cases: Array<[Uint32Array, Uint32Array, RegExp]> = [
    [Uint32Array.of(0), Uint32Array.of(), /offsets must run from 0 to members.length/],
    [Uint32Array.of(0, 2), Uint32Array.of(1, 2, 3), /offsets must run from 0 to members.length/],
    [Uint32Array.of(0, 2, 2, 3), Uint32Array.of(1, 2, 3), /group 1 is empty/],
    [Uint32Array.of(0, 1, 2), Uint32Array.of(1, 5), /member 5 is outside \[0, 5\)/],
    [Uint32Array.of(0, 1, 2), Uint32Array.of(3, 3), /token 3 is in two groups/],
  ];
  for (const [offsets, members, message] of cases) {
    assert.throws(
      () => validatePooling({ offsets, members }, 5),
      (e: Error) => e instanceof PoolingError && message.test(e.message),
    );
  }
});

Deno.test("pooled rows: each token's group, and the group means by hand", () => {
  const pooling = { offsets: Uint32Array.of(0, 2, 3), members: Uint32Array.of(3, 0, 1) };
  assert.deepEqual(
    pooledRowOfToken(pooling, 5),
    Uint32Array.of(0, 1, NO_POOLED_ROW, 0, NO_POOLED_ROW),
  );
  // Rows of d = 2: token i holds (i, 10·i). Group 0 = tokens 3 and 0, group 1 = token 1.
  const rows = [0, 0, 1, 10, 2, 20, 3, 30, 4, 40];
  assert.deepEqual(poolRows(rows, pooling, 2), Float64Array.of(1.5, 15, 1, 10));
});

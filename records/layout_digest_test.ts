import { equal, match, notEqual } from "node:assert/strict";
import { layoutDigest } from "./layout_digest.ts";
import { denseForm, FormBuilder } from "../form/form.ts";

function window(tokens: number, radius: number, tile: number) {
  const builder = new FormBuilder(tokens, tile);
  for (let start = 0; start < tokens; start += tile) {
    const end = Math.min(start + tile, tokens);
    builder.range(Math.max(0, start - radius), Math.min(tokens, end + radius)).endTile(end);
  }
  return builder.build();
}

Deno.test("layoutDigest is stable, and sees tiling, ranges and block size", async () => {
  const digest = await layoutDigest([window(256, 32, 64)]);
  match(digest, /^sha256:[0-9a-f]{64}$/);
  equal(await layoutDigest([window(256, 32, 64)]), digest);
  notEqual(await layoutDigest([window(256, 16, 64)]), digest);
  notEqual(await layoutDigest([window(256, 32, 32)]), digest);
  notEqual(await layoutDigest([denseForm(256, 64)]), await layoutDigest([denseForm(256, 128)]));
  notEqual(
    await layoutDigest([window(256, 32, 64), denseForm(256)]),
    await layoutDigest([denseForm(256), window(256, 32, 64)]),
  );
});

Deno.test("layoutDigest sees the PV-skip threshold, and null digests as absent", async () => {
  const form = denseForm(256);
  const plain = await layoutDigest([form]);
  equal(await layoutDigest([{ ...form, pvSkipThreshold: null }]), plain);
  const skip50 = await layoutDigest([{ ...form, pvSkipThreshold: 50 }]);
  notEqual(skip50, plain);
  notEqual(await layoutDigest([{ ...form, pvSkipThreshold: 10 }]), skip50);
});

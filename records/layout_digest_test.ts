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

Deno.test("layout digest: covers the key permutation; a form without one digests as before", async () => {
  const builder = () => new FormBuilder(4, 2).range(0, 2).endTile(4);
  const order = Uint32Array.from([3, 2, 1, 0]);
  const plain = builder().build(order, "q");
  const keyed = builder().build(order, "q", null, Uint32Array.from([0, 1, 2, 3]));
  const otherKeys = builder().build(order, "q", null, Uint32Array.from([1, 0, 2, 3]));
  notEqual(await layoutDigest([plain]), await layoutDigest([keyed]));
  notEqual(await layoutDigest([keyed]), await layoutDigest([otherKeys]));
  // Pinned from main before the key permutation existed.
  equal(
    await layoutDigest([plain]),
    "sha256:32e4a4858727c41bdfda3954eb76de6f44389c94328498a3a83d5657ee3f0211",
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

import assert from "node:assert/strict";
import { denseForm } from "../form/form.ts";
import type { MethodLayout } from "../methods/method.ts";
import { layoutDigest } from "../records/layout_digest.ts";
import { attentionBranches, branchMergeParts } from "./branch_merge.ts";

const pooling = { offsets: Uint32Array.of(0, 2), members: Uint32Array.of(0, 1) };

Deno.test("branch weights: mean gives 1/branches; gated-sum gives 1 and each gate", () => {
  const mean: MethodLayout = {
    forms: [denseForm(8)],
    branches: [{ name: "a", forms: [denseForm(8)] }, { name: "b", forms: [denseForm(8)] }],
    routingFlops: 0,
  };
  assert.deepEqual(attentionBranches(mean).map((b) => b.weight), [1 / 3, 1 / 3, 1 / 3]);
  const gated: MethodLayout = {
    forms: [denseForm(8)],
    branches: [
      { name: "coarse", forms: [denseForm(1)], pooling, gate: 0.25 },
      { name: "plain", forms: [denseForm(8)] },
    ],
    merge: "gated-sum",
    routingFlops: 0,
  };
  const branches = attentionBranches(gated);
  assert.deepEqual(branches.map((b) => b.weight), [1, 0.25, 1]);
  assert.equal(branches[1].pooling, pooling);
});

Deno.test("layout digest: unchanged for a mean of unpooled branches, changed by merge and gate", async () => {
  const forms = [denseForm(8), denseForm(8)];
  const mean: MethodLayout = {
    forms: [forms[0]],
    branches: [{ name: "a", forms: [forms[1]] }],
    routingFlops: 0,
  };
  assert.deepEqual(branchMergeParts(mean), []);
  const plain = await layoutDigest(forms);
  assert.equal(await layoutDigest(forms, branchMergeParts(mean)), plain);
  const summed = { ...mean, merge: "gated-sum" as const };
  const halved = { ...summed, branches: [{ name: "a", forms: [forms[1]], gate: 0.5 }] };
  const digests = new Set([
    plain,
    await layoutDigest(forms, branchMergeParts(summed)),
    await layoutDigest(forms, branchMergeParts(halved)),
  ]);
  assert.equal(digests.size, 3);
});

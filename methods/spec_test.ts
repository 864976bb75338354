import { deepEqual, throws } from "node:assert/strict";
import { parseMethodSpec } from "./spec.ts";

Deno.test("a method spec that gives a parameter twice is refused, naming the key", () => {
  throws(() => parseMethodSpec("moc:k=2;k=3"), /parameter "k" given twice in "moc:k=2;k=3"/);
});

Deno.test("a method spec's parameters parse by type", () => {
  deepEqual(parseMethodSpec("sta:window=3x3x3;flag=true;decay=0.95").params, {
    window: [3, 3, 3],
    flag: true,
    decay: 0.95,
  });
});

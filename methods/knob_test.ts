import { deepStrictEqual, equal, ok as assert } from "node:assert/strict";
import { METHODS } from "./registry.ts";
import { staWindowGrid } from "./sta.ts";
import { preset, PRESET_SIZES, presetNames } from "../scenarios/presets.ts";

Deno.test("every knob setting of every method is accepted on every preset", () => {
  for (const definition of METHODS.values()) {
    if (!definition.knob) continue;
    assert(definition.knob.param in definition.defaults, `${definition.name} knob names a param`);
    for (const scenario of presetNames().flatMap((n) => PRESET_SIZES.map((s) => preset(n, s)))) {
      for (const value of definition.knob.grid(scenario)) {
        definition.create({ [definition.knob.param]: value });
      }
    }
  }
});

Deno.test("every method but dense declares a knob", () => {
  const without = [...METHODS.values()].filter((d) => !d.knob).map((d) => d.name);
  deepStrictEqual(without, ["dense"]);
});

Deno.test("STA's window grid on hunyuan's 5x6x10 tiles, largest first", () => {
  const hunyuan = preset("hunyuan-117f-768x1280", "full");
  deepStrictEqual(staWindowGrid(hunyuan, [6, 8, 8]), [
    [5, 6, 10], // 300 tiles: the whole grid
    [3, 6, 10], // 180
    [5, 5, 5], // 125
    [3, 5, 5], // 75
    [3, 3, 3], // 27
    [1, 3, 3], // 9
    [1, 1, 1], // 1
  ]);
  deepStrictEqual(staWindowGrid(hunyuan, [7, 8, 8]), [], "30 frames do not divide into 7");
});

Deno.test("a per-head knob takes one grid setting a head, joined by /", () => {
  const scenario = { ...preset("moc-multi-shot", "ci"), heads: 2 };
  for (const definition of METHODS.values()) {
    const knob = definition.knob;
    if (!knob?.perHeadParam) continue;
    const [densest, ...rest] = knob.grid(scenario);
    const sparsest = rest.at(-1) ?? densest;
    const text = (v: unknown) => Array.isArray(v) ? v.join("x") : String(v);
    const method = definition.create({
      [knob.perHeadParam]: `${text(densest)}/${text(sparsest)}`,
    });
    equal(method.params[knob.perHeadParam], `${text(densest)}/${text(sparsest)}`, definition.name);
  }
  deepStrictEqual(
    [...METHODS.values()].filter((d) => d.knob?.perHeadParam).map((d) => d.name).sort(),
    ["moc", "radial", "sta"],
  );
});

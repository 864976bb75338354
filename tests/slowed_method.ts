/**
 * A test-only user method module that makes a built-in method genuinely slower, to check end to
 * end that `compare` catches a slowdown (`--methods ./tests/slowed_method.ts`). It is a built-in
 * method under its own name and parameters, so its records match a plain run of it, but every
 * gap between a query tile's key ranges is filled with a range whose token mask is all zero: the
 * kernel loads and scores those keys and then discards them. Attended pairs, counted FLOPs,
 * sparsity and the block mask are unchanged; `executedFlops`, the layout digest and the latency
 * grow. Never part of the product: nothing outside tests/ imports it.
 *
 * @module
 */
import {
  type ExecutionForm,
  FormBuilder,
  MASK_ROWS,
  MASK_TOKENS,
  tileCount,
  tokenMaskRowWords,
} from "../form/form.ts";
import {
  type Method,
  type MethodDefinition,
  MethodSpecError,
  type Params,
} from "../methods/method.ts";
import { METHODS } from "../methods/registry.ts";

/** Copies range `r` of `form`, with its mask words, into `builder`'s current tile. */
function copyRange(builder: FormBuilder, form: ExecutionForm, r: number, rows: number): void {
  const start = form.rangeStarts[r];
  const end = form.rangeEnds[r];
  const kind = form.rangeMaskKinds[r];
  if (kind !== MASK_ROWS && kind !== MASK_TOKENS) {
    builder.range(start, end);
    return;
  }
  const count = kind === MASK_ROWS ? Math.ceil(rows / 32) : rows * tokenMaskRowWords(end - start);
  const offset = form.rangeMaskOffsets[r];
  builder.range(start, end, { kind, words: form.maskWords.subarray(offset, offset + count) });
}

/**
 * `form` with every key the tile does not attend added back as masked-out work: same attended
 * pairs, every tile row now scored against all L keys.
 */
export function paddedForm(form: ExecutionForm): ExecutionForm {
  const L = form.tokens;
  const builder = new FormBuilder(L, form.blockSize);
  for (let t = 0; t < tileCount(form); t++) {
    const rows = form.tileBounds[t + 1] - form.tileBounds[t];
    const owned = [];
    for (let r = form.rangeOffsets[t]; r < form.rangeOffsets[t + 1]; r++) owned.push(r);
    owned.sort((a, b) => form.rangeStarts[a] - form.rangeStarts[b]);
    let next = 0;
    const pad = (end: number) => {
      if (end > next) {
        const words = new Uint32Array(rows * tokenMaskRowWords(end - next));
        builder.range(next, end, { kind: MASK_TOKENS, words });
      }
    };
    for (const r of owned) {
      pad(form.rangeStarts[r]);
      copyRange(builder, form, r, rows);
      next = form.rangeEnds[r];
    }
    pad(L);
    builder.endTile(form.tileBounds[t + 1]);
  }
  return builder.build(form.permutation, form.permutationName, form.outputScale);
}

/** `base` under its own name and parameters, with every layout padded ({@link paddedForm}). */
export function slowedMethod(base: Method): Method {
  return {
    name: base.name,
    params: base.params,
    dynamic: base.dynamic,
    analyticFlops: base.analyticFlops?.bind(base),
    layout: async (scenario, context) => {
      const layout = await base.layout(scenario, context);
      return { ...layout, forms: layout.forms.map(paddedForm) };
    },
  };
}

/**
 * A built-in method, slowed: `base` names it (default `radial`), every other parameter is its own
 * (`--methods "./tests/slowed_method.ts:base=sta;window=1x1x1"`). The records carry only the base
 * method's name and parameters, so they match a run of the plain method.
 */
export const method: MethodDefinition = {
  name: "slowed",
  summary: "a built-in method with every unattended key scored and discarded (tests only)",
  defaults: { base: "radial" },
  paramDocs: { base: "the built-in method to slow down (default radial)" },
  create: ({ base = "radial", ...params }: Params) => {
    const definition = METHODS.get(String(base));
    if (!definition) {
      throw new MethodSpecError(
        `slowed: "base" must be one of ${[...METHODS.keys()].join(", ")} (got ${String(base)})`,
      );
    }
    return slowedMethod(definition.create(params));
  },
};

/**
 * `deno task plan --export-layouts DIR` (docs/peers.md): every case's layout, all heads, as the
 * block-sparse lists FlexAttention's `BlockMask.from_kv_blocks` and FlashInfer's BSR wrappers take
 * (form/block_lists.ts), in `.npy` files, with one `manifest.json` naming each case's shape,
 * method, counted FLOPs and files, so a peer library runs exactly the pairs Longshot counts.
 *
 * Per case, in `DIR/<scenario>/<method label>/`, with `LH` layout heads (1 when every head shares
 * the layout: static methods; the scenario's heads for dynamic ones) and `QB` query blocks:
 * `full_kv_num_blocks.npy` [LH, QB] and `full_kv_indices.npy` [LH, QB, W] (int32), the same for the
 * partial blocks (`kv_num_blocks.npy`, `kv_indices.npy`), `partial_bits.npy` [P, B, B/8] (uint8,
 * the exact bits of the partial blocks of every layout head in order), and, when the method
 * reorders tokens, `permutation.npy` [LH, L] (int32, original token at each position) and
 * `output_scale.npy` [LH, L] (float32, MoGA's gate, by original token).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { type BlockLists, blockLists } from "../form/block_lists.ts";
import type { ExecutionForm } from "../form/form.ts";
import type { LayoutContext, Method, Params } from "../methods/method.ts";
import { methodSpecOf } from "../records/case_key.ts";
import { npyBytes, npyHeaderBytes } from "../scenarios/npy.ts";
import { syntheticInputs } from "../scenarios/synthetic.ts";
import { type Scenario, totalTokens } from "../scenarios/scenario.ts";
import { peerCaseKey } from "../records/peers.ts";
import { methodLabels } from "../records/file_name.ts";
import { writeFileAtomic } from "../records/atomic_write.ts";

/** Version of the layout-manifest schema. */
export const LAYOUTS_SCHEMA = "longshot.layouts/1";

/** Block size of the export: FlexAttention's default BLOCK_SIZE. */
export const EXPORT_BLOCK_SIZE = 128;

/** The files of one exported case, relative to the manifest's folder. */
export interface ExportedFiles {
  /** [LH, QB] int32. */
  full_kv_num_blocks: string;
  /** [LH, QB, W] int32. */
  full_kv_indices: string;
  /** [LH, QB] int32. */
  kv_num_blocks: string;
  /** [LH, QB, W] int32. */
  kv_indices: string;
  /** [P, B, B/8] uint8. */
  partial_bits: string;
  /** [LH, L] int32, or null in the original order. */
  permutation: string | null;
  /** [LH, L] float32, or null without an output gate. */
  output_scale: string | null;
}

/** One case of the manifest. */
export interface ExportedCase {
  /** peerCaseKey of the case. */
  caseKey: string;
  /** Scenario name. */
  scenario: string;
  /** Method name. */
  method: string;
  /** Resolved parameters, as bench records them. */
  params: Params;
  /** The method in spec syntax. */
  methodSpec: string;
  /** Sequence length L. */
  tokens: number;
  /** Heads. */
  heads: number;
  /** Head dimension. */
  headDim: number;
  /** Heads of the exported layout: 1 (shared by every head) or `heads`. */
  layoutHeads: number;
  /** Block size B. */
  blockSize: number;
  /** Query blocks = key blocks. */
  blocks: number;
  /** Full blocks over all layout heads. */
  fullBlocks: number;
  /** Partial blocks over all layout heads (P). */
  partialBlocks: number;
  /** Attended pairs per layout head. */
  attendedPairs: number[];
  /** Longshot's counted FLOPs, all heads: 4·d·attended pairs. */
  flops: number;
  /** Dense FLOPs, 4·L²·d·heads. */
  denseFlops: number;
  /** Name of the token order, or null. */
  permutation: string | null;
  /** The files. */
  files: ExportedFiles | null;
  /** Why the case could not be exported. */
  error?: string;
}

/** `manifest.json` of an export. */
export interface LayoutManifest {
  /** {@link LAYOUTS_SCHEMA}. */
  schema: string;
  /** ISO date. */
  date: string;
  /** The command line. */
  command: string;
  /** Seed of the synthetic inputs dynamic methods routed on. */
  seed: number;
  /** One entry per (scenario, method). */
  cases: ExportedCase[];
}

/** Settings of {@link exportLayouts}. */
export interface ExportSettings {
  /** Output folder (the manifest and the case folders). */
  dir: string;
  /** Seed of the synthetic inputs of dynamic methods (bench's `--seed`). */
  seed: number;
  /** The command line, recorded. */
  command: string;
  /** Block size (default {@link EXPORT_BLOCK_SIZE}). */
  blockSize?: number;
  /** Called after each case. */
  onCase?: (exported: ExportedCase) => void;
}

function folderName(name: string): string {
  return name.replace(/[^A-Za-z0-9._@+-]/g, "_");
}

/** Stacks per-head rows of width `width(l)` into one [heads, blocks, maxWidth] array. */
function stackIndices(
  all: BlockLists[],
  pick: "full" | "partial",
): { data: Int32Array; width: number } {
  const widthOf = (l: BlockLists) => pick === "full" ? l.fullWidth : l.partialWidth;
  const width = Math.max(...all.map(widthOf));
  const blocks = all[0].blocks;
  const data = new Int32Array(all.length * blocks * width);
  all.forEach((l, h) => {
    const source = pick === "full" ? l.fullIndices : l.partialIndices;
    for (let qb = 0; qb < blocks; qb++) {
      data.set(
        source.subarray(qb * widthOf(l), (qb + 1) * widthOf(l)),
        (h * blocks + qb) * width,
      );
    }
  });
  return { data, width };
}

function concat<T extends Int32Array | Float32Array | Uint8Array>(
  parts: T[],
  make: (n: number) => T,
): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `partial_bits.npy` of every head, written head by head (it can hold a GB; no joined copy). */
async function writePartialBits(path: string, all: BlockLists[]): Promise<void> {
  const { blockSize } = all[0];
  const partials = all.reduce((n, l) => n + l.partialBits.length, 0) / (blockSize * blockSize / 8);
  const temp = join(dirname(path), `.${crypto.randomUUID()}.tmp`);
  await Deno.mkdir(dirname(path), { recursive: true });
  try {
    using file = await Deno.open(temp, { write: true, create: true, truncate: true });
    const chunks = [
      npyHeaderBytes("|u1", [partials, blockSize, blockSize / 8]),
      ...all.map((l) => l.partialBits),
    ];
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

async function writeCase(dir: string, folder: string, forms: ExecutionForm[], all: BlockLists[]) {
  const heads = forms.length;
  const { blocks } = all[0];
  const tokens = forms[0].tokens;
  const file = (name: string) => join(folder, `${name}.npy`);
  const write = (name: string, data: Int32Array | Float32Array | Uint8Array, shape: number[]) =>
    writeFileAtomic(join(dir, file(name)), npyBytes(data, shape));
  const full = stackIndices(all, "full");
  const partial = stackIndices(all, "partial");
  await write(
    "full_kv_num_blocks",
    concat(all.map((l) => l.fullCounts), (n) => new Int32Array(n)),
    [heads, blocks],
  );
  await write("full_kv_indices", full.data, [heads, blocks, full.width]);
  await write("kv_num_blocks", concat(all.map((l) => l.partialCounts), (n) => new Int32Array(n)), [
    heads,
    blocks,
  ]);
  await write("kv_indices", partial.data, [heads, blocks, partial.width]);
  await writePartialBits(join(dir, file("partial_bits")), all);
  const permuted = forms.some((f) => f.permutation !== null);
  const scaled = forms.some((f) => f.outputScale !== null);
  if (permuted) {
    const identity = Int32Array.from({ length: tokens }, (_, i) => i);
    const rows = forms.map((f) => f.permutation ? Int32Array.from(f.permutation) : identity);
    await write("permutation", concat(rows, (n) => new Int32Array(n)), [heads, tokens]);
  }
  if (scaled) {
    const ones = new Float32Array(tokens).fill(1);
    await write(
      "output_scale",
      concat(forms.map((f) => f.outputScale ?? ones), (n) => new Float32Array(n)),
      [heads, tokens],
    );
  }
  return {
    full_kv_num_blocks: file("full_kv_num_blocks"),
    full_kv_indices: file("full_kv_indices"),
    kv_num_blocks: file("kv_num_blocks"),
    kv_indices: file("kv_indices"),
    partial_bits: file("partial_bits"),
    permutation: permuted ? file("permutation") : null,
    output_scale: scaled ? file("output_scale") : null,
  };
}

/** Exports one case: the layout of every head (dynamic methods route each head). */
async function exportCase(
  scenario: Scenario,
  method: Method,
  folder: string,
  settings: ExportSettings,
): Promise<ExportedCase> {
  const blockSize = settings.blockSize ?? EXPORT_BLOCK_SIZE;
  const tokens = totalTokens(scenario);
  const context: LayoutContext = method.dynamic
    ? {
      inputs: syntheticInputs(scenario, { seed: settings.seed }),
      heads: Array.from({ length: scenario.heads }, (_, h) => h),
      seed: settings.seed,
    }
    : {};
  const layout = await method.layout(scenario, context);
  if (layout.branches?.length) {
    throw new RangeError(
      `${method.name}: a layout of several merged branches cannot be exported for the peers ` +
        `(one mask per head); export a one-branch method (moga-kmeans instead of moga)`,
    );
  }
  const params = layout.params ?? method.params;
  const forms = layout.forms;
  if (forms.some((f) => f.keyPermutation)) {
    throw new RangeError(
      `${method.name}: a layout whose keys run in an order of their own (keyPermutation) cannot ` +
        "be exported for the peers (their block lists take one permutation for queries and keys)",
    );
  }
  if (
    forms.some((f) => f.tokens !== tokens) ||
    (forms.length !== 1 && forms.length !== scenario.heads)
  ) {
    throw new RangeError(
      `${method.name}: layout has ${forms.length} forms of ${
        forms[0]?.tokens
      } tokens, scenario has ${scenario.heads} heads of ${tokens}`,
    );
  }
  const all = forms.map((f) => blockLists(f, blockSize));
  const attendedPairs = all.map((l) => l.attendedPairs);
  const pairsAllHeads = forms.length === 1
    ? attendedPairs[0] * scenario.heads
    : attendedPairs.reduce((a, b) => a + b, 0);
  const fields = {
    scenario: scenario.name,
    method: method.name,
    params,
    tokens,
    heads: scenario.heads,
    headDim: scenario.headDim,
  };
  return {
    caseKey: peerCaseKey(fields),
    ...fields,
    methodSpec: methodSpecOf(method.name, params),
    layoutHeads: forms.length,
    blockSize,
    blocks: all[0].blocks,
    fullBlocks: all.reduce((n, l) => n + l.fullCounts.reduce((a, b) => a + b, 0), 0),
    partialBlocks: all.reduce((n, l) => n + l.partialCounts.reduce((a, b) => a + b, 0), 0),
    attendedPairs,
    flops: 4 * scenario.headDim * pairsAllHeads,
    denseFlops: 4 * tokens * tokens * scenario.headDim * scenario.heads,
    permutation: forms.find((f) => f.permutationName)?.permutationName ?? null,
    files: await writeCase(settings.dir, folder, forms, all),
  };
}

/**
 * Exports every (scenario × method) case into `settings.dir` and writes `manifest.json` last; a
 * case that fails is recorded with its error and the export goes on.
 */
export async function exportLayouts(
  scenarios: readonly Scenario[],
  methods: readonly Method[],
  settings: ExportSettings,
): Promise<LayoutManifest> {
  const labels = methodLabels(methods);
  const cases: ExportedCase[] = [];
  for (const scenario of scenarios) {
    for (let m = 0; m < methods.length; m++) {
      const folder = join(folderName(scenario.name), labels[m]);
      let exported: ExportedCase;
      try {
        exported = await exportCase(scenario, methods[m], folder, settings);
      } catch (error) {
        const tokens = totalTokens(scenario);
        const fields = {
          scenario: scenario.name,
          method: methods[m].name,
          params: methods[m].params,
          tokens,
          heads: scenario.heads,
          headDim: scenario.headDim,
        };
        exported = {
          caseKey: peerCaseKey(fields),
          ...fields,
          methodSpec: methodSpecOf(methods[m].name, methods[m].params),
          layoutHeads: 0,
          blockSize: settings.blockSize ?? EXPORT_BLOCK_SIZE,
          blocks: 0,
          fullBlocks: 0,
          partialBlocks: 0,
          attendedPairs: [],
          flops: 0,
          denseFlops: 4 * tokens * tokens * scenario.headDim * scenario.heads,
          permutation: null,
          files: null,
          error: String((error as Error).message ?? error).split("\n")[0],
        };
      }
      cases.push(exported);
      settings.onCase?.(exported);
    }
  }
  const manifest: LayoutManifest = {
    schema: LAYOUTS_SCHEMA,
    date: new Date().toISOString(),
    command: settings.command,
    seed: settings.seed,
    cases,
  };
  await writeFileAtomic(
    join(settings.dir, "manifest.json"),
    JSON.stringify(manifest, null, 1) + "\n",
  );
  return manifest;
}

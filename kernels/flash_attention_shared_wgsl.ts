/**
 * What both flash-attention kernels (kernels/flash_attention_wgsl.ts, the tile kernel, and
 * kernels/flash_attention_rows_wgsl.ts, the row kernel) share with each other and with the host
 * encoder (kernels/attention_work.ts): the sub-tile record, the range mask kinds, the group 0
 * bindings, and the WGSL that declares them, opens the kernel and finishes a row.
 *
 * @module
 */
import { MASK_ROWS, MASK_TOKENS } from "../form/form.ts";
import { type Binding, bindingsWgsl } from "../gpu/bindings.ts";

/** Fields of a sub-tile record in the `subTiles` buffer, one u32 word each, in order. */
export const SUBTILE_FIELDS = [
  "rowStart",
  "rowEnd",
  "tileStart",
  "rangeBegin",
  "rangeEnd",
  "partSlot", // NO_PART, or the slot of this part's partial output
  "_p1",
  "_p2",
] as const;

/** Words per sub-tile record in the `subTiles` buffer. */
export const SUBTILE_WORDS: number = SUBTILE_FIELDS.length;

/** `partSlot` of a sub-tile that writes its rows directly (not a part of a split sub-tile). */
export const NO_PART = 0xffffffff;

/** `x` as a WGSL f32 literal (always with a decimal point or exponent). */
export function wgslFloat(x: number): string {
  const text = String(x);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** The WGSL "no score" constant; finite so exp2 never sees inf − inf. */
export const EMPTY_SCORE_WGSL = "const EMPTY: f32 = -1.0e30;";

/**
 * Group 0 of both kernels: Q, K and V (stored as `Stored`), the output rows and LSEs, the
 * sub-tiles, the key ranges, the mask words, the params, and the partial outputs and LSEs of
 * split sub-tiles (merged by kernels/merge_partials_wgsl.ts).
 */
export const FLASH_ATTENTION_BINDINGS = [
  { name: "q", kind: "read", type: "array<vec4<Stored>>" },
  { name: "k", kind: "read", type: "array<vec4<Stored>>" },
  { name: "v", kind: "read", type: "array<vec4<Stored>>" },
  { name: "outRows", kind: "read_write", type: "array<vec4<f32>>" },
  { name: "lse", kind: "read_write", type: "array<f32>" },
  { name: "subTiles", kind: "read", type: "array<SubTile>" },
  // Range records: start, end, maskOffset, kind.
  { name: "ranges", kind: "read", type: "array<vec4<u32>>" },
  { name: "maskWords", kind: "read", type: "array<u32>" },
  { name: "params", kind: "uniform", type: "Params" },
  { name: "partialRows", kind: "read_write", type: "array<vec4<f32>>" },
  { name: "partialLse", kind: "read_write", type: "array<f32>" },
] as const satisfies readonly Binding[];

/**
 * The declarations both kernels start with: `Stored` (the storage type of Q, K and V), the mask
 * kinds and NO_PART from their TypeScript constants, EMPTY, the params and sub-tile structs, the
 * bindings, and the row epilogue: `rowInverse(sum)` (1/sum, or 0 for a row with no key) and
 * `logSumExp(rowMax, sum)` (the natural-log LSE of a row with base-2 statistics, or EMPTY).
 */
export function flashAttentionHeaderWgsl(precision: "f32" | "f16"): string {
  return /* wgsl */ `
alias Stored = ${precision};
const ROW_MASK: u32 = ${MASK_ROWS}u;
const TOKEN_MASK: u32 = ${MASK_TOKENS}u;
const NO_PART: u32 = 0x${NO_PART.toString(16)}u;
${EMPTY_SCORE_WGSL}

struct Params {
  subTileCount: u32,
  dispatchWidth: u32,
  scaleLog2: f32,   // log2(e) / sqrt(d)
  _pad: u32,
}

struct SubTile {
  ${SUBTILE_FIELDS.map((field) => `${field}: u32,`).join("\n  ")}
}

${bindingsWgsl(FLASH_ATTENTION_BINDINGS)}

fn rowInverse(sum: f32) -> f32 {
  return select(0.0, 1.0 / sum, sum > 0.0);
}

fn logSumExp(rowMax: f32, sum: f32) -> f32 {
  return select(EMPTY, (rowMax + log2(sum)) * 0.6931471805599453, sum > 0.0);
}
`;
}

/**
 * The opening of a kernel's `main` over a 2-D grid of workgroups of `workgroupSize` threads
 * (x + y · `params.dispatchWidth`, kernels/attention.ts `dispatchGrid`): `let <item>Index = …`,
 * return past `params.<count>`, then `let <record> = <records>[<item>Index];`. The caller
 * writes the rest of the body and the closing brace.
 */
export function gridMainWgsl(
  workgroupSize: number,
  names: { item: string; count: string; record: string; records: string },
): string {
  const { item, count, record, records } = names;
  return /* wgsl */ `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ${item}Index = wid.x + wid.y * params.dispatchWidth;
  if (${item}Index >= params.${count}) {
    return;
  }
  let ${record} = ${records}[${item}Index];`;
}

/** {@link gridMainWgsl} of a flash-attention kernel: one sub-tile `st` per workgroup. */
export function subTileMainWgsl(workgroupSize: number): string {
  return gridMainWgsl(workgroupSize, {
    item: "sub",
    count: "subTileCount",
    record: "st",
    records: "subTiles",
  });
}

/**
 * Mask pictures: a block grid as a PNG (fast-png), query blocks down, key blocks across. At most
 * `maxSide` pixels a side: a small grid is scaled up by a whole factor, a large one downsampled
 * honestly (a pixel is on when any block under it is on). Blocks that hold text are drawn in
 * another colour, so the text rows and columns stand out from the video mask.
 *
 * @module
 */
import { encode } from "fast-png";
import type { BlockGrid, ExecutionForm } from "../form/form.ts";
import { type Scenario, textStart, textTokens } from "../scenarios/scenario.ts";

/** Options of {@link maskPng}. */
export interface MaskPngOptions {
  /** Largest width and height in pixels (default 1000). */
  maxSide?: number;
  /** One entry per block: 1 when the block holds a text token (drawn in the text colours). */
  textBlocks?: Uint8Array;
}

/** RGB colours of the picture. */
export const MASK_COLOURS = {
  /** A video-video block that is computed. */
  on: [31, 58, 147],
  /** A block that is skipped. */
  off: [255, 255, 255],
  /** A computed block in a text row or column. */
  textOn: [230, 126, 34],
  /** A skipped block in a text row or column. */
  textOff: [251, 227, 207],
} as const;

/** The picture's geometry: pixels a side, and blocks per pixel or pixels per block. */
export interface MaskPngGeometry {
  /** Width and height in pixels. */
  side: number;
  /** Blocks under one pixel along each axis (1 when scaled up). */
  blocksPerPixel: number;
  /** Pixels drawn for one block along each axis (1 when downsampled). */
  pixelsPerBlock: number;
}

/** The geometry {@link maskPng} uses for `blocks` blocks a side. */
export function maskPngGeometry(blocks: number, maxSide = 1000): MaskPngGeometry {
  if (!Number.isInteger(maxSide) || maxSide < 1) {
    throw new RangeError(`maxSide must be an integer ≥ 1 (got ${maxSide})`);
  }
  if (blocks <= maxSide) {
    const pixelsPerBlock = Math.floor(maxSide / blocks);
    return { side: blocks * pixelsPerBlock, blocksPerPixel: 1, pixelsPerBlock };
  }
  const blocksPerPixel = Math.ceil(blocks / maxSide);
  return { side: Math.ceil(blocks / blocksPerPixel), blocksPerPixel, pixelsPerBlock: 1 };
}

/**
 * The grid as PNG bytes (see module doc).
 *
 * @example
 * ```ts
 * import { maskPng } from "./mask_png.ts";
 * import { decode } from "fast-png";
 * import { equal } from "node:assert/strict";
 * const grid = { blockSize: 128, blocks: 2, bits: Uint8Array.from([1, 0, 0, 1]) };
 * const image = decode(maskPng(grid, { maxSide: 10 }));
 * equal(image.width, 10);
 * ```
 */
export function maskPng(grid: BlockGrid, options: MaskPngOptions = {}): Uint8Array {
  const { blocks, bits } = grid;
  const textBlocks = options.textBlocks;
  if (textBlocks && textBlocks.length !== blocks) {
    throw new RangeError(`textBlocks has ${textBlocks.length} entries, not ${blocks}`);
  }
  const { side, blocksPerPixel, pixelsPerBlock } = maskPngGeometry(blocks, options.maxSide);
  // Pixel cells: each covers blocksPerPixel blocks a side (OR of their bits).
  const cells = Math.ceil(blocks / blocksPerPixel);
  const cellOn = new Uint8Array(cells * cells);
  for (let q = 0; q < blocks; q++) {
    const row = Math.floor(q / blocksPerPixel) * cells;
    for (let k = 0; k < blocks; k++) {
      if (bits[q * blocks + k]) cellOn[row + Math.floor(k / blocksPerPixel)] = 1;
    }
  }
  const cellText = new Uint8Array(cells);
  if (textBlocks) {
    for (let b = 0; b < blocks; b++) {
      if (textBlocks[b]) cellText[Math.floor(b / blocksPerPixel)] = 1;
    }
  }
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    const cy = Math.floor(y / pixelsPerBlock);
    for (let x = 0; x < side; x++) {
      const cx = Math.floor(x / pixelsPerBlock);
      const text = cellText[cy] || cellText[cx];
      const on = cellOn[cy * cells + cx];
      const colour = text
        ? (on ? MASK_COLOURS.textOn : MASK_COLOURS.textOff)
        : (on ? MASK_COLOURS.on : MASK_COLOURS.off);
      data.set(colour, (y * side + x) * 3);
    }
  }
  return encode({ width: side, height: side, data, channels: 3, depth: 8 });
}

/** One entry per block: 1 when the block (of the permuted sequence) holds a text token. */
export function textBlocks(scenario: Scenario, form: ExecutionForm): Uint8Array {
  const blocks = Math.ceil(form.tokens / form.blockSize);
  const marks = new Uint8Array(blocks);
  const start = textStart(scenario);
  const end = start + textTokens(scenario);
  for (let p = 0; p < form.tokens; p++) {
    const original = form.permutation ? form.permutation[p] : p;
    if (original >= start && original < end) marks[Math.floor(p / form.blockSize)] = 1;
  }
  return marks;
}

import { deepEqual, equal } from "node:assert/strict";
import { decode } from "fast-png";
import { MASK_COLOURS, maskPng, maskPngGeometry } from "./mask_png.ts";

function pixel(image: ReturnType<typeof decode>, x: number, y: number): number[] {
  const i = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(i, i + 3));
}

Deno.test("a large grid is downsampled honestly: one on block still shows", () => {
  const blocks = 2500;
  const bits = new Uint8Array(blocks * blocks);
  bits[1234 * blocks + 2001] = 1;
  const image = decode(maskPng({ blockSize: 128, blocks, bits }));
  const geometry = maskPngGeometry(blocks);
  equal(geometry.blocksPerPixel, 3);
  equal(image.width, 834);
  let dark = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (pixel(image, x, y)[0] === MASK_COLOURS.on[0]) dark++;
    }
  }
  equal(dark, 1);
  deepEqual(pixel(image, Math.floor(2001 / 3), Math.floor(1234 / 3)), [...MASK_COLOURS.on]);
});

Deno.test("a small grid is scaled up by a whole factor, text blocks in the text colours", () => {
  const bits = Uint8Array.from([1, 0, 1, 0, 1, 1, 1, 1, 1]);
  const image = decode(maskPng({ blockSize: 4, blocks: 3, bits }, {
    maxSide: 100,
    textBlocks: Uint8Array.from([0, 0, 1]),
  }));
  equal(image.width, 99);
  deepEqual(pixel(image, 5, 5), [...MASK_COLOURS.on]);
  deepEqual(pixel(image, 40, 5), [...MASK_COLOURS.off]);
  deepEqual(pixel(image, 70, 5), [...MASK_COLOURS.textOn]);
  deepEqual(pixel(image, 40, 70), [...MASK_COLOURS.textOn]);
  const offText = decode(maskPng({ blockSize: 4, blocks: 2, bits: Uint8Array.from([1, 0, 1, 1]) }, {
    maxSide: 2,
    textBlocks: Uint8Array.from([0, 1]),
  }));
  deepEqual(pixel(offText, 1, 0), [...MASK_COLOURS.textOff]);
});

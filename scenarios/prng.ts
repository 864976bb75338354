/**
 * A counter-based seeded generator (spec: docs/scenarios.md, "Q/K/V inputs"): every
 * number is a pure function of (seed, head, stream, counter), so any head or stream can be made
 * on its own, in any order, on any machine, with the same bits. Only 32-bit integer operations,
 * `+ − × ÷` and `Math.sqrt` are used: no `Math.random`, no transcendental functions.
 *
 * The mixer is the splitmix32 output function (the MurmurHash3 finaliser) applied to
 * `key + counter·γ`, γ the golden-ratio constant.
 *
 * @example
 * ```ts
 * import { Prng } from "./prng.ts";
 * import { deepEqual } from "node:assert/strict";
 * const a = new Prng(1, 0, 7);
 * const b = new Prng(1, 0, 7);
 * deepEqual([a.uniform(), a.normal()], [b.uniform(), b.normal()]);
 * ```
 *
 * @module
 */

const GOLDEN = 0x9e3779b9;
const TWO_POW_24 = 16777216;
/** Standard deviation of the sum of four uniform bytes: √(4·(256² − 1)/12). */
const BYTE_SUM_SD = Math.sqrt((4 * (256 * 256 - 1)) / 12);
/** Mean of the sum of four uniform bytes. */
const BYTE_SUM_MEAN = 4 * 127.5;

/** The MurmurHash3 32-bit finaliser: a bijective avalanche mix of one word. */
export function mix32(word: number): number {
  let z = word | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The key of one stream: a mix of the seed, the head and the stream number. */
export function streamKey(seed: number, head: number, stream: number): number {
  let key = mix32((seed >>> 0) ^ GOLDEN);
  key = mix32(key ^ Math.imul(head + 1, 0x85ebca6b));
  return mix32(key ^ Math.imul(stream + 1, 0xc2b2ae35));
}

/** Word `counter` (0 … 2³² − 1) of the stream with key `key`. */
export function wordAt(key: number, counter: number): number {
  return mix32((key + Math.imul(counter, GOLDEN)) | 0);
}

/**
 * An approximately standard normal number from word `counter` of a stream: the four bytes of the
 * word summed (Irwin–Hall of 4) and standardised. Exact integer arithmetic, one hash per number:
 * meant for bulk noise, where tails beyond ±3.5 do not matter.
 */
export function byteNormalAt(key: number, counter: number): number {
  const w = wordAt(key, counter);
  const sum = (w & 255) + ((w >>> 8) & 255) + ((w >>> 16) & 255) + (w >>> 24);
  return (sum - BYTE_SUM_MEAN) / BYTE_SUM_SD;
}

/** A sequential reader over one (seed, head, stream): a counter walked from 0. */
export class Prng {
  readonly #key: number;
  #counter = 0;

  /**
   * @param seed the run's seed (any 32-bit integer)
   * @param head the head the numbers are for (−1 for head-independent numbers)
   * @param stream which of the head's streams (numbered by the caller)
   */
  constructor(seed: number, head: number, stream: number) {
    this.#key = streamKey(seed, head, stream);
  }

  /** The next 32-bit word. */
  nextUint32(): number {
    return wordAt(this.#key, this.#counter++);
  }

  /** A uniform number in [0, 1) with 24 bits of resolution. */
  uniform(): number {
    return (this.nextUint32() >>> 8) / TWO_POW_24;
  }

  /** A uniform number in [low, high). */
  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /**
   * An approximately standard normal number: the sum of twelve 24-bit uniforms minus 6
   * (Irwin–Hall of 12, variance 1 to within 2⁻⁴⁸). Every step is exact in float64, so it is
   * bit-identical on every machine; tails stop at ±6.
   */
  normal(): number {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += this.nextUint32() >>> 8;
    return sum / TWO_POW_24 - 6;
  }
}

/**
 * Q/K/V inputs: a source hands out one head at a time, so a 500k-token scenario never needs all
 * heads in CPU memory at once. Implemented by the synthetic generator and the file loaders.
 *
 * @module
 */

/** One head's tensors, each [tokens, d] row-major in the ORIGINAL token order. */
export interface HeadTensors {
  /** Queries. */
  q: Float32Array;
  /** Keys. */
  k: Float32Array;
  /** Values. */
  v: Float32Array;
}

/**
 * Per-token hidden states x, [tokens, dims] row-major in the original order and shared by every
 * head: the content the layer's Q/K/V projections read (MoGA's router input).
 */
export interface HiddenStates {
  /** Width of a hidden state. */
  dims: number;
  /** The hidden states. */
  x: Float32Array;
}

/** Where Q/K/V come from. */
export interface QkvSource {
  /** Short description for records and the report (generator and seed, or file path). */
  description: string;
  /** Sequence length L. */
  tokens: number;
  /** Number of heads. */
  heads: number;
  /** Head dimension d. */
  headDim: number;
  /** The tensors of head `h` (0-based). */
  head(h: number): Promise<HeadTensors>;
  /** The hidden states x, when the source has them (the synthetic generator always does). */
  hidden?(): Promise<HiddenStates>;
}

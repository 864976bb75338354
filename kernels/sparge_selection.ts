/**
 * What SpargeAttn's block prediction takes and gives (docs/methods.md, "SpargeAttn"), shared by
 * the GPU routing (kernels/sparge_routing.ts) and the float64 reference
 * (methods/routing/sparge_reference.ts).
 *
 * @module
 */

/** What the prediction needs besides Q and K. */
export interface SpargeRoutingOptions {
  /** Head dimension d. */
  headDim: number;
  /** Query block (tokens; official 128). */
  blockQ: number;
  /** Key block (tokens; official 64). */
  blockK: number;
  /** A block is self-similar when its mean pairwise cosine similarity exceeds this. */
  simThreshold: number;
  /** Cumulative pooled probability kept per query block. */
  cdfThreshold: number;
  /** Centre K on its mean before pooling and the similarity check (official `smooth_k`). */
  smoothK: boolean;
}

/** The prediction of one head: the kept key blocks of every query block. */
export interface SpargeSelection {
  /** Query blocks, ceil(L / blockQ). */
  queryBlocks: number;
  /** Key blocks, ceil(L / blockK). */
  keyBlocks: number;
  /** Row-major bits [queryBlocks × keyBlocks], 1 = the block is computed. */
  kept: Uint8Array;
  /** 1 per self-similar query block. */
  queryBlockSimilar: Uint8Array;
  /** 1 per self-similar key block. */
  keyBlockSimilar: Uint8Array;
}

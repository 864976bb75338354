/**
 * Token pooling of a pooled attention branch (docs/methods.md, "The execution form"): a branch
 * may run on a shorter sequence whose row g is the mean of the Q/K/V rows of a group of original
 * tokens (VSA's cube means). Groups are listed CSR-style; each original token belongs to at most
 * one group, and a token's share of the branch output is its group's output row.
 *
 * @module
 */

/** Groups of original tokens, each pooled (averaged) into one row of a pooled sequence. */
export interface TokenPooling {
  /** CSR offsets: group g owns `members[offsets[g]] … members[offsets[g+1]−1]` (groups + 1 entries). */
  offsets: Uint32Array;
  /** Original token indices, group by group. */
  members: Uint32Array;
}

/** Marks a token in no group in {@link pooledRowOfToken}. */
export const NO_POOLED_ROW = 0xffffffff;

/** Thrown for a pooling that breaks a rule of {@link validatePooling}. */
export class PoolingError extends RangeError {
  /**
   * Creates the instance.
   * @param message one line naming the field and what is allowed
   */
  constructor(message: string) {
    super(message);
    this.name = "PoolingError";
  }
}

/** Number of groups (rows of the pooled sequence). */
export function pooledRows(pooling: TokenPooling): number {
  return pooling.offsets.length - 1;
}

/**
 * Checks `pooling` against a sequence of `tokens` and throws a {@link PoolingError} naming the
 * first broken rule: at least one group, offsets from 0 ascending to members.length, no empty
 * group, members in [0, tokens), no token in two groups.
 */
export function validatePooling(pooling: TokenPooling, tokens: number): TokenPooling {
  const { offsets, members } = pooling;
  const groups = offsets.length - 1;
  if (groups < 1 || offsets[0] !== 0 || offsets[groups] !== members.length) {
    throw new PoolingError(
      `pooling: offsets must run from 0 to members.length (${members.length}) over ≥ 1 group`,
    );
  }
  for (let g = 0; g < groups; g++) {
    if (offsets[g + 1] <= offsets[g]) {
      throw new PoolingError(`pooling: group ${g} is empty or out of order`);
    }
  }
  const seen = new Uint8Array(tokens);
  for (const token of members) {
    if (token >= tokens) {
      throw new PoolingError(`pooling: member ${token} is outside [0, ${tokens})`);
    }
    if (seen[token]) throw new PoolingError(`pooling: token ${token} is in two groups`);
    seen[token] = 1;
  }
  return pooling;
}

/** For each of `tokens` original tokens, its group, or {@link NO_POOLED_ROW}. */
export function pooledRowOfToken(pooling: TokenPooling, tokens: number): Uint32Array {
  const rows = new Uint32Array(tokens).fill(NO_POOLED_ROW);
  for (let g = 0; g < pooledRows(pooling); g++) {
    for (let m = pooling.offsets[g]; m < pooling.offsets[g + 1]; m++) rows[pooling.members[m]] = g;
  }
  return rows;
}

/** The mean rows of `rows` ([tokens, d], row-major) over each group, in float64. */
export function poolRows(rows: ArrayLike<number>, pooling: TokenPooling, d: number): Float64Array {
  const groups = pooledRows(pooling);
  const pooled = new Float64Array(groups * d);
  for (let g = 0; g < groups; g++) {
    const count = pooling.offsets[g + 1] - pooling.offsets[g];
    for (let m = pooling.offsets[g]; m < pooling.offsets[g + 1]; m++) {
      const base = pooling.members[m] * d;
      for (let c = 0; c < d; c++) pooled[g * d + c] += rows[base + c];
    }
    for (let c = 0; c < d; c++) pooled[g * d + c] /= count;
  }
  return pooled;
}

"""FlexAttention as a dense numpy reference (see torch/__init__.py of this stand-in)."""
import numpy as np

import torch as _torch


class BlockMask:
    @classmethod
    def from_kv_blocks(cls, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
                       BLOCK_SIZE, mask_mod, seq_lengths):
        for t in (kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices):
            assert t.a.dtype == np.int32, "block lists must be int32"
        blocks = kv_indices.shape[-2]
        assert kv_indices.shape[-1] == blocks == full_kv_indices.shape[-1], \
            "kv_indices must hold a slot for every key block"
        assert seq_lengths[0] == seq_lengths[1] and -(-seq_lengths[0] // BLOCK_SIZE) == blocks
        mask = cls()
        mask.lists = (kv_num_blocks.a, kv_indices.a, full_kv_num_blocks.a, full_kv_indices.a)
        mask.block, mask.length, mask.mask_mod = BLOCK_SIZE, seq_lengths[0], mask_mod
        return mask

    def allowed(self, heads):
        """[heads, L, L] bools: full blocks whole, partial blocks by mask_mod."""
        num, idx, full_num, full_idx = self.lists
        B, L = self.block, self.length
        out = np.zeros((heads, L, L), dtype=bool)
        for h in range(heads):
            lh = h if num.shape[1] > 1 else 0
            for qb in range(num.shape[2]):
                rows = slice(qb * B, min(L, (qb + 1) * B))
                for kb in full_idx[0, lh, qb, :full_num[0, lh, qb]]:
                    out[h, rows, kb * B:(kb + 1) * B] = True
                for kb in idx[0, lh, qb, :num[0, lh, qb]]:
                    q = np.arange(qb * B, min(L, (qb + 1) * B))[:, None]
                    k = np.arange(kb * B, min(L, (kb + 1) * B))[None, :]
                    bits = self.mask_mod(np.int64(0), np.int64(h), q, k)
                    out[h, rows, kb * B:(kb + 1) * B] = _torch._raw(bits)
        return out


def flex_attention(q, k, v, block_mask):
    assert q.shape[-2] == block_mask.length
    return _torch._attention(q, k, v, block_mask.allowed(q.shape[1])[None])

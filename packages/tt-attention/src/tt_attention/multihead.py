"""Multi-head self-attention, every head at once, and the KV cache that makes decoding cheap."""

import numpy as np
from tt_layers import Linear, Module
from tt_tensor import as_tensor, concatenate, from_numpy

from .functional import causal_mask, scaled_dot_product_attention


class KVCache:
    """The keys and values one attention layer has computed so far, (B, H, T, D) each.

    Passed to `MultiHeadAttention.forward(x, kv_cache=...)` explicitly: each call appends the
    new positions' keys and values, and queries attend over everything stored. Decoding one
    token then projects one position instead of the whole prefix again.

    Storage: a preallocated buffer that doubles when full, so appending a token writes one
    slot (concatenating would copy the whole cache every step: O(T^2) copying in total).
    When the new keys carry a graph (requires_grad, e.g. training through a cache), they are
    concatenated instead, so gradients reach the earlier positions.
    """

    def __init__(self):
        self.key = None     # (B, H, T, D) Tensors: everything stored so far
        self.value = None
        self._buffers = None  # (key, value) ndarrays with room for more positions

    def __len__(self):
        """The number of positions stored."""
        return 0 if self.key is None else self.key.shape[-2]

    def update(self, key, value):
        """Append key, value (B, H, T_new, D) Tensors; return (key, value), Tensors
        (B, H, T_total, D) of all stored positions, kept as self.key, self.value.

        Neither requires grad: write into the buffers, return views of the filled slots.
        Else: concatenate stored and new (recorded: gradients reach earlier chunks), drop the
        buffers.

        self._reserve(key.data, value.data, T_total) makes room first: it takes ndarrays and
        copies what is stored into new buffers when they are too small (see the class
        docstring for why a buffer and not a concatenation at every step).
        """
        ### BEGIN SOLUTION
        if key.requires_grad or value.requires_grad:
            if self.key is not None:  # keep the graph: a recorded concatenation
                key = concatenate([self.key, key], axis=-2)          # (B, H, T_total, D)
                value = concatenate([self.value, value], axis=-2)
            self.key, self.value, self._buffers = key, value, None
            return key, value
        start, end = len(self), len(self) + key.shape[-2]
        self._reserve(key.data, value.data, end)
        k_buf, v_buf = self._buffers
        k_buf[..., start:end, :] = key.data                          # write the new slots
        v_buf[..., start:end, :] = value.data
        self.key = from_numpy(k_buf[..., :end, :])                   # views, no copy
        self.value = from_numpy(v_buf[..., :end, :])
        return self.key, self.value
        ### END SOLUTION

    def _reserve(self, key, value, length):
        """Make sure the buffers hold `length` positions (double their size when not).

        key, value: ndarrays (B, H, T_new, D) that give the buffers' shape and dtype. New
        buffers get a copy of the stored positions (self.key.data, so a graph they carry
        ends there); self.key and self.value are not changed.
        """
        if self._buffers is not None and self._buffers[0].shape[-2] >= length:
            return
        capacity = max(length, 2 * len(self), 16)
        new = []
        for array, stored in ((key, self.key), (value, self.value)):
            buf = np.empty(array.shape[:-2] + (capacity, array.shape[-1]), dtype=array.dtype)
            if stored is not None:
                buf[..., :len(self), :] = stored.data
            new.append(buf)
        self._buffers = tuple(new)

    def reset(self):
        """Forget every stored position."""
        self.key = None
        self.value = None
        self._buffers = None

    def __repr__(self):
        return f"KVCache(length={len(self)})"


class MultiHeadAttention(Module):
    """Self-attention with num_heads heads of size D = embed_dim // num_heads.

    Each head attends in its own D-dimensional subspace; the heads are one batched matmul
    (B, H, T, D), never a Python loop. causal=True lets position t see only positions <= t.
    """

    def __init__(self, embed_dim, num_heads, bias=True, causal=False):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiHeadAttention: embed_dim {embed_dim} is not divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.causal = causal
        # three projections rather than one fused (E, 3E): splitting a fused output costs a
        # full-size zero-filled gradient per slice in backward, three matmuls cost nothing extra
        self.q_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)

    def _heads(self, x, B, T):
        """(B*T, E) -> (B, H, T, D): split the features into heads, heads before time."""
        if T == 1:  # decoding: (B, 1, H, D) and (B, H, 1, D) are the same memory
            return x.reshape(B, self.num_heads, 1, self.head_dim)
        return x.reshape(B, T, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mask=None, kv_cache=None):
        """x (B, T, E) -> (B, T, E). mask: bool (True = attend) or float, (T, T_total).

        kv_cache: a KVCache; the T positions of x come after the len(kv_cache) stored ones.
        """
        x = as_tensor(x)
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention: expected x of shape (B, T, {self.embed_dim}),"
                             f" got {x.shape}")
        B, T, E = x.shape
        ### BEGIN SOLUTION
        # 2-D for the projections: one matmul each, and one for each weight gradient
        flat = x.reshape(B * T, E)                # (B*T, E)
        q = self._heads(self.q_proj(flat), B, T)  # (B, H, T, D)
        k = self._heads(self.k_proj(flat), B, T)
        v = self._heads(self.v_proj(flat), B, T)
        if kv_cache is not None:
            k, v = kv_cache.update(k, v)          # (B, H, T_total, D)
        T_total = k.shape[-2]
        if self.causal and T > 1:  # a single new query may see every key: no mask needed
            causal = causal_mask(T, T_total)
            mask = causal if mask is None else _combine(mask, causal)
        y = scaled_dot_product_attention(q, k, v, mask=mask)  # (B, H, T, D)
        if T > 1:
            y = y.permute(0, 2, 1, 3)                          # (B, T, H, D)
        y = y.reshape(B * T, E)                                # heads side by side again
        return self.out_proj(y).reshape(B, T, E)
        ### END SOLUTION

    def attention_weights(self, x, mask=None):
        """The (B, H, T, T) weights softmax(Q K^T / sqrt(D) + mask) with which forward(x, mask)
        mixes the values, for pictures and inspection (no KV cache; forward is unchanged).

        Computed by the same scaled_dot_product_attention with the identity as the values:
        weights @ I = weights, so they are exactly the ones forward uses."""
        x = as_tensor(x)
        B, T, E = x.shape
        flat = x.reshape(B * T, E)                # (B*T, E)
        q = self._heads(self.q_proj(flat), B, T)  # (B, H, T, D)
        k = self._heads(self.k_proj(flat), B, T)
        if self.causal and T > 1:
            causal = causal_mask(T, T)
            mask = causal if mask is None else _combine(mask, causal)
        identity = from_numpy(np.eye(T, dtype=q.dtype))  # (T, T), broadcast over (B, H)
        return scaled_dot_product_attention(q, k, identity, mask=mask)  # (B, H, T, T)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"causal={self.causal}")


def _combine(mask, causal):
    """A user mask and the causal mask as one: bool masks AND, float masks get -inf added."""
    data = np.asarray(getattr(mask, "data", mask))
    if data.dtype == bool:
        return data & causal
    return data + np.where(causal, 0.0, -np.inf).astype(data.dtype)

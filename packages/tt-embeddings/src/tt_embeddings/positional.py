"""Positional encodings: attention sees a set, so each position gets a vector added to it.

Sinusoidal (Vaswani et al. 2017, section 3.5): fixed, nothing to learn, defined for any length.
Learned (GPT-2): one trainable vector per position, up to a maximum length.
"""

import math

import numpy as np
from tt_layers import Module, Parameter, init
from tt_tensor import as_tensor, float32, from_numpy

from .embedding import _positive_int


def sinusoidal_positional_encoding(num_positions, embedding_dim, dtype=float32):
    """A Tensor (num_positions, embedding_dim) of `dtype`: PE[p, 2i] = sin(p w_i) and
    PE[p, 2i+1] = cos(p w_i), w_i = 10000^(-2i / embedding_dim), computed in float64 then cast.

    An odd embedding_dim has one cosine column fewer. Each pair of columns is a clock at its own
    frequency, so PE[p + k] is a fixed rotation of PE[p]: relative offsets are linear maps.
    """
    T = _positive_int("sinusoidal_positional_encoding", "num_positions", num_positions)
    C = _positive_int("sinusoidal_positional_encoding", "embedding_dim", embedding_dim)
    ### BEGIN SOLUTION
    position = np.arange(T, dtype=np.float64)[:, None]                          # (T, 1)
    freq = np.exp(np.arange(0, C, 2, dtype=np.float64) * (-math.log(10000.0) / C))  # (ceil(C/2),)
    angles = position * freq                                                    # (T, ceil(C/2))
    table = np.empty((T, C), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : C // 2])  # an odd C has one cosine column fewer
    return from_numpy(table.astype(dtype))
    ### END SOLUTION


def _check_input(owner, x, embedding_dim, offset, max_len):
    """x (B, T, C) with C = embedding_dim and offset + T <= max_len; returns T."""
    if x.ndim < 2 or x.shape[-1] != embedding_dim:
        raise ValueError(f"{owner}: expected an input of shape (*, T, {embedding_dim}), "
                         f"got {x.shape}")
    T = x.shape[-2]
    if offset < 0 or offset + T > max_len:
        raise ValueError(f"{owner}: positions {offset}..{offset + T - 1} do not fit max_len "
                         f"{max_len} (sequence length {T}, offset {offset})")
    return T


class SinusoidalPositionalEncoding(Module):
    """x + PE[offset : offset + T] for x (*, T, embedding_dim); PE is a fixed buffer.

    There is no dtype argument: the buffer `pe` (max_len, embedding_dim) is float32 (`.double()`
    converts it, as any floating buffer), and forward casts the rows it adds to x's dtype, so
    the output always has the dtype of x.
    """

    def __init__(self, embedding_dim, max_len=5000):
        super().__init__()
        self.embedding_dim = _positive_int("SinusoidalPositionalEncoding", "embedding_dim",
                                           embedding_dim)
        self.max_len = _positive_int("SinusoidalPositionalEncoding", "max_len", max_len)
        # not persistent: a function of the two sizes, recomputed rather than saved
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, embedding_dim),
                             persistent=False)

    def forward(self, x, offset=0):
        """x + PE[offset : offset + T]: x (*, T, C) -> (*, T, C), with the dtype of x.

        The T rows of the buffer self.pe starting at `offset` (the position of x's first
        step: the number of tokens already cached) are cast to x.dtype and broadcast over the
        leading axes. The code before the region has checked the shape and that the positions
        fit max_len (ValueError otherwise). Returns a new Tensor; x and the buffer are unchanged.
        """
        x = as_tensor(x)
        T = _check_input("SinusoidalPositionalEncoding", x, self.embedding_dim, offset,
                         self.max_len)
        ### BEGIN SOLUTION
        return x + self.pe[offset:offset + T].astype(x.dtype)  # (T, C) broadcasts over *
        ### END SOLUTION

    def extra_repr(self):
        return f"embedding_dim={self.embedding_dim}, max_len={self.max_len}"


class LearnedPositionalEncoding(Module):
    """x + weight[offset : offset + T], one learnable vector per position (GPT-2's wpe).

    Init N(0, 0.02^2) as GPT-2: small next to the token embeddings they are added to.
    """

    def __init__(self, max_len, embedding_dim, dtype=None):
        super().__init__()
        self.max_len = _positive_int("LearnedPositionalEncoding", "max_len", max_len)
        self.embedding_dim = _positive_int("LearnedPositionalEncoding", "embedding_dim",
                                           embedding_dim)
        dtype = float32 if dtype is None else dtype
        self.weight = Parameter(np.empty((self.max_len, self.embedding_dim), dtype=dtype))
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x, offset=0):
        """x + weight[offset : offset + T]: x (*, T, C) -> (*, T, C).

        The T rows of the Parameter self.weight starting at `offset` (the position of x's first
        step) broadcast over the leading axes; gradients reach only those rows. The code before
        the region has checked the shape and that the positions fit max_len (ValueError).
        """
        x = as_tensor(x)
        T = _check_input("LearnedPositionalEncoding", x, self.embedding_dim, offset,
                         self.max_len)
        ### BEGIN SOLUTION
        return x + self.weight[offset:offset + T]  # (T, C) broadcasts over *
        ### END SOLUTION

    def extra_repr(self):
        return f"max_len={self.max_len}, embedding_dim={self.embedding_dim}"

"""TinyTorch module 13 (attention): scaled dot-product attention and multi-head attention.

Attention lets every position read from every other (or, causally, every earlier) position,
with weights softmax(Q K^T / sqrt(D)). `MultiHeadAttention` runs H heads as one batched
matmul; a `KVCache` passed to it keeps past keys and values for fast decoding.
"""

from ._version import __version__
from .functional import causal_mask, scaled_dot_product_attention
from .fused import (
    ScaledDotProductAttention, ScaledMaskedSoftmax, fast_paths_enabled, fused_softmax,
    use_fast_paths,
)
from .multihead import KVCache, MultiHeadAttention

__all__ = [
    "__version__",
    "scaled_dot_product_attention", "causal_mask",
    "MultiHeadAttention", "KVCache",
    "fused_softmax", "ScaledMaskedSoftmax",
    # the fast paths (fused.py): the softmax's and the fused attention op
    # (ScaledDotProductAttention); on by default, off runs the plain regions
    "ScaledDotProductAttention", "use_fast_paths", "fast_paths_enabled",
]

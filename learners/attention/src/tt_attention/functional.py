"""Scaled dot-product attention: matmuls and a mask from tt-tensor, a fused softmax.

softmax(Q K^T / sqrt(D) + bias) V: every query position takes a weighted average of the value
vectors, weighted by how well its query matches each key. The matmuls and the mask are
primitives that tt-autograd differentiates; the softmax is one fused op (fused.py) because it
is the largest elementwise cost of attention (with the scale and the mask folded into it).
"""

import math

import numpy as np
from tt_tensor import Tensor, as_tensor

from .fused import fast_paths_enabled, fused_attention, fused_softmax


def causal_mask(query_len, key_len=None):
    """Bool (query_len, key_len) mask, True = may attend: query i sees keys j <= i + offset.

    offset = key_len - query_len aligns the last query with the last key (lower-right), which
    is what a KV cache needs: the T new queries sit after key_len - T cached positions.
    For query_len == key_len this is the lower triangle, PyTorch's is_causal mask.
    """
    key_len = query_len if key_len is None else key_len
    if query_len > key_len:
        raise ValueError(f"causal_mask: {query_len} queries cannot come after only "
                         f"{key_len} keys")
    ### BEGIN SOLUTION
    # query i sits at position offset + i among the keys; it sees keys 0..offset + i
    offset = key_len - query_len
    return np.tri(query_len, key_len, k=offset, dtype=bool)
    ### END SOLUTION


def _mask_bias(mask, dtype):
    """An additive bias from a mask: bool True -> 0, False -> -inf; float masks are the bias.

    A constant bias added inside the softmax (instead of `where` on the scores) costs one add
    forward and nothing backward: it has no gradient and passes the scores' gradient through.
    """
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == bool:
        bias = np.zeros(data.shape, dtype=dtype)
        bias[~data] = -np.inf
        return bias
    if data.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: mask must be bool (True = attend) or "
                        f"float (added to the scores), got dtype {data.dtype}")
    return data.astype(dtype, copy=False)


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, scale=None):
    """softmax(q k^T * scale + mask) v, scale = 1 / sqrt(D) unless given (PyTorch semantics).

    q (*, Tq, D), k (*, Tk, D), v (*, Tk, Dv) -> (*, Tq, Dv); leading axes broadcast.
    mask: bool (True = attend) or float (added to the scores), broadcastable to (*, Tq, Tk).
    is_causal: query i attends keys j <= i (PyTorch's upper-left aligned lower triangle);
    cannot be combined with a mask. A query whose every key is masked gets zeros (and a zero
    gradient), as from PyTorch 2.13's scaled_dot_product_attention.
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    _check_shapes(q, k, v)
    Tq, Tk, D = q.shape[-2], k.shape[-2], q.shape[-1]
    if is_causal and mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either mask or is_causal=True, "
                         "not both (fold the causal mask into your mask)")
    if is_causal:
        mask = np.tri(Tq, Tk, dtype=bool)  # PyTorch's is_causal: upper-left aligned
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    if fast_paths_enabled() and q.dtype.kind == "f":  # fast path (fused.py, README)
        bias = None if mask is None else _mask_bias(mask, q.dtype)
        fused = fused_attention(q, k, v, scale, bias)  # one op over the worker threads
        if fused is not None:
            return fused
    ### BEGIN SOLUTION
    # the scale is folded into the fused softmax: scaling q instead (as COURSE.md suggests)
    # keeps one more (*, Tq, D) array alive for backward than tt-systems' memory formula
    scores = q @ k.transpose(-2, -1)                                    # (*, Tq, Tk)
    bias = None if mask is None else _mask_bias(mask, scores.dtype)
    weights = fused_softmax(scores, scale=scale, bias=bias)             # rows all masked -> 0
    return weights @ v                                                  # (*, Tq, Dv)
    ### END SOLUTION


def _check_shapes(q, k, v):
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: q, k, v need shape (*, T, D), got "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: q {q.shape} and k {k.shape} need the "
                         f"same D, k and v {v.shape} the same number of positions")

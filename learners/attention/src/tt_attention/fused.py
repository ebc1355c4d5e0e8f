"""The attention softmax as one op (tt_tensor.Function): scale, mask, softmax, and backward.

Composed, softmax(scale * x + bias) records 6 primitives (mul, add, sub, exp, sum, div) whose
backward rules allocate about six full-size temporaries for the (B, H, T, T) scores. Fused, it
keeps one array (the output) for backward:

    y = softmax(scale * x + bias)            dx = scale * y * (g - sum(g * y))

and is one graph node instead of six, which matters when decoding one token at a time.
A row whose every entry is masked (-inf) gives zeros and a zero gradient, as PyTorch 2.13's
scaled_dot_product_attention does (a plain softmax would give 0/0 = NaN).
Tested to equal the composed version (values and gradients, tests/).
"""

import numpy as np
from tt_tensor import Function


class ScaledMaskedSoftmax(Function):
    """softmax(scale * x + bias) along the last axis; bias is a constant (no gradient)."""

    @staticmethod
    def forward(ctx, x, scale=1.0, bias=None):
        ### BEGIN SOLUTION
        # one full-size array, y, is allocated; every later step works in place in it
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        y = np.multiply(x, scale, dtype=dtype)               # never writes into x
        if bias is not None:
            np.add(y, bias, out=y)                           # bias broadcasts to x's shape
        peak = np.max(y, axis=-1, keepdims=True)
        peak[~np.isfinite(peak)] = 0.0   # an all -inf row: shift by 0, not by -inf (inf - inf)
        np.subtract(y, peak, out=y)
        np.exp(y, out=y)                                     # masked entries: exp(-inf) = 0
        total = np.sum(y, axis=-1, keepdims=True)
        np.divide(y, total, out=y, where=total > 0)          # an all-masked row stays 0
        ctx.y = y
        ctx.scale = scale
        return y
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        ### BEGIN SOLUTION
        # dx = scale * y * (g - sum(g * y)), with one full-size temporary
        y = ctx.y
        dot = np.einsum("...i,...i->...", grad, y)[..., None]    # sum(g * y) per row
        dx = np.subtract(grad, dot)
        np.multiply(dx, y, out=dx)
        if ctx.scale != 1.0:
            np.multiply(dx, ctx.scale, out=dx)
        return (dx,)
        ### END SOLUTION


def fused_softmax(x, scale=1.0, bias=None):
    """softmax(scale * x + bias) over the last axis as one graph node.

    Equals tt_activations.softmax(x * scale + bias, axis=-1) on every row with at least one
    finite entry, and 0 on a row that is all -inf; bias (an ndarray broadcastable to x, e.g.
    0 / -inf from a mask) gets no gradient.
    """
    if np.ndim(getattr(x, "data", x)) == 0:  # as the composed softmax says it
        raise ValueError("fused_softmax: axis -1 is out of range for a tensor of shape ()")
    if bias is not None:
        bias = np.asarray(getattr(bias, "data", bias))
    return ScaledMaskedSoftmax.apply(x, scale=float(scale), bias=bias)

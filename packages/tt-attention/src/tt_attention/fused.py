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
        """y = softmax(scale * x + bias) along the last axis of the ndarray x; returns y, an
        ndarray of x's shape and dtype, and keeps on ctx what backward needs (y and scale).

        A row that is all -inf gives zeros, with no NumPy warning (tested under
        np.errstate(invalid="raise", divide="raise")): never compute -inf - (-inf) or 0 / 0.

        bias: None or an ndarray broadcastable to x (0 = attend, -inf = masked). x must not
        change (it is the input Tensor's data). Shifting each row by its max keeps every
        exp <= 1; an all -inf row has no finite max to shift by.
        """
        ### BEGIN SOLUTION
        y = x * x.dtype.type(scale)
        if bias is not None:
            y += bias                             # -inf where attention is not allowed
        top = y.max(axis=-1, keepdims=True)
        empty = top == -np.inf                    # every key masked: a row of zeros (PyTorch)
        y -= np.where(empty, 0.0, top)            # shift: every exp is in (0, 1]
        np.exp(y, out=y)
        y /= np.where(empty, 1.0, y.sum(axis=-1, keepdims=True))
        ctx.y, ctx.scale = y, scale
        return y
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        """grad = dL/dy (y's shape); returns (dL/dx,) with dx = scale * y * (g - sum(g * y))
        (the sum over the last axis, kept), the softmax's Jacobian-vector product times the
        scale; bias is a constant and gets no gradient."""
        ### BEGIN SOLUTION
        y = ctx.y
        gy = grad * y                             # (..., T)
        gy -= y * gy.sum(axis=-1, keepdims=True)   # y * (g - sum(g y))
        if ctx.scale != 1.0:
            gy *= gy.dtype.type(ctx.scale)
        return (gy,)
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

"""The attention softmax as one op (tt_tensor.Function): scale, mask, softmax, and backward.

Composed, softmax(scale * x + bias) records 6 primitives (mul, add, sub, exp, sum, div) whose
backward rules allocate about six full-size temporaries for the (B, H, T, T) scores. Fused, it
keeps one array (the output) for backward:

    y = softmax(scale * x + bias)            dx = scale * y * (g - sum(g * y))

and is one graph node instead of six, which matters when decoding one token at a time.
A row whose every entry is masked (-inf) gives zeros and a zero gradient, as PyTorch 2.13's
scaled_dot_product_attention does (a plain softmax would give 0/0 = NaN).
Tested to equal the composed version (values and gradients, tests/).

Fast path (beside the solution regions, README): forward and backward each run over chunks of
the leading axis on worker threads when the scores are large (NumPy releases the GIL inside
its loops, so at 2 threads both cores work), with the row sums as einsum's sum-of-products
loop, several times faster than np.sum over a short last axis. The reference starts with it
on; a learner's own package (version `+own`) starts with it off, so attention runs the
learner's regions. `use_fast_paths(False)` runs the regions; `use_fast_paths(True,
threads=n)` sets the workers (default: OMP_NUM_THREADS, else OPENBLAS_NUM_THREADS, else 1).
The switch and its threads are tt_tensor.FastPathSwitch.
"""

import numpy as np
from tt_tensor import FastPathSwitch, Function

from ._version import __version__

_switch = FastPathSwitch("tt_attention", __version__)  # on for the reference, off for +own
_CHUNK = 1 << 15  # elements per worker below which a thread costs more than it saves
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "attention's fast paths (ScaledMaskedSoftmax's, ScaledDotProductAttention)",
    "large scores")


def _over_leading(fn, n, size):
    """fn(lo, hi) over [0, n), the first axis, in one chunk per worker thread when the arrays
    (`size` elements) are large enough, else fn(0, n) inline."""
    _switch.run_chunks(fn, n, size, _CHUNK)


def _row_sums(y):
    """sum over the last axis, kept: einsum's loop, not np.sum's per-row reduction."""
    return np.einsum("...i->...", y)[..., None]


def _softmax_into(x, bias, y, scale):
    """y = softmax(scale * x + bias) over the last axis (the region's steps, in place in y)."""
    np.multiply(x, scale, out=y)
    if bias is not None:
        y += bias
    top = y.max(axis=-1, keepdims=True)
    empty = top == -np.inf                    # every key masked: a row of zeros (PyTorch)
    top[empty] = 0.0
    y -= top
    np.exp(y, out=y)
    total = _row_sums(y)
    total[empty] = 1.0
    y /= total


def _softmax_grad_into(y, grad, dx, scale):
    """dx = scale * y * (g - sum(g y)), in place in dx."""
    np.multiply(grad, y, out=dx)
    dx -= y * _row_sums(dx)
    if scale != 1.0:
        dx *= scale


def _fast_forward(x, scale, bias):
    """The forward over chunks of the first axis, or None where the region should run."""
    if x.ndim < 2 or x.dtype.kind != "f" or x.size < _CHUNK:
        return None  # one row, integer or few scores (decoding): the region costs less
    y, scale = np.empty_like(x), x.dtype.type(scale)
    if bias is not None:
        bias = np.broadcast_to(bias, x.shape)  # a view: each chunk slices its own rows

    def work(lo, hi):
        _softmax_into(x[lo:hi], None if bias is None else bias[lo:hi], y[lo:hi], scale)

    _over_leading(work, x.shape[0], x.size)
    return y


def _fast_backward(y, grad, scale):
    """The backward over chunks of the first axis, or None where the region should run."""
    if y.ndim < 2 or grad.shape != y.shape or y.size < _CHUNK:
        return None
    dx, scale = np.empty_like(y), y.dtype.type(scale)

    def work(lo, hi):
        _softmax_grad_into(y[lo:hi], grad[lo:hi], dx[lo:hi], scale)

    _over_leading(work, y.shape[0], y.size)
    return dx


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
        if fast_paths_enabled():
            y = _fast_forward(x, scale, bias)   # fast path (module doc, README)
            if y is not None:
                ctx.y, ctx.scale = y, scale
                return y
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
        if fast_paths_enabled():
            dx = _fast_backward(ctx.y, grad, ctx.scale)   # fast path (module doc, README)
            if dx is not None:
                return (dx,)
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


def _unit_lead_dropped(arrays):
    """The arrays with their leading size-1 axes indexed away while they stay 3-D or more
    (views), so the first axis is one the workers can split (B = 1: the heads)."""
    while arrays[0].ndim > 3 and arrays[0].shape[0] == 1:
        arrays = [a[0] for a in arrays]
    return arrays


class ScaledDotProductAttention(Function):
    """softmax(q k^T * scale + bias) v as one op: scaled_dot_product_attention's two batched
    products and its softmax, run over chunks of the leading axis on the worker threads.

    q (*, Tq, D), k (*, Tk, D), v (*, Tk, Dv) share their leading shape `*`; bias is None or a
    constant broadcastable to (Tq, Tk) (0 = attend, -inf = masked). Keeps the weights w and
    q, k, v for backward, with s = q k^T * scale + bias, w = softmax(s), y = w v:

        dv = w^T g,   dw = g v^T,   ds = scale * w * (dw - sum(w * dw)),   dq = ds k,
        dk = ds^T q                               (sums over the last axis, kept)

    The output and the gradients of q, k and v are laid out in memory like q, k and v (a
    head split's (B, T, H, D) order), so merging the heads again costs no copy.
    """

    @staticmethod
    def forward(ctx, q, k, v, *, scale, bias):
        scale = q.dtype.type(scale)
        w = np.empty(q.shape[:-1] + k.shape[-2:-1], dtype=q.dtype)       # (*, Tq, Tk)
        y = np.empty_like(q, shape=q.shape[:-1] + v.shape[-1:])          # (*, Tq, Dv)
        qq, kk, vv, ww, yy = _unit_lead_dropped([q, k, v, w, y])

        def work(lo, hi):
            s = ww[lo:hi]
            np.matmul(qq[lo:hi], kk[lo:hi].swapaxes(-1, -2), out=s)
            _softmax_into(s, bias, s, scale)                             # in place: w
            np.matmul(s, vv[lo:hi], out=yy[lo:hi])

        _over_leading(work, qq.shape[0], w.size)
        ctx.q, ctx.k, ctx.v, ctx.w, ctx.scale = q, k, v, w, scale
        return y

    @staticmethod
    def backward(ctx, grad):
        q, k, v, w = ctx.q, ctx.k, ctx.v, ctx.w
        dq, dk, dv = np.empty_like(q), np.empty_like(k), np.empty_like(v)
        ds = np.empty_like(w)
        arrays = _unit_lead_dropped([q, k, v, w, np.asarray(grad), dq, dk, dv, ds])
        qq, kk, vv, ww, gg, dqq, dkk, dvv, dss = arrays

        def work(lo, hi):
            g, wc, s = gg[lo:hi], ww[lo:hi], dss[lo:hi]
            np.matmul(wc.swapaxes(-1, -2), g, out=dvv[lo:hi])
            np.matmul(g, vv[lo:hi].swapaxes(-1, -2), out=s)
            _softmax_grad_into(wc, s, s, ctx.scale)                      # in place: ds
            np.matmul(s, kk[lo:hi], out=dqq[lo:hi])
            np.matmul(s.swapaxes(-1, -2), qq[lo:hi], out=dkk[lo:hi])

        _over_leading(work, qq.shape[0], w.size)
        return dq, dk, dv


def fused_attention(q, k, v, scale, bias):
    """scaled_dot_product_attention's fast path: ScaledDotProductAttention.apply(q, k, v) for
    Tensors q, k, v of one float dtype and the same leading shape, a bias of at most 2-D
    (one mask for every head) and at least 2^15 scores; else None (the region runs).

    Below 2^15 scores (small batches, decoding one token) the composition's ops cost less
    than the setup, and tools that count attention's matmuls see them."""
    shapes = (q.shape[:-2], k.shape[:-2], v.shape[:-2])
    if (q.ndim < 3 or q.dtype.kind != "f" or not q.dtype == k.dtype == v.dtype
            or not shapes[0] == shapes[1] == shapes[2] or (bias is not None and bias.ndim > 2)
            or q.data.size // max(q.shape[-1], 1) * k.shape[-2] < _CHUNK):
        return None
    return ScaledDotProductAttention.apply(q, k, v, scale=float(scale), bias=bias)

"""Fast paths: batch_norm in training mode and layer_norm, each as one graph node
(tt_tensor.Function).

batch_norm in functional.py is the lesson: a composition of primitives (mean, sub, mul, pow,
add) that tt-autograd differentiates as written. Every one of those primitives keeps or makes
a full-size array, and each backward rule passes over the activations again (the broadcast
multiplies also sum their (1, C, 1, ...) operand's gradient back). When a graph is recorded
in training mode, batch_norm takes this fused version instead: the same statistics and
output, with the closed-form gradient

    dx = w / std * (g - mean(g) - x_hat * mean(g * x_hat)),   x_hat = (x - mean) / std,
    dw = sum(g * x_hat),  db = sum(g)                          (means and sums per channel)

in five passes over the activations, and one array kept for backward (x_hat). The per-channel
sums read the activations as rows of contiguous values in their own layout (a conv output
is channel-major) and sum(g * x_hat) and sum(x_hat^2) are row dot products (einsum), with
no full-size product array.
layer_norm's fused version is the same closed form with the statistics per row (over the
normalized axes) instead of per channel; the composition records 11 nodes per call, a GPT
calls it 2 L + 1 times a step and once per block per decoded token.
The reference starts with them on; a learner's own package (version `+own`) starts with
them off, so a capstone trains through the learner's code. `use_fast_paths(False)` forces
the compositions (the tests compare both, values and gradients). The switch and its worker
threads (layer_norm's rows) are tt_tensor.FastPathSwitch.
"""

import math

import numpy as np
from tt_tensor import FastPathSwitch, Function

from ._version import __version__

_switch = FastPathSwitch("tt_normalization", __version__)  # on for the reference, off for +own
_CHUNK = 1 << 15  # elements per worker below which a thread costs more than it saves
_ROW = 4096  # longest row einsum sums with float32 accumulation; longer: NumPy's pairwise sum
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "the fused batch_norm (training, with a graph) and layer_norm", "layer_norm's rows")


def _over_rows(fn, rows, size):
    """fn(lo, hi) over [0, rows) in one chunk per worker thread when there are `size`
    elements or more per worker (NumPy releases the GIL in its loops), else fn(0, rows)."""
    _switch.run_chunks(fn, rows, size, _CHUNK)


def _rows(a):
    """a (N, C, ...) as a 3-D view of rows of contiguous values and the axis of C in it:
    (N, C, M) with axis 1 for a C-contiguous array, (C, N, M) with axis 0 for a channel-major
    one (a conv output viewed (N, C, ...)); None when neither is a view."""
    if a.flags.c_contiguous:
        return a.reshape(a.shape[0], a.shape[1], -1), 1
    swapped = a.swapaxes(0, 1)
    if swapped.flags.c_contiguous:
        return swapped.reshape(a.shape[1], a.shape[0], -1), 0
    return None, None


def _channel_sum(a, shape):
    """Sum over every axis but 1, shaped `shape` (1, C, 1, ...): each row of contiguous
    values summed by einsum's loop (rows up to _ROW values: float32 stays exact enough), then
    the (N, C) row sums by NumPy's pairwise sum. Faster than NumPy's reduction over axes
    (0, 2, 3) at once, and as accurate."""
    rows, axis = _rows(a)
    if rows is None or rows.shape[2] > _ROW:
        return a.sum(axis=(0,) + tuple(range(2, a.ndim))).reshape(shape)
    return np.einsum("ijm->ij", rows).sum(axis=1 - axis).reshape(shape)


def _channel_dot(a, b, shape):
    """sum(a * b) over every axis but 1, shaped `shape`, without the full-size product:
    einsum's row dot products, then the (N, C) of them summed as in _channel_sum."""
    (rows_a, axis), (rows_b, axis_b) = _rows(a), _rows(b)
    if rows_a is None or axis != axis_b or rows_a.shape[2] > _ROW:  # the product, summed
        return _channel_sum(np.multiply(a, b), shape)
    return np.einsum("ijm,ijm->ij", rows_a, rows_b).sum(axis=1 - axis).reshape(shape)


class BatchNormTrain(Function):
    """batch_norm(x[, weight, bias]) with batch statistics, as one node; attrs eps, affine.

    ctx.mean and ctx.var (biased) are the batch statistics, shaped (1, C, 1, ...), for the
    caller's running-statistics update."""

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, eps, shape):
        n = x.size // x.shape[1]                                     # values per channel
        mean = _channel_sum(x, shape) / n                            # (1, C, 1, ...)
        x_hat = x - mean                                            # (N, C, ...), fresh
        var = _channel_dot(x_hat, x_hat, shape) / n                 # biased
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat *= inv_std
        y = x_hat * weight.reshape(shape) if weight is not None else x_hat.copy()
        if bias is not None:
            y += bias.reshape(shape)
        ctx.x_hat, ctx.inv_std, ctx.weight = x_hat, inv_std, weight
        ctx.mean, ctx.var, ctx.count = mean, var, n
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, n, weight = ctx.x_hat, ctx.count, ctx.weight
        shape = ctx.inv_std.shape
        d_bias = _channel_sum(grad, shape)                          # (1, C, 1, ...)
        d_weight = _channel_dot(grad, x_hat, shape)
        scale = ctx.inv_std if weight is None else ctx.inv_std * weight.reshape(shape)
        d_x = x_hat * (d_weight / n)
        np.subtract(grad, d_x, out=d_x)
        d_x -= d_bias / n
        d_x *= scale
        grads = [d_x]
        if weight is not None:
            grads.append(d_weight.reshape(weight.shape))
        if ctx.has_bias:
            grads.append(d_bias.reshape(-1))
        return tuple(grads)


def _row_mean(rows):
    """(R, M) -> (R, 1) means by einsum's loop, about 2x faster than NumPy's reduction over a
    short last axis (M = 128), and safe in worker threads (a BLAS matrix-vector product would
    start BLAS's own threads from each worker)."""
    if rows.size >= _CHUNK:
        return np.einsum("ij->i", rows)[:, None] / rows.shape[1]
    if rows.dtype.kind != "f" or rows.dtype == np.float16:
        return rows.mean(axis=1, keepdims=True)
    # a few rows (decoding): einsum's setup costs more than it saves, and so does the Python
    # wrapper of ndarray.mean; these are its own two steps, so the bits are the same
    total = np.add.reduce(rows, axis=1, keepdims=True)
    return np.true_divide(total, np.intp(rows.shape[1]), out=total, casting="unsafe")


class LayerNormRows(Function):
    """layer_norm(x[, weight[, bias]]) over the last `k` axes as one node (attrs eps, k).

    Each row (the k normalized axes flattened, M values) is normalized on its own:
    x_hat = (x - mean) / sqrt(var + eps), y = x_hat * weight + bias, and backward is

        dx = (gw - mean(gw) - x_hat * mean(gw * x_hat)) / std,   gw = g * weight
        dweight = sum over rows of g * x_hat,   dbias = sum over rows of g

    Rows are independent, so both passes run over row chunks on worker threads (_over_rows).
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, eps, k):
        M = math.prod(x.shape[x.ndim - k:])  # an int; np.prod costs more than a row
        rows = x.reshape(-1, M)                                     # (R, M), a view if it can
        x_hat = np.empty(rows.shape, dtype=np.result_type(rows, np.float32))
        params = [p.reshape(M) for p in (weight, bias) if p is not None]
        y = np.empty(rows.shape, dtype=np.result_type(x_hat, *params))
        inv_std = np.empty((len(rows), 1), dtype=x_hat.dtype)

        def normalize(lo, hi):
            xh = x_hat[lo:hi]
            np.subtract(rows[lo:hi], _row_mean(rows[lo:hi]), out=xh)
            var = np.einsum("ij,ij->i", xh, xh)[:, None] / M      # biased, no (R, M) square
            np.divide(1.0, np.sqrt(var + eps), out=inv_std[lo:hi])
            xh *= inv_std[lo:hi]
            if weight is not None:
                np.multiply(xh, params[0], out=y[lo:hi])
            else:
                y[lo:hi] = xh
            if bias is not None:
                y[lo:hi] += params[-1]

        _over_rows(normalize, len(rows), rows.size)
        ctx.x_hat, ctx.inv_std, ctx.weight, ctx.has_bias = x_hat, inv_std, weight, bias is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.x_hat, ctx.inv_std, ctx.weight
        M = x_hat.shape[1]
        g = grad.reshape(-1, M)                                     # (R, M)
        d_x = np.empty(x_hat.shape, dtype=np.result_type(g, x_hat))

        def rows_grad(lo, hi):
            gw = g[lo:hi] * weight.reshape(M) if weight is not None else g[lo:hi]
            xh, out = x_hat[lo:hi], d_x[lo:hi]
            mean_gwx = np.einsum("ij,ij->i", gw, xh)[:, None] / M  # (rows, 1)
            np.multiply(xh, mean_gwx, out=out)
            np.subtract(gw, out, out=out)
            out -= _row_mean(gw)
            out *= inv_std[lo:hi]

        _over_rows(rows_grad, len(g), g.size)
        grads = [d_x.reshape(grad.shape)]
        if weight is not None:
            grads.append(np.einsum("ij,ij->j", g, x_hat).reshape(weight.shape))
        if ctx.has_bias:
            grads.append(np.einsum("ij->j", g).reshape(weight.shape))
        return tuple(grads)

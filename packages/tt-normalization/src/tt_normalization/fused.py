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

Both directions work channel by channel: a channel's statistics need only its own values,
so the channels are cut into one chunk per worker thread (NumPy releases the GIL in its
loops), and each chunk is walked in groups of channels small enough to stay in the cache
while the few passes over them run (sum, centre, sum of squares, scale and shift; in
backward centre again, the two sums, the closed form). The sums read rows of contiguous
values in the input's own layout (a conv output is channel-major; the output and the
gradient keep that layout) and sum(g * (x - mean)) and sum((x - mean)^2) are row dot
products (einsum), with no full-size product array. Nothing full-size is kept for backward
beyond the input x: backward centres it again, and x_hat * mean(g * x_hat) is
(x - mean) * sum(g * (x - mean)) / (n var). No scratch array either: the centred values are
written into the output (forward) or the input gradient (backward) and finished in place.
layer_norm's fused version is the same closed form with the statistics per row (over the
normalized axes) instead of per channel; the composition records 11 nodes per call, a GPT
calls it 2 L + 1 times a step and once per block per decoded token.
The reference starts with them on; a learner's own package (version `+own`) starts with
them off, so a capstone trains through the learner's code. `use_fast_paths(False)` forces
the compositions (the tests compare both, values and gradients, on 1 and 3 threads). The
switch and its worker threads (batch_norm's channels, layer_norm's rows) are
tt_tensor.FastPathSwitch.
"""

import math

import numpy as np
from tt_tensor import FastPathSwitch, Function

from ._version import __version__

_switch = FastPathSwitch("tt_normalization", __version__)  # on for the reference, off for +own
_CHUNK = 1 << 15  # elements per worker below which a thread costs more than it saves
# layer_norm's rows: a GPT block's (12, 64, 128) activations ran slower on 2 workers than on
# one (the whole TinyGPT step 1.06-1.08x the time, idle 2-core machine, paired runs), so a
# worker takes at least this many elements
_ROWS_CHUNK = 1 << 17
_ROW = 4096  # longest row einsum sums with float32 accumulation; longer: NumPy's pairwise sum
_GROUP = 1 << 20  # elements of a group of channels: few NumPy calls, and it stays in L3 cache
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "the fused batch_norm (training, with a graph) and layer_norm",
    "batch_norm's channels and layer_norm's rows")


def _over_rows(fn, rows, size):
    """fn(lo, hi) over [0, rows) in one chunk per worker thread when there are _ROWS_CHUNK
    elements or more per worker (NumPy releases the GIL in its loops), else fn(0, rows)."""
    _switch.run_chunks(fn, rows, size, _ROWS_CHUNK)


def _channel_rows(a):
    """(a, its (C, N, M) view), M the values of one sample in one channel: each (c, n) row
    holds M contiguous values when a (N, C, ...) is C-contiguous or channel-major (a conv
    output: a (C, N, ...) array viewed as (N, C, ...)); another layout is copied first (the
    copy is the first value). np.empty_like of the first value has the same layout."""
    N, C = a.shape[:2]
    if not a.flags.c_contiguous and a.swapaxes(0, 1).flags.c_contiguous:
        return a, a.swapaxes(0, 1).reshape(C, N, -1)
    a = np.ascontiguousarray(a)
    return a, a.reshape(N, C, -1).swapaxes(0, 1)


def _sums(v):
    """(c, N, M) -> (c,): each channel's sum. einsum sums each row of M contiguous values
    (float32 accumulation stays exact enough up to _ROW values), NumPy's pairwise sum the N
    row sums; faster than one reduction over axes (1, 2), and as accurate."""
    if 8 <= v.shape[2] <= _ROW:
        return np.einsum("cnm->cn", v).sum(axis=1)
    return v.sum(axis=(1, 2))


def _dots(a, b):
    """(c, N, M) twice -> (c,): each channel's sum(a * b), as row dot products (no product
    array) summed as in _sums."""
    if 8 <= a.shape[2] <= _ROW:
        return np.einsum("cnm,cnm->cn", a, b).sum(axis=1)
    return np.multiply(a, b).sum(axis=(1, 2))


def _channel_groups(c0, c1, per_channel):
    """(lo, hi) over the channels [c0, c1) in groups of about _GROUP values (one channel at
    least): the passes over a group read it from the cache rather than from memory, with few
    enough NumPy calls per group that their own cost stays small."""
    step = max(1, _GROUP // max(per_channel, 1))
    for lo in range(c0, c1, step):
        yield lo, min(lo + step, c1)


def _per_channel(v):
    """(c,) -> (c, 1, 1), to broadcast over a group of (c, N, M) rows."""
    return v[:, None, None]


class BatchNormTrain(Function):
    """batch_norm(x[, weight, bias]) with batch statistics, as one node; attrs eps, shape.

    ctx.mean and ctx.var (biased) are the batch statistics, shaped `shape` (1, C, 1, ...),
    for the caller's running-statistics update. Forward and backward work on groups of
    channels, each in a few passes while it is in the cache, and the groups are cut over the
    worker threads (a channel's statistics need only its own values). Backward recomputes
    x_hat from x (an input: the engine refuses it if written since), so no full-size array is
    kept beyond the inputs.
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, eps, shape):
        if x.dtype.kind != "f":
            x = x.astype(np.float64)  # as the composition's mean of integers
        x, rows = _channel_rows(x)                                  # (C, N, M) view
        C, N, M = rows.shape
        n = N * M                                                   # values per channel
        w = weight.reshape(C) if weight is not None else None
        b = bias.reshape(C) if bias is not None else None
        y = np.empty_like(x, dtype=np.result_type(x, *(p for p in (w, b) if p is not None)))
        _, out = _channel_rows(y)                                   # laid out like x
        mean, var, inv_std = (np.empty(C, dtype=x.dtype) for _ in range(3))

        def normalize(c0, c1):
            for lo, hi in _channel_groups(c0, c1, n):
                centred = out[lo:hi]                                  # y, computed in place
                mean[lo:hi] = _sums(rows[lo:hi]) / n
                np.subtract(rows[lo:hi], _per_channel(mean[lo:hi]), out=centred)
                var[lo:hi] = _dots(centred, centred) / n                  # biased
                inv_std[lo:hi] = 1.0 / np.sqrt(var[lo:hi] + eps)
                scale = inv_std[lo:hi] if w is None else inv_std[lo:hi] * w[lo:hi]
                centred *= _per_channel(scale)
                if b is not None:
                    centred += _per_channel(b[lo:hi])

        _switch.run_chunks(normalize, C, rows.size, _CHUNK)
        ctx.x, ctx.rows, ctx.weight, ctx.has_bias = x, rows, w, b is not None
        ctx.mean, ctx.var, ctx.inv_std = mean.reshape(shape), var.reshape(shape), inv_std
        return y

    @staticmethod
    def backward(ctx, grad):
        rows, w, mean, inv_std = ctx.rows, ctx.weight, ctx.mean.reshape(-1), ctx.inv_std
        C, N, M = rows.shape
        n = N * M
        _, g_rows = _channel_rows(grad)                             # (C, N, M), its own layout
        d_x = np.empty_like(ctx.x, dtype=np.result_type(grad, rows))  # laid out like x
        _, dx_rows = _channel_rows(d_x)
        d_weight, d_bias = (np.empty(C, dtype=d_x.dtype) for _ in range(2))

        def rows_grad(c0, c1):
            # dx = w / std * (g - mean(g) - x_hat * mean(g * x_hat)), per channel, with
            # x_hat * mean(g * x_hat) = (x - mean) * sum(g * (x - mean)) / (n var)
            for lo, hi in _channel_groups(c0, c1, n):
                g, inv, d = g_rows[lo:hi], inv_std[lo:hi], dx_rows[lo:hi]
                np.subtract(rows[lo:hi], _per_channel(mean[lo:hi]), out=d)  # x - mean
                d_bias[lo:hi], d_weight[lo:hi] = _sums(g), _dots(g, d) * inv
                d *= _per_channel(inv * d_weight[lo:hi] / -n)
                d += g
                d -= _per_channel(d_bias[lo:hi] / n)
                d *= _per_channel(inv if w is None else inv * w[lo:hi])

        _switch.run_chunks(rows_grad, C, rows.size, _CHUNK)
        grads = [d_x]
        if w is not None:
            grads.append(d_weight)
        if ctx.has_bias:
            grads.append(d_bias)
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

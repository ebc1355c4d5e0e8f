"""Fast paths: conv2d and max_pool2d as one graph node each (tt_tensor.Function).

The functions in functional.py are the lesson: compositions of primitives that tt-autograd
differentiates as written. When a graph is recorded, conv2d and max_pool2d take these fused
versions instead. They do the same arithmetic in the same layout (im2col columns
(C*KH*KW, B*OH*OW), window offsets first for pooling) with the gradient written beside the
forward, which saves what the composition cannot:

- conv2d: no separate bias node (the bias is added in place), no d(cols) and col2im when the
  input needs no gradient (the first layer's images), and col2im writes each offset's
  gradient straight into the padded input gradient;
- max_pool2d: no dense mask and no kept window stack: which window offset won is kept, one
  byte per output, and backward writes the gradient through one strided view per offset
  (no reshape, permute and pad nodes in between);
- one layout: max_pool2d's results follow its input's layout and col2im writes channel-major,
  like the conv outputs, so conv -> batch norm -> ReLU -> pool and back never transposes;
- both: the two big copies (im2col and col2im, the window stack and its scatter) are split
  over channel chunks run on worker threads. NumPy releases the GIL inside its copy and add
  loops, so with 2 threads both cores work where the composition keeps one busy.

The reference starts with them on; a learner's own package (version `+own`) starts with them
off, so a capstone trains through the learner's conv2d and max_pool2d.
`use_fast_paths(False)` forces the plain compositions everywhere (the tests compare both, in
values and gradients); `use_fast_paths(True, threads=n)` sets the worker threads (default:
OMP_NUM_THREADS, else OPENBLAS_NUM_THREADS, else 1). The switch and its threads are
tt_tensor.FastPathSwitch.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tt_tensor import FastPathSwitch, Function

from ._version import __version__

_switch = FastPathSwitch("tt_spatial", __version__)  # on for the reference, off for +own
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "the fused conv2d and max_pool2d (with a graph)", "the im2col and col2im copies")


def _over_chunks(fn, n):
    """fn(start, stop) over [0, n) split into one chunk per worker thread (inline for one)."""
    _switch.run_chunks(fn, n)


def _windows(x, kernel, stride, padding, pad_value):
    """The padded input and its windows, a view (B, C, OH, OW, KH, KW)."""
    (ph, pw), (sh, sw) = padding, stride
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    windows = sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::sh, ::sw]
    return x.shape, windows


def _channel_major(x):
    """True when a (B, C, ...) array keeps each channel's batch together in memory (a conv
    output is a (C, B, ...) array viewed as (B, C, ...)); its results are then laid out alike."""
    return x.shape[0] > 1 and x.strides[1] > x.strides[0]


def _empty(shape, channel_major, dtype, zero=False):
    """A (B, C, ...) array, stored (C, B, ...) when channel_major (a transposed view)."""
    make = np.zeros if zero else np.empty
    if not channel_major:
        return make(shape, dtype=dtype)
    return make((shape[1], shape[0], *shape[2:]), dtype=dtype).swapaxes(0, 1)


def _scatter(pieces, padded_shape, kernel, stride, padding, dtype):
    """col2im: add pieces[i, j] (B, C, OH, OW) where window offset (i, j) read from, then crop
    the padding: the gradient (B, C, H, W) of the input, stored channel-major like the conv
    outputs (pieces come from (C*KH*KW, B*OH*OW) columns, so both sides then read alike and
    the layers before get one layout). Threads split the channels."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    grad = _empty(padded_shape, True, dtype, zero=True)
    OH, OW = pieces.shape[-2:]

    def add(c0, c1):
        for i in range(kh):
            for j in range(kw):
                target = grad[:, c0:c1, i:i + sh * (OH - 1) + 1:sh, j:j + sw * (OW - 1) + 1:sw]
                target += pieces[i, j, :, c0:c1]

    _over_chunks(add, padded_shape[1])
    H, W = padded_shape[2] - 2 * ph, padded_shape[3] - 2 * pw
    return grad[:, :, ph:ph + H, pw:pw + W]


class Conv2dIm2col(Function):
    """conv2d(x, weight[, bias]) as one node; attrs stride, padding, input_grad."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, padding, input_grad):
        OC, C, KH, KW = weight.shape
        padded_shape, windows = _windows(x, (KH, KW), stride, padding, 0.0)
        B, _, OH, OW = windows.shape[:4]
        cols = np.empty((C, KH, KW, B, OH, OW), dtype=np.result_type(x, weight))
        source = windows.transpose(1, 4, 5, 0, 2, 3)                # (C, KH, KW, B, OH, OW)

        def copy(c0, c1):
            cols[c0:c1] = source[c0:c1]

        _over_chunks(copy, C)
        cols = cols.reshape(C * KH * KW, B * OH * OW)
        out = weight.reshape(OC, -1) @ cols                          # (OC, B*OH*OW)
        if bias is not None:
            out += bias.reshape(OC, 1)
        ctx.cols, ctx.weight, ctx.has_bias = cols, weight, bias is not None
        ctx.geometry = (padded_shape, (KH, KW), stride, padding, (B, OH, OW))
        ctx.input_grad = input_grad
        return out.reshape(OC, B, OH, OW).transpose(1, 0, 2, 3)     # (B, OC, OH, OW), a view

    @staticmethod
    def backward(ctx, grad):
        padded_shape, kernel, stride, padding, (B, OH, OW) = ctx.geometry
        weight = ctx.weight
        OC, C = weight.shape[:2]
        g = grad.transpose(1, 0, 2, 3).reshape(OC, B * OH * OW)    # (OC, B*OH*OW)
        d_weight = (g @ ctx.cols.T).reshape(weight.shape)
        d_x = None
        if ctx.input_grad:
            d_cols = weight.reshape(OC, -1).T @ g                  # (C*KH*KW, B*OH*OW)
            pieces = d_cols.reshape(C, *kernel, B, OH, OW).transpose(1, 2, 3, 0, 4, 5)
            d_x = _scatter(pieces, padded_shape, kernel, stride, padding, grad.dtype)
        if ctx.has_bias:
            return d_x, d_weight, g.sum(axis=1)
        return d_x, d_weight


class MaxPool2dWindows(Function):
    """max_pool2d(x) as one node; attrs kernel, stride, padding. Ties: the first maximum of
    each window (in row-major window order), as the plain path and PyTorch do.

    No dense mask: forward keeps only which window offset won in each window (one byte per
    output, from a running maximum over the stacked offsets), and backward writes the
    gradient times "this offset won" through one strided view of the input gradient per
    offset (a select instead when the gradient holds an inf or nan)."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding):
        padded_shape, windows = _windows(x, kernel, stride, padding, -np.inf)
        B, C, OH, OW = windows.shape[:4]
        kh, kw = kernel
        layout = _channel_major(x)  # results laid out like x: passes over both read alike
        stack = np.empty((kh * kw, B, C, OH, OW), dtype=x.dtype) if not layout else (
            np.empty((kh * kw, C, B, OH, OW), dtype=x.dtype).swapaxes(1, 2))
        stack = stack.reshape(kh, kw, B, C, OH, OW)                 # window offsets first
        source = windows.transpose(4, 5, 0, 1, 2, 3)
        out = _empty((B, C, OH, OW), layout, x.dtype)
        won = _empty((B, C, OH, OW), layout, np.uint8 if kh * kw < 255 else np.int32, True)

        def pool(c0, c1):
            stack[:, :, :, c0:c1] = source[:, :, :, c0:c1]
            part = stack[:, :, :, c0:c1].reshape(kh * kw, B, c1 - c0, OH, OW)  # a view
            best, arg = out[:, c0:c1], won[:, c0:c1]
            best[...] = part[0]
            later = np.empty_like(arg)                             # laid out like arg
            for k in range(1, len(part)):
                # k won if strictly above everything before it (ties: the first stays);
                # k exceeds every earlier index, so a running max keeps the last winner
                np.multiply(part[k] > best, arg.dtype.type(k), out=later)
                np.maximum(arg, later, out=arg)
                np.maximum(best, part[k], out=best)               # nan propagates, as max
            nan = np.isnan(best)
            if nan.any():  # no entry equals a nan maximum: no gradient, as in the plain path
                arg[nan] = np.iinfo(arg.dtype).max

        _over_chunks(pool, C)
        ctx.won, ctx.layout = won, layout
        ctx.geometry = (padded_shape, kernel, stride, padding)
        return out

    @staticmethod
    def backward(ctx, grad):
        padded_shape, (kh, kw), (sh, sw), (ph, pw) = ctx.geometry
        OH, OW = grad.shape[2:]
        d_x = _empty(padded_shape, ctx.layout, grad.dtype, zero=True)  # laid out like x
        zero = np.zeros((), dtype=grad.dtype)
        overlap = sh < kh or sw < kw
        finite = np.isfinite(grad).all()  # else select: inf * 0 = nan on the other entries

        def scatter(c0, c1):
            won, g = ctx.won[:, c0:c1], grad[:, c0:c1]
            for k in range(kh * kw):
                i, j = divmod(k, kw)
                view = d_x[:, c0:c1, i:i + sh * (OH - 1) + 1:sh, j:j + sw * (OW - 1) + 1:sw]
                if not finite:
                    piece = np.where(won == k, g, zero)
                elif overlap:
                    piece = np.multiply(g, won == k)  # a multiply: several x faster than where
                else:  # each position is in one window at most: written in place
                    np.multiply(g, won == k, out=view)
                    continue
                if overlap:  # a position may sit in several windows: add
                    view += piece
                else:
                    view[...] = piece

        _over_chunks(scatter, padded_shape[1])
        H, W = padded_shape[2] - 2 * ph, padded_shape[3] - 2 * pw
        return d_x[:, :, ph:ph + H, pw:pw + W]

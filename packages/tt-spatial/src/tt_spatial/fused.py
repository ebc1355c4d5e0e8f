"""Fast paths: conv2d and max_pool2d as one graph node each (tt_tensor.Function).

The functions in functional.py are the lesson: compositions of primitives that tt-autograd
differentiates as written. When a graph is recorded, conv2d and max_pool2d take these fused
versions instead; conv2d also takes its fused forward without a graph (evaluation: its im2col
copies then run on the worker threads, and no node is made). They do the same arithmetic in
the same layout (im2col columns (C*KH*KW, B*OH*OW), window offsets first for pooling) with
the gradient written beside the forward, which saves what the composition cannot:

- conv2d: no separate bias node (the bias is added in place), no d(cols) and col2im when the
  input needs no gradient (the first layer's images), and col2im writes each offset's
  gradient straight into the padded input gradient;
- conv2d in batch chunks of at most about 16 MiB of columns: no whole-batch column matrix
  (151 MB for one ResNet-9 conv at batch 256) is made, nor kept from forward to backward,
  which makes each chunk's columns again from the input (a batch of one chunk keeps them);
- max_pool2d: no dense mask and no kept window stack: which window offset won is kept, one
  byte per output, and backward writes the gradient through one strided view per offset
  (no reshape, permute and pad nodes in between), pooled in blocks of channels of
  about 1 MiB of window stack, so each pass reads what the last one left in the cache;
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


# A batch chunk's im2col columns take at most about this many bytes (one image at least).
# Below glibc's mmap threshold as tt_setup.tune_allocator sets it (32 MiB), so a step's
# buffers are reused heap memory instead of fresh pages; few chunks, since on a loaded machine
# every 2-thread GEMM call waits for both BLAS threads to be scheduled.
_CHUNK_BYTES = 16 << 20
# With two or more threads the chunks are this large instead: on the idle 2-core machine the
# ResNet-9 step at batch 256 took a median 1.45-1.51 s with 16 MiB chunks against 1.15-1.27 s
# unchunked (every chunk's GEMM waits for both BLAS threads), so there chunking is only a
# memory guard for batches far beyond the capstones'.
_CHUNK_BYTES_THREADED = 256 << 20


def _batch_chunks(lo, hi, per_image):
    """[lo, hi) cut into near-equal runs of images whose columns take about _CHUNK_BYTES
    (_CHUNK_BYTES_THREADED with two or more worker threads)."""
    limit = _CHUNK_BYTES if _switch.threads == 1 else _CHUNK_BYTES_THREADED
    pieces = max(1, min(hi - lo, -(-(hi - lo) * per_image // limit)))
    edges = [lo + (hi - lo) * i // pieces for i in range(pieces + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _pad_into(target, source, ph, pw):
    """target (.., H + 2PH, W + 2PW) = source (.., H, W) with a zero border."""
    H, W = source.shape[-2:]
    target[..., :ph, :] = 0
    target[..., ph + H:, :] = 0
    target[..., ph:ph + H, :pw] = 0
    target[..., ph:ph + H, pw + W:] = 0
    target[..., ph:ph + H, pw:pw + W] = source


class _Columns:
    """im2col of x's batch chunks into one reused buffer: columns(b0, b1) is the
    (C*KH*KW, (b1-b0)*OH*OW) matrix of images b0..b1 (rows (c, i, j), columns (b, oh, ow)),
    a view of the buffer, overwritten by the next call. The copies run over channel ranges
    on the worker threads."""

    def __init__(self, x, kernel, stride, padding, images, dtype):
        _, C, H, W = x.shape
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        self.x, self.kernel, self.stride, self.padding = x, kernel, stride, padding
        self.out_hw = ((H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)
        self.sizes = (C * kh * kw * self.out_hw[0] * self.out_hw[1] * images,
                      C * images * (H + 2 * ph) * (W + 2 * pw) if ph or pw else 0)
        self.dtype, self.buffer, self.padded = dtype, None, None

    def __call__(self, b0, b1):
        n, (_, C, H, W) = b1 - b0, self.x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        OH, OW = self.out_hw
        if self.buffer is None:  # made at the first call: a backward that keeps forward's
            self.buffer = np.empty(self.sizes[0], self.dtype)       # columns needs none
            self.padded = np.empty(self.sizes[1], self.dtype) if self.sizes[1] else None
        source = self.x[b0:b1].transpose(1, 0, 2, 3)                  # (C, n, H, W), a view
        if self.padded is not None:
            padded = self.padded[:C * n * (H + 2 * ph) * (W + 2 * pw)]
            padded = padded.reshape(C, n, H + 2 * ph, W + 2 * pw)
        cols = self.buffer[:C * kh * kw * n * OH * OW].reshape(C, kh, kw, n, OH, OW)

        def copy(c0, c1):
            part = source[c0:c1]
            if self.padded is not None:
                _pad_into(padded[c0:c1], part, ph, pw)
                part = padded[c0:c1]
            windows = sliding_window_view(part, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
            cols[c0:c1] = windows.transpose(0, 4, 5, 1, 2, 3)          # (c, KH, KW, n, OH, OW)

        _over_chunks(copy, C)
        return cols.reshape(C * kh * kw, n * OH * OW)


def _over_batch(work, x, kernel, stride, padding, dtype):
    """[work(columns, b0, b1) for each cache-sized batch chunk (b0, b1) of x], in turn: the
    copies of a chunk's columns (`columns(b0, b1)`, made just before its GEMMs read them) split
    over the worker threads by channel, its GEMMs on BLAS's threads."""
    B, C = x.shape[:2]
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = (x.shape[2] + 2 * ph - kh) // sh + 1, (x.shape[3] + 2 * pw - kw) // sw + 1
    chunks = _batch_chunks(0, B, C * kh * kw * OH * OW * np.dtype(dtype).itemsize)
    columns = _Columns(x, kernel, stride, padding, max(b1 - b0 for b0, b1 in chunks), dtype)
    return [work(columns, b0, b1) for b0, b1 in chunks]


def _col2im_into(d_padded, d_cols, kernel, stride):
    """col2im: add each row block (c, i, j) of d_cols (C*KH*KW, n*OH*OW) where window offset
    (i, j) read from, into d_padded (C, n, H + 2PH, W + 2PW); threads split the channels."""
    C, n = d_padded.shape[:2]
    (kh, kw), (sh, sw) = kernel, stride
    OH, OW = (d_padded.shape[2] - kh) // sh + 1, (d_padded.shape[3] - kw) // sw + 1
    pieces = d_cols.reshape(C, kh, kw, n, OH, OW)

    def add(c0, c1):
        for i in range(kh):
            for j in range(kw):
                rows = slice(i, i + sh * (OH - 1) + 1, sh)
                cols = slice(j, j + sw * (OW - 1) + 1, sw)
                d_padded[c0:c1, :, rows, cols] += pieces[c0:c1, i, j]

    _over_chunks(add, C)


class Conv2dIm2col(Function):
    """conv2d(x, weight[, bias]) as one node; attrs stride, padding, input_grad.

    Batch chunks: forward and backward run over chunks of the batch whose im2col columns take
    at most about _CHUNK_BYTES, instead of one (C*KH*KW, B*OH*OW) matrix of the whole batch
    (hundreds of MB at batch 256). When the whole batch is one chunk, its columns are kept
    for backward, as the composition keeps them; otherwise backward makes each chunk's
    columns again from the input (one more copy; no whole-batch matrix is kept)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, padding, input_grad):
        OC, C, KH, KW = weight.shape
        B, _, H, W = x.shape
        (ph, pw), (sh, sw) = padding, stride
        OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
        dtype = np.result_type(x, weight)
        out = np.empty((OC, B * OH * OW), dtype=dtype)               # (OC, B*OH*OW)
        matrix, P = weight.reshape(OC, -1), OH * OW

        def chunk(columns, b0, b1):
            cols = columns(b0, b1)                                    # (C*KH*KW, n*OH*OW)
            part = out[:, b0 * P:b1 * P]                              # (OC, n*OH*OW), a view
            np.matmul(matrix, cols, out=part)
            if bias is not None:
                part += bias.reshape(OC, 1)
            return cols

        made = _over_batch(chunk, x, (KH, KW), stride, padding, dtype)
        ctx.cols = made[0] if len(made) == 1 else None               # one chunk: kept
        ctx.x, ctx.weight, ctx.has_bias = x, weight, bias is not None
        ctx.geometry = ((KH, KW), stride, padding, (OH, OW))
        ctx.input_grad = input_grad
        return out.reshape(OC, B, OH, OW).transpose(1, 0, 2, 3)     # (B, OC, OH, OW), a view

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, (ph, pw), (OH, OW) = ctx.geometry
        x, weight = ctx.x, ctx.weight
        (B, C, H, W), OC, P = x.shape, weight.shape[0], OH * OW
        g = grad.transpose(1, 0, 2, 3).reshape(OC, B * P)         # (OC, B*OH*OW)
        matrix = weight.reshape(OC, -1)
        d_padded = None
        if ctx.input_grad:  # stored channel-major, like the conv outputs: (C, B, H+2PH, W+2PW)
            d_padded = np.zeros((C, B, H + 2 * ph, W + 2 * pw), dtype=grad.dtype)

        def chunk(columns, b0, b1):
            part = g[:, b0 * P:b1 * P]                                # (OC, n*OH*OW), a view
            cols = ctx.cols if ctx.cols is not None else columns(b0, b1)
            # (OC, C*KH*KW) as the transpose of cols @ part.T: OpenBLAS runs the product over
            # the long n*OH*OW axis faster this way round (ResNet-9's shapes 1.1-1.5x, one
            # product at a time; the CNN step 0.98x the time at 1 and at 2 threads)
            d_weight = (cols @ part.T).T
            if d_padded is not None:
                d_cols = matrix.T @ part                              # (C*KH*KW, n*OH*OW)
                _col2im_into(d_padded[:, b0:b1], d_cols, kernel, stride)
            return d_weight

        dtype = np.result_type(x, weight)
        d_weights = _over_batch(chunk, x, kernel, stride, (ph, pw), dtype)
        d_weight = sum(d_weights[1:], d_weights[0]).reshape(weight.shape)
        d_x = None
        if d_padded is not None:
            d_x = d_padded.swapaxes(0, 1)[:, :, ph:ph + H, pw:pw + W]   # (B, C, H, W), a view
        if ctx.has_bias:
            return d_x, d_weight, g.sum(axis=1)
        return d_x, d_weight


# max_pool2d's passes (a window stack, then a compare, a multiply and two maxima per window
# offset; backward a compare and a multiply per offset) run over blocks of channels whose
# arrays take about this many bytes: each pass then reads what the one before left in the
# cache (L2 is 1 MiB a core here)
_POOL_BLOCK_BYTES = 1 << 20


def _in_blocks(fn, per_channel):
    """fn(c0, c1) made to run over [c0, c1) in blocks of channels whose work arrays take
    about _POOL_BLOCK_BYTES (one channel at least), so each block's passes hit the cache."""
    step = max(1, _POOL_BLOCK_BYTES // per_channel)

    def blocked(c0, c1):
        for lo in range(c0, c1, step):
            fn(lo, min(lo + step, c1))

    return blocked


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
        source = windows.transpose(4, 5, 0, 1, 2, 3)                # (KH, KW, B, C, OH, OW)
        out = _empty((B, C, OH, OW), layout, x.dtype)
        won = _empty((B, C, OH, OW), layout, np.uint8 if kh * kw < 255 else np.int32, True)

        def pool(c0, c1):
            # this block's window stack, offsets first, laid out like x (a temporary)
            blocks = (kh, kw, c1 - c0, B, OH, OW) if layout else (kh, kw, B, c1 - c0, OH, OW)
            stack = np.empty(blocks, dtype=x.dtype)
            stack = stack.swapaxes(2, 3) if layout else stack      # (KH, KW, B, c, OH, OW)
            stack[...] = source[:, :, :, c0:c1]
            stack = stack.reshape(kh * kw, B, c1 - c0, OH, OW)     # a view
            best, arg = out[:, c0:c1], won[:, c0:c1]
            best[...] = stack[0]
            later = np.empty_like(arg)                             # laid out like arg
            for k in range(1, len(stack)):
                # k won if strictly above everything before it (ties: the first stays);
                # k exceeds every earlier index, so a running max keeps the last winner
                np.multiply(stack[k] > best, arg.dtype.type(k), out=later)
                np.maximum(arg, later, out=arg)
                np.maximum(best, stack[k], out=best)              # nan propagates, as max
            nan = np.isnan(best)
            if nan.any():  # no entry equals a nan maximum: no gradient, as in the plain path
                arg[nan] = np.iinfo(arg.dtype).max

        _over_chunks(_in_blocks(pool, B * OH * OW * kh * kw * x.itemsize), C)
        ctx.won, ctx.layout = won, layout
        ctx.geometry = (padded_shape, kernel, stride, padding)
        return out

    @staticmethod
    def backward(ctx, grad):
        padded_shape, (kh, kw), (sh, sw), (ph, pw) = ctx.geometry
        OH, OW = grad.shape[2:]
        if _channel_major(grad) != ctx.layout:
            # laid out unlike the input (a Linear's gradient after a flatten): one copy into
            # the input's layout first, so every pass below reads memory in order; passes
            # over the mixed layouts took 2.9 instead of 0.7 ms on (64, 64, 6, 6), 1 thread
            like_x = _empty(grad.shape, ctx.layout, grad.dtype)
            like_x[...] = grad
            grad = like_x
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

        per_channel = grad.shape[0] * OH * OW * (grad.itemsize + ctx.won.itemsize)
        _over_chunks(_in_blocks(scatter, kh * kw * per_channel), padded_shape[1])
        H, W = padded_shape[2] - 2 * ph, padded_shape[3] - 2 * pw
        return d_x[:, :, ph:ph + H, pw:pw + W]

"""Convolution and pooling as compositions of tt-tensor primitives.

Nothing here has a gradient rule: pad, sliding_window, permute, reshape, matmul, max and sum
are primitives, so tt-autograd differentiates these functions as they are written.
"""

import numpy as np
from tt_tensor import as_tensor, is_grad_enabled, pad, sliding_window

from .fused import Conv2dIm2col, MaxPool2dWindows, fast_paths_enabled


def _pair(value, name):
    """An int or a pair of ints as a (height, width) pair."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    pair = tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_4d(x, where):
    if x.ndim != 4:
        raise ValueError(f"{where}: expected a 4-D input (B, C, H, W), got shape {x.shape}")


def _output_size(size, kernel, stride, padding, where):
    """Output length of a window sweep: (size + 2 * padding - kernel) // stride + 1."""
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(
            f"{where}: kernel {kernel} and stride {stride} must be positive and "
            f"padding {padding} non-negative"
        )
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    if any(k > s for k, s in zip(kernel, padded)):
        raise ValueError(
            f"{where}: kernel {kernel} is larger than the padded input {padded} "
            f"(input {size}, padding {padding})"
        )
    return tuple((s - k) // st + 1 for s, k, st in zip(padded, kernel, stride))


def _pad_hw(x, padding, value=0.0):
    """Pad the last two axes of a (B, C, H, W) tensor by (ph, pw) on both sides."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), value)


def im2col(x, kernel_size, stride=1, padding=0):
    """Every receptive field of x as one column: (B, C, H, W) -> (C*KH*KW, B*OH*OW).

    Row c*KH*KW + i*KW + j, column b*OH*OW + oh*OW + ow holds
    x_padded[b, c, oh*SH + i, ow*SW + j]. The windows are a view; the final reshape copies
    them into the matrix, and with padding > 0 the padded input is one more copy.
    """
    x = as_tensor(x)
    _check_4d(x, "im2col")
    kh, kw = _pair(kernel_size, "kernel_size")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    B, C, H, W = x.shape
    OH, OW = _output_size((H, W), (kh, kw), stride, padding, "im2col")
    ### BEGIN SOLUTION
    x = _pad_hw(x, padding)                                # (B, C, H+2PH, W+2PW)
    windows = sliding_window(x, (kh, kw), stride)          # (B, C, OH, OW, KH, KW), a view
    # Channel and kernel offsets first, then batch and pixels: the copy below then moves whole
    # rows of OW neighbouring pixels, and the gradient's scatter-add reads them contiguously.
    cols = windows.permute(1, 4, 5, 0, 2, 3)               # (C, KH, KW, B, OH, OW)
    return cols.reshape(C * kh * kw, B * OH * OW)          # (C*KH*KW, B*OH*OW), copied
    ### END SOLUTION


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation, PyTorch's conv2d:

    out[b, o, i, j] = bias[o] + sum_{c, p, q} weight[o, c, p, q] * x_pad[b, c, i*SH+p, j*SW+q]

    x (B, C, H, W), weight (OC, C, KH, KW), bias (OC,) or None -> (B, OC, OH, OW),
    OH = (H + 2*PH - KH) // SH + 1. Computed as one matmul: weight (OC, C*KH*KW) @ im2col(x).
    """
    x, weight = as_tensor(x), as_tensor(weight)
    _check_4d(x, "conv2d")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (OC, C, KH, KW), got shape {weight.shape}")
    B, C, H, W = x.shape
    OC, WC, KH, KW = weight.shape
    if C != WC:
        raise ValueError(
            f"conv2d: input {x.shape} has {C} channels but weight {weight.shape} expects {WC}"
        )
    if bias is not None and tuple(as_tensor(bias).shape) != (OC,):
        raise ValueError(f"conv2d: bias must have shape ({OC},), got {as_tensor(bias).shape}")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    OH, OW = _output_size((H, W), (KH, KW), stride, padding, "conv2d")
    inputs = (x, weight) if bias is None else (x, weight, as_tensor(bias))
    if fast_paths_enabled():
        # fast path (fused.py, README): the same function as one graph node; without a graph
        # (evaluation) the same forward, its im2col copies on the worker threads, no node
        return Conv2dIm2col.apply(*inputs, stride=stride, padding=padding,
                                  input_grad=x.requires_grad)
    ### BEGIN SOLUTION
    cols = im2col(x, (KH, KW), stride, padding)            # (C*KH*KW, B*OH*OW)
    out = weight.reshape(OC, C * KH * KW) @ cols           # (OC, B*OH*OW)
    if bias is not None:
        out = out + as_tensor(bias).reshape(OC, 1)         # (OC, B*OH*OW)
    # A view, no copy: the data stays channel-major, which the next layer's im2col likes.
    return out.reshape(OC, B, OH, OW).permute(1, 0, 2, 3)  # (B, OC, OH, OW)
    ### END SOLUTION


def _take_fast_path(tensors):
    """The fused versions run when they are on and a graph is being recorded."""
    return (fast_paths_enabled() and is_grad_enabled()
            and any(t.requires_grad for t in tensors))


def _pool_geometry(x, kernel_size, stride, padding, where):
    """Checked (kernel, stride, padding) pairs and the output size (OH, OW) of a pooling."""
    _check_4d(x, where)
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{where}: padding {padding} must be at most half of kernel {kernel}")
    return kernel, stride, padding, _output_size(x.shape[2:], kernel, stride, padding, where)


def _pool_windows(x, kernel_size, stride, padding, where, pad_value):
    """The pooling windows of x stacked on a leading axis: (B, C, H, W) -> (KH*KW, B, C, OH, OW).

    windows[p*KW + q, b, c, i, j] = x_pad[b, c, i*SH + p, j*SW + q], where x_pad is x padded
    by (PH, PW) on both sides of its last two axes with `pad_value` (-inf for max, 0 for mean).
    The window offsets go in row-major order (p, then q): max_pool2d's gradient tie rule
    depends on it. `where` names the caller in error messages; the given code has checked the
    arguments. max_pool2d and avg_pool2d reduce this over axis 0.
    """
    x = as_tensor(x)
    kernel, stride, padding, (OH, OW) = _pool_geometry(x, kernel_size, stride, padding, where)
    B, C, H, W = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    ### BEGIN SOLUTION
    x = _pad_hw(x, padding, pad_value)                     # (B, C, H+2PH, W+2PW)
    windows = sliding_window(x, kernel, (sh, sw))          # (B, C, OH, OW, KH, KW), a view
    # Window offsets first: reducing over a leading axis is an elementwise sweep over long
    # rows; NumPy reducing over trailing axes of length 2 or 3 is ~30x slower.
    windows = windows.permute(4, 5, 0, 1, 2, 3)            # (KH, KW, B, C, OH, OW)
    return windows.reshape(kh * kw, B, C, OH, OW)          # (KH*KW, B, C, OH, OW), copied
    ### END SOLUTION


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each KH x KW window (stride defaults to kernel_size; padding is -inf).

    (B, C, H, W) -> (B, C, OH, OW), OH = (H + 2*PH - KH) // SH + 1.

    Gradient ties: where several entries of a window share its maximum, the whole gradient
    goes to the first of them in row-major order of the window (tt-autograd's max rule over
    the stacked offsets of _pool_windows), as PyTorch does.
    """
    x = as_tensor(x)
    if _take_fast_path((x,)):  # fast path (fused.py), as in conv2d
        kernel, stride, padding, _ = _pool_geometry(x, kernel_size, stride, padding,
                                                    "max_pool2d")
        return MaxPool2dWindows.apply(x, kernel=kernel, stride=stride, padding=padding)
    # Given: the task is the windows (_pool_windows); the reduction is one call.
    windows = _pool_windows(x, kernel_size, stride, padding, "max_pool2d", -np.inf)
    return windows.max(axis=0)                             # (B, C, OH, OW)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each KH x KW window (zero padding counted, PyTorch's count_include_pad).

    (B, C, H, W) -> (B, C, OH, OW), OH = (H + 2*PH - KH) // SH + 1.
    """
    windows = _pool_windows(x, kernel_size, stride, padding, "avg_pool2d", 0.0)
    return windows.mean(axis=0)                            # (B, C, OH, OW)


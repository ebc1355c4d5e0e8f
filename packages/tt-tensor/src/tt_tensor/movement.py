"""The movement primitives: ops that rearrange, select or pad elements without arithmetic.

Most of them return a *view*: a new tensor whose ndarray shares the input's memory (a new
shape, strides and offset over the same buffer), so they cost no copy. Which ones do, and
why it matters, is in COURSE.md, "Views and copies".
"""

import math

import numpy as np

from ._graph import Primitive as P
from ._helpers import dim_arg, plain_index
from .ops import primitive
from .tensor import Tensor, as_tensor, record


@primitive(P.RESHAPE)
def reshape(x, shape):
    """x's elements, in C order, in the new `shape` (ints, at most one -1, which is inferred to
    keep the element count): a view of x's data when NumPy can make one (always for a
    contiguous x), a copy otherwise. Recorded as op RESHAPE with attrs {"shape": the result's
    shape}.

    A shape that does not fit raises ValueError "reshape: cannot reshape a tensor of shape
    (2, 3) (6 elements) into (4, 2)"; so do two -1s and sizes below -1.
    See COURSE.md, "Views and copies".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    given = tuple(int(s) for s in shape)
    bad = ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                     f"({x.data.size} elements) into {given}")
    if given.count(-1) > 1 or any(s < -1 for s in given):
        raise bad
    known = math.prod(s for s in given if s != -1)
    if -1 in given:
        if known == 0 or x.data.size % known:
            raise bad
        given = tuple(x.data.size // known if s == -1 else s for s in given)
    elif known != x.data.size:
        raise bad
    return record(x.data.reshape(given), (x,), P.RESHAPE, {"shape": given})
    ### END SOLUTION


@primitive(P.PERMUTE)
def permute(x, axes):
    """x with its axes reordered, always a view: axis i of the result is axis axes[i] of x
    (negative axes count from the end); (2, 3, 4) permuted by (2, 0, 1) is (4, 2, 3).
    Recorded as op PERMUTE with attrs {"axes": the axes made non-negative}.

    The checks, in this order, each a ValueError naming the axes as given: the number of axes
    ("permute: (0, 1, 2) is not a permutation of the 2 axes of (2, 3)"), each axis's range, in
    order ("permute: dim 5 is out of range for a tensor with 2 dims"), then repeats, naming
    the first axis that repeats an earlier one ("permute: (0, -2) is not a permutation of the
    2 axes of (2, 3): axis -2 is repeated"). See COURSE.md, "Views and copies".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    given = tuple(int(a) for a in axes)
    bad = f"permute: {given} is not a permutation of the {x.ndim} axes of {x.shape}"
    if len(given) != x.ndim:
        raise ValueError(bad)
    axes = tuple(dim_arg(a, x.ndim, "permute") for a in given)
    for i, a in enumerate(axes):
        if a in axes[:i]:
            raise ValueError(f"{bad}: axis {given[i]} is repeated")
    return record(x.data.transpose(axes), (x,), P.PERMUTE, {"axes": axes})
    ### END SOLUTION


@primitive(P.BROADCAST_TO)
def broadcast_to(x, shape):
    """A read-only broadcast view of x with the given shape."""
    x = as_tensor(x)
    shape = tuple(int(s) for s in shape)
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(data, (x,), P.BROADCAST_TO, {"shape": shape})


@primitive(P.GETITEM)
def getitem(x, index):
    """x[index] with NumPy's indexing (ints, slices, None, Ellipsis, bool masks, integer arrays,
    Tensors as their arrays): basic indexes give a view, masks and integer arrays a copy.
    Recorded as op GETITEM with attrs {"index": the index, its Tensors made ndarrays}.
    An int on every axis (`x[1, 2]` of a 2-d x) is basic indexing too: a 0-d view, as in
    PyTorch (NumPy itself returns a scalar copy there; `a[1, 2, ...]` is its 0-d view).

    A bad index raises IndexError "getitem: index <index> is invalid for shape <shape>:
    <NumPy's reason>". See COURSE.md, "Views and copies".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    index = plain_index(index, Tensor)
    try:
        data = x.data[index]
        if not isinstance(data, np.ndarray):  # a scalar: ints on every axis; ... makes a view
            data = x.data[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {x.shape}: {err}") \
            from None
    return record(data, (x,), P.GETITEM, {"index": index})
    ### END SOLUTION


@primitive(P.PAD)
def pad(x, pad_width, value=0.0):
    """Constant padding; pad_width is NumPy's: an int, (before, after), or one pair per axis."""
    x = as_tensor(x)
    try:
        pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit shape {x.shape}") from None
    if (pairs < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    pairs = tuple((int(b), int(a)) for b, a in pairs)
    data = np.pad(x.data, pairs, mode="constant", constant_values=value)
    return record(data, (x,), P.PAD, {"pad_width": pairs, "value": value})


@primitive(P.SLIDING_WINDOW)
def sliding_window(x, window_shape, stride=1):
    """A read-only view of every window over x's last len(window_shape) axes: (..., H, W),
    window (KH, KW), stride s -> (..., OH, OW, KH, KW), OH = (H - KH) // s + 1, and
    out[..., i, j, p, q] = x[..., i*s + p, j*s + q]. stride: an int, or one per window axis.
    Attrs {"window_shape", "stride"}: tuples.

    Each a ValueError naming the value: a window size below 1 ("sliding_window: window
    (0, 2) needs sizes of at least 1"), a window larger than its axis or with more axes than
    x ("sliding_window: window (3, 4) does not fit the last axes of (2, 3)"; a window as large
    as its axis gives one window), a stride below 1 or not one per window axis
    ("sliding_window: stride 0 must be positive, one per window axis").
    See COURSE.md, "Views and copies".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    window = tuple(int(k) for k in window_shape)
    n = len(window)
    strides = (stride,) * n if isinstance(stride, (int, np.integer)) else tuple(stride)
    spatial = x.shape[x.ndim - n:]
    if n == 0 or any(k < 1 for k in window):
        raise ValueError(f"sliding_window: window {window} needs sizes of at least 1")
    if x.ndim < n or any(k > s for k, s in zip(window, spatial)):
        raise ValueError(
            f"sliding_window: window {window} does not fit the last axes of {x.shape}")
    if len(strides) != n or any(s < 1 for s in strides):
        raise ValueError(
            f"sliding_window: stride {stride!r} must be positive, one per window axis")
    out_sizes = tuple((s - k) // st + 1 for s, k, st in zip(spatial, window, strides))
    lead = x.data.strides[: x.ndim - n]  # bytes per step along the leading axes
    steps = x.data.strides[x.ndim - n:]  # bytes per step along the windowed axes
    data = np.lib.stride_tricks.as_strided(
        x.data,
        shape=x.shape[: x.ndim - n] + out_sizes + window,
        strides=lead + tuple(st * s for st, s in zip(strides, steps)) + steps,
        writeable=False,
    )
    return record(data, (x,), P.SLIDING_WINDOW, {"window_shape": window, "stride": strides})
    ### END SOLUTION


@primitive(P.CONCATENATE)
def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    axis = dim_arg(axis, tensors[0].ndim, "concatenate")
    try:
        data = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:  # AxisError is a ValueError too
        shapes = [t.shape for t in tensors]
        raise ValueError(f"concatenate: shapes {shapes} do not match off axis {axis}") from None
    return record(data, tensors, P.CONCATENATE, {"axis": axis})

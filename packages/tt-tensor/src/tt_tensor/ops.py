"""The primitive ops. Only these have gradient rules (in tt-autograd); every other op in
TinyTorch, here or in later modules, is a composition of them.

Each primitive computes its result with NumPy and hands it to `make`, which attaches a graph
node (recording its `Primitive`) when grad mode is on and an input requires a gradient.
"""

import numpy as np

from ._graph import Primitive as P
from ._helpers import axes_arg as _axes
from ._helpers import dim_arg as _dim
from ._helpers import plain_index
from ._hooks import observed
from .tensor import Tensor, as_tensor, make


def _primitive(op):
    """Mark a function as the primitive `op`: op hooks see each call under its name."""
    return lambda fn: observed(op.value, fn, Tensor)


def _constant(value, like_dtype):
    """A Python number becomes a tensor of the other operand's float dtype (no upcasting)."""
    if isinstance(value, (int, float, bool)) and np.issubdtype(like_dtype, np.floating):
        return make(np.asarray(value, dtype=like_dtype))
    return as_tensor(value)


def _operands(a, b):
    """Both operands of a binary op as tensors."""
    if isinstance(a, Tensor):
        return a, (b if isinstance(b, Tensor) else _constant(b, a.dtype))
    b = as_tensor(b)
    return _constant(a, b.dtype), b


def _broadcast_error(name, a, b):
    return ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together")


def _binary(name, np_fn, a, b):
    a, b = _operands(a, b)
    try:
        data = np_fn(a.data, b.data)
    except ValueError:
        raise _broadcast_error(name, a, b) from None
    return make(data, (a, b), name)


@_primitive(P.ADD)
def add(a, b):
    """a + b, elementwise with broadcasting."""
    ### BEGIN SOLUTION
    return _binary(P.ADD, np.add, a, b)
    ### END SOLUTION


@_primitive(P.SUB)
def sub(a, b):
    """a - b, elementwise with broadcasting."""
    ### BEGIN SOLUTION
    return _binary(P.SUB, np.subtract, a, b)
    ### END SOLUTION


@_primitive(P.MUL)
def mul(a, b):
    """a * b, elementwise with broadcasting."""
    ### BEGIN SOLUTION
    return _binary(P.MUL, np.multiply, a, b)
    ### END SOLUTION


@_primitive(P.DIV)
def div(a, b):
    """a / b, elementwise with broadcasting."""
    ### BEGIN SOLUTION
    return _binary(P.DIV, np.true_divide, a, b)
    ### END SOLUTION


@_primitive(P.POW)
def pow(a, b):
    """a ** b, elementwise with broadcasting."""
    ### BEGIN SOLUTION
    return _binary(P.POW, np.power, a, b)
    ### END SOLUTION


@_primitive(P.MAXIMUM)
def maximum(a, b):
    """Elementwise max(a, b) with broadcasting."""
    ### BEGIN SOLUTION
    return _binary(P.MAXIMUM, np.maximum, a, b)
    ### END SOLUTION


def _unary(name, np_fn, x):
    x = as_tensor(x)
    return make(np_fn(x.data), (x,), name)


@_primitive(P.NEG)
def neg(x):
    """-x."""
    ### BEGIN SOLUTION
    return _unary(P.NEG, np.negative, x)
    ### END SOLUTION


@_primitive(P.EXP)
def exp(x):
    """e ** x."""
    ### BEGIN SOLUTION
    return _unary(P.EXP, np.exp, x)
    ### END SOLUTION


@_primitive(P.LOG)
def log(x):
    """Natural logarithm."""
    ### BEGIN SOLUTION
    return _unary(P.LOG, np.log, x)
    ### END SOLUTION


@_primitive(P.TANH)
def tanh(x):
    """Hyperbolic tangent (a primitive: NumPy's is exact and never overflows)."""
    ### BEGIN SOLUTION
    return _unary(P.TANH, np.tanh, x)
    ### END SOLUTION


@_primitive(P.WHERE)
def where(condition, a, b):
    """Elementwise `a` where `condition` holds, else `b`. The condition gets no gradient."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = _operands(a, b)
    try:
        ### BEGIN SOLUTION
        data = np.where(cond.astype(bool, copy=False), a.data, b.data)
        ### END SOLUTION
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, a {a.shape} and b {b.shape} cannot be broadcast"
        ) from None
    return make(data, (a, b), P.WHERE, {"condition": cond})


@_primitive(P.ASTYPE)
def astype(x, dtype):
    """x converted to `dtype` (float32 <-> float64 keeps the gradient flowing)."""
    x = as_tensor(x)
    return make(x.data.astype(dtype), (x,), P.ASTYPE, {"dtype": np.dtype(dtype)})


@_primitive(P.SUM)
def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (an int, a tuple, or None for all)."""
    x = as_tensor(x)
    axis = _axes(axis, x.ndim, "sum")
    ### BEGIN SOLUTION
    data = np.asarray(np.sum(x.data, axis=axis, keepdims=keepdims))
    ### END SOLUTION
    return make(data, (x,), P.SUM, {"axis": axis, "keepdims": keepdims})


@_primitive(P.MAX)
def max(x, axis=None, keepdims=False):
    """Maximum over `axis` (an int, a tuple, or None for all)."""
    x = as_tensor(x)
    axis = _axes(axis, x.ndim, "max")
    if x.data.size == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape}")
    ### BEGIN SOLUTION
    data = np.asarray(np.max(x.data, axis=axis, keepdims=keepdims))
    ### END SOLUTION
    return make(data, (x,), P.MAX, {"axis": axis, "keepdims": keepdims})


@_primitive(P.MATMUL)
def matmul(a, b):
    """Matrix product a @ b with NumPy's rules (batched over leading axes)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: needs at least 1-D operands, got {a.shape} and {b.shape}")
    try:
        ### BEGIN SOLUTION
        data = np.matmul(a.data, b.data)
        ### END SOLUTION
    except ValueError:
        inner = b.shape[-2] if b.ndim > 1 else b.shape[0]
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned "
            f"({a.shape[-1]} != {inner})"
        ) from None
    return make(data, (a, b), P.MATMUL)


@_primitive(P.RESHAPE)
def reshape(x, shape):
    """The same elements in a new shape (one entry may be -1)."""
    x = as_tensor(x)
    shape = tuple(int(s) for s in shape)
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.data.size} elements) "
            f"into {shape}"
        ) from None
    return make(data, (x,), P.RESHAPE, {"shape": shape})


@_primitive(P.PERMUTE)
def permute(x, axes):
    """Reorder the axes: output axis i is input axis axes[i]."""
    x = as_tensor(x)
    given = tuple(int(a) for a in axes)
    bad = ValueError(f"permute: {given} is not a permutation of the {x.ndim} axes of {x.shape}")
    if len(given) != x.ndim:
        raise bad
    axes = tuple(_dim(a, x.ndim, "permute") for a in given)
    if sorted(axes) != list(range(x.ndim)):
        raise bad
    return make(x.data.transpose(axes), (x,), P.PERMUTE, {"axes": axes})


@_primitive(P.BROADCAST_TO)
def broadcast_to(x, shape):
    """A read-only broadcast view of x with the given shape."""
    x = as_tensor(x)
    shape = tuple(int(s) for s in shape)
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return make(data, (x,), P.BROADCAST_TO, {"shape": shape})


@_primitive(P.GETITEM)
def getitem(x, index):
    """x[index]: ints, slices, None, Ellipsis, boolean masks and integer arrays, as in NumPy."""
    x = as_tensor(x)
    index = plain_index(index, Tensor)
    try:
        data = x.data[index]
    except IndexError as err:
        raise IndexError(
            f"getitem: index {index!r} is invalid for shape {x.shape}: {err}"
        ) from None
    return make(np.asarray(data), (x,), P.GETITEM, {"index": index})


@_primitive(P.PAD)
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
    return make(data, (x,), P.PAD, {"pad_width": pairs, "value": value})


@_primitive(P.SLIDING_WINDOW)
def sliding_window(x, window_shape, stride=1):
    """A read-only view of every window over the last len(window_shape) axes.

    (..., H, W) with window (KH, KW) and stride s -> (..., OH, OW, KH, KW),
    OH = (H - KH) // s + 1. No data is copied: windows share the input's memory.
    """
    x = as_tensor(x)
    window = tuple(int(k) for k in window_shape)
    n = len(window)
    strides = (stride,) * n if isinstance(stride, (int, np.integer)) else tuple(stride)
    spatial = x.shape[x.ndim - n:]
    if n == 0 or x.ndim < n or any(k < 1 or k > s for k, s in zip(window, spatial)):
        raise ValueError(f"sliding_window: window {window} does not fit the last axes of {x.shape}")
    if len(strides) != n or any(s < 1 for s in strides):
        raise ValueError(f"sliding_window: stride {stride!r} must be positive, one per window axis")
    ### BEGIN SOLUTION
    out_sizes = tuple((s - k) // st + 1 for s, k, st in zip(spatial, window, strides))
    lead = x.data.strides[: x.ndim - n]
    steps = x.data.strides[x.ndim - n:]
    data = np.lib.stride_tricks.as_strided(
        x.data,
        shape=x.shape[: x.ndim - n] + out_sizes + window,
        strides=lead + tuple(st * s for st, s in zip(strides, steps)) + steps,
        writeable=False,
    )
    ### END SOLUTION
    return make(data, (x,), P.SLIDING_WINDOW, {"window_shape": window, "stride": strides})


@_primitive(P.CONCATENATE)
def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    axis = _dim(axis, tensors[0].ndim, "concatenate")
    try:
        data = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:  # AxisError is a ValueError too
        shapes = [t.shape for t in tensors]
        raise ValueError(f"concatenate: shapes {shapes} do not match off axis {axis}") from None
    return make(data, tensors, P.CONCATENATE, {"axis": axis})

"""Ops composed from the primitives: they need no gradient rule of their own."""

import numpy as np

from . import movement, ops
from ._helpers import normalize_axes as _axes
from ._helpers import dim_arg as _dim
from .tensor import Tensor, as_tensor, make


def sqrt(x):
    """Square root, as x ** 0.5."""
    return ops.pow(x, 0.5)


def mean(x, axis=None, keepdims=False):
    """Average over `axis`: sum / count."""
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, "mean")
    count = x.data.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    return ops.div(ops.sum(x, axes, keepdims), float(count))


def var(x, axis=None, keepdims=False, correction=1):
    """Variance over `axis`: sum((x - mean)^2) / (count - correction), PyTorch's default."""
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, "var")
    count = x.data.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    centred = ops.sub(x, mean(x, axes, keepdims=True))
    return ops.div(ops.sum(ops.mul(centred, centred), axes, keepdims), float(count - correction))


def min(x, axis=None, keepdims=False):
    """Minimum over `axis`, as -max(-x); an axis of size 0 is refused as `max` refuses it,
    under min's own name ("min: cannot reduce axis 0 of size 0 of a tensor of shape ...")."""
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, "min")
    for a in range(x.ndim) if axes is None else axes:
        if x.shape[a] == 0:
            raise ValueError(f"min: cannot reduce axis {a} of size 0 of a tensor of shape "
                             f"{x.shape}")
    return ops.neg(ops.max(ops.neg(x), axes, keepdims))


def _negate(v):
    """-v; a Python number stays a number, so it still takes the tensor operand's dtype."""
    return -v if isinstance(v, (int, float)) else ops.neg(v)


def minimum(a, b):
    """Elementwise min(a, b), as -maximum(-a, -b)."""
    return ops.neg(ops.maximum(_negate(a), _negate(b)))


def abs(x):
    """|x|, as x * sign(x) with sign(x) a constant: the gradient is sign(x), 0 at x = 0
    (PyTorch's)."""
    x = as_tensor(x)
    return ops.mul(x, np.sign(x.data))


def _data(v):
    return v.data if isinstance(v, Tensor) else v


def clip(x, min=None, max=None):
    """Limit x to [min, max] (either bound may be None). The gradient passes to x where
    min <= x <= max, bounds included (PyTorch's clamp), and to a tensor bound where x is
    beyond it."""
    x = as_tensor(x)
    if min is not None:
        x = ops.where(x.data < _data(min), min, x)
    if max is not None:
        x = ops.where(x.data > _data(max), max, x)
    return x


def transpose(x, dim0, dim1):
    """Swap two axes."""
    x = as_tensor(x)
    dim0, dim1 = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return movement.permute(x, tuple(axes))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes start_dim..end_dim into one."""
    x = as_tensor(x)
    if x.ndim == 0:
        return movement.reshape(x, (1,))
    start, end = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for shape {x.shape}")
    merged = int(np.prod(x.shape[start:end + 1]))
    return movement.reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def squeeze(x, dim=None):
    """Drop axes of size 1 (all of them, or just `dim`)."""
    x = as_tensor(x)
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dim = _dim(dim, x.ndim, "squeeze")
        shape = x.shape if x.shape[dim] != 1 else x.shape[:dim] + x.shape[dim + 1:]
    return movement.reshape(x, shape)


def unsqueeze(x, dim):
    """Insert an axis of size 1 at `dim`."""
    x = as_tensor(x)
    dim = _dim(dim, x.ndim + 1, "unsqueeze")
    return movement.reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def stack(tensors, axis=0):
    """Join tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    axis = _dim(axis, tensors[0].ndim + 1, "stack")
    return movement.concatenate([unsqueeze(t, axis) for t in tensors], axis)


def argmax(x, axis=None):
    """Index of the maximum (an int64 tensor; not differentiable)."""
    return make(np.asarray(np.argmax(as_tensor(x).data, axis=axis)))


def _compare(np_fn, a, b):
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    return make(np.asarray(np_fn(a, b)))


def eq(a, b):
    """Elementwise a == b (a bool tensor; comparisons are not differentiable)."""
    return _compare(np.equal, a, b)


def ne(a, b):
    return _compare(np.not_equal, a, b)


def lt(a, b):
    return _compare(np.less, a, b)


def le(a, b):
    return _compare(np.less_equal, a, b)


def gt(a, b):
    return _compare(np.greater, a, b)


def ge(a, b):
    return _compare(np.greater_equal, a, b)

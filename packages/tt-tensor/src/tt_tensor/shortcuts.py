"""tt-tensor's own fast paths: the plain primitives' results by a shorter way, for the Tensor
methods a model calls most (`x @ w`, `x.reshape(...)`, `w.T`, `x.permute(...)`,
`x.transpose(d0, d1)`).

The plain primitives (ops.matmul, movement.reshape, movement.permute: tasks, the lesson) check
every argument in Python and word their error messages as they go. Decoding one token of a
small GPT calls them about ninety times on arrays of a few hundred numbers, where those checks
cost more than the arithmetic. A shortcut takes only a case it can see is valid, or lets
NumPy's own checks refuse it, and records exactly what the plain primitive records: the same
data and the same node (op, inputs, attrs), so tt-autograd computes the same gradients.
Anything else goes to the plain primitive, so every error and its message are the plain ones.
Op hooks see each call once, under the primitive's name.

The switch is tt-tensor's `use_fast_paths()` / `fast_paths_enabled()`: on for the reference,
off for a learner's own build (a version ending in +own), so that `x @ w` runs the learner's
matmul. tests/test_14_shortcuts.py checks each shortcut against the plain primitive.
"""

import numpy as np

from . import composed, movement, ops
from ._graph import Primitive as P
from ._helpers import dim_arg
from ._version import __version__
from .fast_paths import FastPathSwitch
from .ops import primitive
from .tensor import Tensor, record

_switch = FastPathSwitch("tt_tensor", __version__)  # on for the reference, off for +own
use_fast_paths, fast_paths_enabled = _switch.functions(
    "the shortcuts of Tensor's methods x @ w, x.reshape / x.view, x.T, x.permute and "
    "x.transpose (the same results and nodes as the plain primitives, fewer checks in Python)")

# The plain primitives without their hook wrappers: each shortcut has a wrapper of its own,
# so hooks see a call once, whichever way it goes.
_plain_matmul = getattr(ops.matmul, "__wrapped__", ops.matmul)
_plain_reshape = getattr(movement.reshape, "__wrapped__", movement.reshape)
_plain_permute = getattr(movement.permute, "__wrapped__", movement.permute)


@primitive(P.MATMUL)
def matmul(a, b):
    """a @ b. Shortcut: two Tensors of at least 2 dims, inner sizes aligned and the same batch
    axes (every Linear's x @ W.T; attention's batched products) need no 1-D promotion and no
    broadcast check: np.matmul on their arrays, recorded as the plain matmul records it."""
    if _switch.enabled and isinstance(a, Tensor) and isinstance(b, Tensor):
        left, right = a.data, b.data
        if (left.ndim >= 2 and right.ndim >= 2 and left.shape[-1] == right.shape[-2]
                and left.shape[:-2] == right.shape[:-2]):
            return record(np.matmul(left, right), (a, b), P.MATMUL)
    return _plain_matmul(a, b)


@primitive(P.RESHAPE)
def reshape(x, shape):
    """x reshaped to `shape` (a tuple). Shortcut: NumPy's reshape checks the sizes itself and
    refuses every shape the plain reshape refuses (two -1s, sizes below -1, a wrong element
    count); what it accepts is the plain result, the -1 resolved in the result's shape. A
    refusal, or sizes NumPy does not take as ints, go to the plain reshape and its message."""
    if _switch.enabled and isinstance(x, Tensor) and type(shape) is tuple:
        try:
            data = x.data.reshape(shape)
        except (TypeError, ValueError):
            pass  # the plain reshape converts the sizes, or words the error
        else:
            return record(data, (x,), P.RESHAPE, {"shape": data.shape})
    return _plain_reshape(x, shape)


@primitive(P.PERMUTE)
def permute(x, axes):
    """x with its axes reordered. Shortcut: NumPy's transpose refuses every order the plain
    permute refuses once the number of axes is right (an axis out of range, a repeat); what it
    accepts is the plain view, recorded with the axes made non-negative."""
    if _switch.enabled and isinstance(x, Tensor) and type(axes) is tuple \
            and len(axes) == x.data.ndim:
        data = x.data
        try:
            view = data.transpose(axes)
        except (TypeError, ValueError):
            pass  # the plain permute converts the axes, or words the error
        else:
            n = data.ndim
            return record(view, (x,), P.PERMUTE, {"axes": tuple(int(a) % n for a in axes)})
    return _plain_permute(x, axes)


def transpose(x, dim0, dim1):
    """x with axes dim0 and dim1 swapped: composed.transpose, its permute through the shortcut
    (with the shortcuts off, composed.transpose itself)."""
    if not _switch.enabled:
        return composed.transpose(x, dim0, dim1)
    n = x.data.ndim
    dim0, dim1 = dim_arg(dim0, n, "transpose"), dim_arg(dim1, n, "transpose")
    axes = list(range(n))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return permute(x, tuple(axes))


@primitive(P.PERMUTE)
def reversed_axes(x):
    """x.T: x permuted by every axis in reverse order (a 2-D x transposed). Shortcut: those
    axes are valid and non-negative already, so the view is recorded without any check."""
    axes = tuple(range(x.data.ndim - 1, -1, -1))
    if _switch.enabled:
        return record(x.data.transpose(axes), (x,), P.PERMUTE, {"axes": axes})
    return _plain_permute(x, axes)

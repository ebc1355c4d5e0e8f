"""Tensor's operators and PyTorch-named methods, attached to the class.

Each one forwards to the op of the same name in ops.py (a primitive) or composed.py; the five
a model calls most (`@`, reshape/view, permute, transpose, T) go through shortcuts.py, tt-tensor's
fast paths, which are the plain primitive unless `use_fast_paths()` is on (the reference's
default). They are attached here, by the module above both, because ops.py and composed.py import
tensor.py: were they written in the class body, tensor.py would have to import them back (an
import circle).
"""

import numpy as np

from . import composed, movement, ops, shortcuts
from ._helpers import shape_arg
from .tensor import Tensor


class _Methods:
    """Written as a class body so that they read as methods; `attach` copies them onto Tensor."""

    # --- operators: each is a primitive (ops) or a composition (composed) -----------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return shortcuts.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __getitem__(self, index):
        return movement.getitem(self, index)

    def __eq__(self, other):
        return composed.eq(self, other)

    def __ne__(self, other):
        return composed.ne(self, other)

    def __lt__(self, other):
        return composed.lt(self, other)

    def __le__(self, other):
        return composed.le(self, other)

    def __gt__(self, other):
        return composed.gt(self, other)

    def __ge__(self, other):
        return composed.ge(self, other)

    # --- methods with PyTorch's names ---------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return composed.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        return composed.var(self, axis, keepdims, correction)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return composed.min(self, axis, keepdims)

    def argmax(self, axis=None):
        return composed.argmax(self, axis)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return composed.sqrt(self)

    def tanh(self):
        return ops.tanh(self)

    def abs(self):
        return composed.abs(self)

    def clip(self, min=None, max=None):
        return composed.clip(self, min, max)

    def reshape(self, *shape):
        return shortcuts.reshape(self, shape_arg(shape))

    view = reshape

    def permute(self, *axes):
        return shortcuts.permute(self, shape_arg(axes))

    def transpose(self, dim0, dim1):
        return shortcuts.transpose(self, dim0, dim1)

    @property
    def T(self):
        return shortcuts.reversed_axes(self)

    def broadcast_to(self, *shape):
        return movement.broadcast_to(self, shape_arg(shape))

    expand = broadcast_to

    def flatten(self, start_dim=0, end_dim=-1):
        return composed.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return composed.squeeze(self, dim)

    def unsqueeze(self, dim):
        return composed.unsqueeze(self, dim)

    def astype(self, dtype):
        return ops.astype(self, dtype)

    def float(self):
        return ops.astype(self, np.float32)

    def double(self):
        return ops.astype(self, np.float64)

    def long(self):
        return ops.astype(self, np.int64)


# What every class body has (and __hash__, which defining __eq__ set to None in _Methods):
# not methods, so not copied. Tensor keeps its own identity hash.
_NOT_METHODS = set(vars(type("Empty", (), {}))) | {"__hash__"}


def attach():
    """Copy every method of `_Methods` onto Tensor (run once, by the package's __init__)."""
    for name, value in vars(_Methods).items():
        if name not in _NOT_METHODS:
            setattr(Tensor, name, value)

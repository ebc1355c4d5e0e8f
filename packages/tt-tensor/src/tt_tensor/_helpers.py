"""Helpers shared by the tensor, its ops and its creation functions. A leaf: NumPy only.

Argument checking and normalisation (dtypes, axes, shapes, indexes) that several modules need,
kept here so that those modules import it instead of importing each other.
"""

import builtins

import numpy as np

DEFAULT_FLOAT = np.float32


def to_array(data, dtype=None):
    """A fresh ndarray from numbers, nested lists or arrays (a tensor passes its `.data`).

    Floats default to float32, integers to int64, booleans stay bool; `dtype` overrides.
    """
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.array(data)
        except ValueError as err:
            raise ValueError(f"tensor(): ragged or malformed nested sequence: {err}") from None
    if arr.dtype.kind not in "biuf":
        shown = repr(data) if len(repr(data)) < 60 else repr(data)[:57] + "..."
        raise TypeError(f"tensor(): expected numbers, got {arr.dtype} data {shown}")
    if dtype is not None:
        return np.array(arr, dtype=dtype)
    if arr.dtype.kind == "f":
        return np.array(arr, dtype=DEFAULT_FLOAT)
    if arr.dtype.kind in "iu":
        return np.array(arr, dtype=np.int64)
    return np.array(arr)


def axes_arg(axis, ndim, name):
    """Normalise an axis argument to a sorted tuple of non-negative ints, or None for all."""
    if axis is None:
        return None
    if ndim == 0 and axis in (0, -1, (), (0,), (-1,)):
        return ()  # a 0-d tensor reduces over "its" only axis to itself, as in NumPy
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % builtins.max(ndim, 1))
    return tuple(sorted(out))


def dim_arg(dim, ndim, name):
    """One axis in [-ndim, ndim) as a non-negative int; anything else is refused by name."""
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dims")
    return int(dim) % ndim


def shape_arg(args):
    """Accept both f(2, 3) and f((2, 3)) for shapes and axes."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def plain_index(index, tensor_type):
    """An index with the tensors in it (instances of `tensor_type`) replaced by their arrays."""
    if isinstance(index, tensor_type):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, tensor_type) else i for i in index)
    return index

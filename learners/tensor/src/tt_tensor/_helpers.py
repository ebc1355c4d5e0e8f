"""Shape and dtype rules shared by the tensor, its ops and its creation functions. A leaf:
NumPy only, no other tt_tensor import, so every other file can import it.

Three of the rules are tasks: what a new tensor stores (`to_array`), the broadcast rule
(`broadcast_shapes`) and which axes a reduction runs over (`normalize_axes`). See COURSE.md,
"What you build".
"""

import operator

import numpy as np

DEFAULT_FLOAT = np.float32

# The dtype `to_array` stores by default, by NumPy's dtype kind: floats of any width become
# float32, integers of any width or sign int64, booleans stay bool.
_DEFAULT_OF_KIND = {"f": DEFAULT_FLOAT, "i": np.int64, "u": np.int64, "b": np.bool_}


def _cut(text, limit):
    """`text`, cut to `limit` characters (with "..." when it was longer)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _as_shape(shape):
    """A shape (an int, or a sequence of ints) as a tuple of Python ints."""
    if isinstance(shape, (tuple, list)):
        return tuple(operator.index(s) for s in shape)
    return (operator.index(shape),)


def to_array(data, dtype=None):
    """A fresh copy of `data` (a number, nested lists or tuples of numbers, or an ndarray) as
    the ndarray a new tensor stores: of `dtype` if given, else float32 for floats of any width,
    int64 for integers (signed or unsigned), bool for booleans. Never a view of `data`.

    Ragged lists raise ValueError "tensor(): ragged or malformed nested sequence: ...";
    anything else that is not numbers (str, bytes, None, dicts, complex, objects, a list of
    Tensors: join those with `stack`) raises TypeError "tensor(): expected numbers, got
    <the dtype NumPy made of it> data <repr of data, cut at 60 characters>".
    See COURSE.md, "Creating tensors and dtype rules".
    """
    ### BEGIN SOLUTION
    if isinstance(data, np.ndarray):
        array = data  # copied by astype below
    else:
        try:
            array = np.array(data)  # a new array: nothing of `data` is shared
        except ValueError as err:  # NumPy 2 refuses ragged nested sequences
            raise ValueError(f"tensor(): ragged or malformed nested sequence: {err}") from None
    if array.dtype.kind not in "biuf":  # str, None, dict, object, complex, ...
        raise TypeError(
            f"tensor(): expected numbers, got {array.dtype} data {_cut(repr(data), 60)}")
    if dtype is None:
        dtype = _DEFAULT_OF_KIND[array.dtype.kind]
    # One copy in all: astype copies the caller's ndarray; the array made above is ours already
    return array.astype(dtype, copy=array is data)
    ### END SOLUTION


def broadcast_shapes(*shapes):
    """The shape that tensors of `shapes` broadcast to, a tuple of ints: align them at the last
    axis, a missing axis on the left counting as 1; at each axis the sizes must be equal or 1,
    and the result takes the one that is not 1. (4, 1, 3), (2, 3) -> (4, 2, 3); none -> ().

    A clash raises ValueError "shapes (2, 3) and (4,) cannot be broadcast together (sizes 3
    and 4 at axis -1)": every shape, and the first clash from the right.
    See COURSE.md, "Broadcasting".
    """
    ### BEGIN SOLUTION
    shapes = [_as_shape(shape) for shape in shapes]
    ndim = max((len(shape) for shape in shapes), default=0)
    result = []
    for axis in range(-1, -ndim - 1, -1):
        size = 1
        for shape in shapes:
            if len(shape) < -axis:
                continue  # a missing axis on the left counts as 1
            here = shape[axis]
            if here == 1 or here == size:
                continue
            if size != 1:
                listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
                raise ValueError(f"shapes {listed} cannot be broadcast together "
                                 f"(sizes {size} and {here} at axis {axis})")
            size = here
        result.append(size)
    return tuple(reversed(result))
    ### END SOLUTION


def normalize_axes(axis, ndim, name):
    """`axis` (None, an int, or a tuple or list of ints; negative from the end) for a tensor of
    `ndim` dims, as None or a sorted tuple of distinct non-negative ints: for ndim 3, -1 ->
    (2,) and (2, -3) -> (0, 2). A 0-d tensor takes 0 or -1 as its one axis and gives ().

    Raises ValueError "<name>: axis 5 is out of range for a tensor with 3 dims", and
    "<name>: axis -3 is repeated in (0, -3)" when two entries are the same axis.
    See COURSE.md, "Reductions".
    """
    ### BEGIN SOLUTION
    if axis is None:
        return None
    entries = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    shown = tuple(int(a) for a in entries) if isinstance(axis, (tuple, list)) else None
    limit = max(ndim, 1)  # a 0-d tensor accepts 0 and -1, as PyTorch does
    seen = []
    for entry in entries:
        a = operator.index(entry)
        if not -limit <= a < limit:
            raise ValueError(f"{name}: axis {a} is out of range for a tensor with {ndim} dims")
        if a % limit in seen:
            raise ValueError(f"{name}: axis {a} is repeated in {shown}")
        seen.append(a % limit)
    if ndim == 0:
        return ()
    return tuple(sorted(seen))
    ### END SOLUTION


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

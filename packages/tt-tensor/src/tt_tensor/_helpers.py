"""Shape and dtype rules shared by the tensor, its ops and its creation functions. A leaf:
NumPy only, no other tt_tensor import, so every other file can import it.

Three of the rules are tasks: what a new tensor stores (`to_array`), the broadcast rule
(`broadcast_shapes`) and which axes a reduction runs over (`normalize_axes`). See COURSE.md,
"What you build".
"""

import numpy as np

DEFAULT_FLOAT = np.float32


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
    array = data
    if not isinstance(data, np.ndarray):
        try:
            array = np.array(data)
        except ValueError as err:
            raise ValueError(f"tensor(): ragged or malformed nested sequence: {err}") from None
    if array.dtype.kind not in "biuf":  # bool, signed int, unsigned int, float
        shown = repr(data) if len(repr(data)) < 60 else repr(data)[:57] + "..."
        raise TypeError(f"tensor(): expected numbers, got {array.dtype} data {shown}")
    if dtype is None:
        kind = array.dtype.kind
        dtype = {"b": np.bool_, "i": np.int64, "u": np.int64, "f": DEFAULT_FLOAT}[kind]
    return np.array(array, dtype=dtype)  # np.array copies, also when the dtype already fits
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
    ndim = max((len(shape) for shape in shapes), default=0)
    result = []
    for axis in range(-1, -ndim - 1, -1):  # from the last axis leftwards
        sizes = [shape[axis] for shape in shapes if len(shape) >= -axis]
        wanted = {size for size in sizes if size != 1}
        if len(wanted) > 1:
            names = [str(tuple(shape)) for shape in shapes]
            clash = " and ".join(str(size) for size in sorted(wanted))
            raise ValueError(
                f"shapes {', '.join(names[:-1])} and {names[-1]} cannot be broadcast together "
                f"(sizes {clash} at axis {axis})"
            )
        result.insert(0, int(wanted.pop()) if wanted else 1)
    return tuple(result)
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
    given = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    size = max(ndim, 1)  # a 0-d tensor has one axis for this purpose: 0, or -1
    axes = []
    for a in given:
        if not -size <= a < size:
            raise ValueError(f"{name}: axis {a} is out of range for a tensor with {ndim} dims")
        if int(a) % size in axes:
            raise ValueError(f"{name}: axis {a} is repeated in {axis}")
        axes.append(int(a) % size)
    return () if ndim == 0 else tuple(sorted(axes))
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

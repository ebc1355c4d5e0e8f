"""Shape and dtype rules shared by the tensor, its ops and its creation functions. A leaf:
NumPy only, no other tt_tensor import, so every other file can import it.

Three of the rules are tasks: what a new tensor stores (`to_array`), the broadcast rule
(`broadcast_shapes`) and which axes a reduction runs over (`normalize_axes`). See COURSE.md,
"What you build".
"""

import numpy as np

DEFAULT_FLOAT = np.float32


def to_array(data, dtype=None):
    """The ndarray a new tensor stores: always a fresh copy of `data`, never a view of it.

    data: a Python number, (nested) lists or tuples of numbers, or an ndarray. With `dtype`
    (a NumPy dtype or type), the copy has that dtype. Without, floats of any width become
    float32, integers of any width (signed or unsigned) int64, and booleans stay bool.

    Raises ValueError "tensor(): ragged or malformed nested sequence: ..." for lists whose
    rows differ in length, and TypeError "tensor(): expected numbers, got <dtype> data <data>"
    for strings, None, dicts, objects and complex numbers (the data's repr, cut at 60
    characters). See COURSE.md, "Creating tensors and dtype rules".
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
    """The shape that tensors of the given shapes broadcast to (NumPy's and PyTorch's rule).

    Align the shapes at their last axis; an axis a shape lacks on the left counts as size 1.
    At each position the sizes must be equal or 1, and the result takes the size that is not
    1 (`(4, 1, 3)` and `(2, 3)` give `(4, 2, 3)`; `()` broadcasts with anything; no shapes
    give `()`).

    shapes: tuples (or lists) of non-negative ints. Returns a tuple of ints. Raises
    ValueError "shapes (2, 3) and (4,) cannot be broadcast together (sizes 3 and 4 at axis
    -1)", naming every shape and the first clashing axis counted from the right. See
    COURSE.md, "Broadcasting".
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
    """The axes a reduction of a `ndim`-dimensional tensor runs over, in one canonical form.

    axis: None (every axis), an int, or a tuple or list of ints; a negative axis counts from
    the end (-1 is the last). Returns None for None, else a sorted tuple of distinct
    non-negative ints: for ndim 3, `-1` gives `(2,)` and `(2, -3)` gives `(0, 2)`. A 0-d
    tensor accepts 0 and -1 (and tuples of them) as its one axis, as PyTorch does, and gives
    `()`: there is nothing to reduce.

    Raises ValueError "<name>: axis <a> is out of range for a tensor with <ndim> dims" for an
    axis outside [-ndim, ndim), and "<name>: axis <a> is repeated in <axis>" when two entries
    name the same axis (0 and -2 of a 2-d tensor). `name` is the op's name, for the message.
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

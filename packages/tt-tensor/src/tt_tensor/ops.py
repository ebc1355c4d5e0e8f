"""The primitive ops that compute: elementwise arithmetic and functions, reductions, matmul.
The movement primitives (reshape, permute, indexing, ...) are in movement.py.

Only primitives have gradient rules (in tt-autograd); every other op in TinyTorch, here or in
later modules, is a composition of them. Each primitive checks its arguments, computes its
result with NumPy and hands it to `record`, which attaches a graph node (recording its
`Primitive`) when grad mode is on and an input requires a gradient. See COURSE.md, "What you
build".
"""

import numpy as np

from ._graph import Primitive as P
from ._helpers import broadcast_shapes, normalize_axes
from ._hooks import observed
from .tensor import Tensor, as_tensor, make, record


def primitive(op):
    """Mark a function as the primitive `op`: op hooks see each call under its name."""
    return lambda fn: observed(op.value, fn, Tensor)


# --- elementwise -----------------------------------------------------------------------------
def unary(op, np_fn, x):
    """The elementwise primitive `op` of one tensor, computed by the NumPy function `np_fn`.

    x: a Tensor, or anything `as_tensor` takes. Returns `np_fn(x.data)` as a new Tensor of the
    same shape (the dtype NumPy gives), recorded as op `op` with the input `(x,)` and no
    attributes (see `record`). Used by neg, exp, log and tanh.
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    return record(np_fn(x.data), (x,), op)
    ### END SOLUTION


def operands(a, b):
    """Both operands of a binary op as Tensors, following the dtype rule for Python numbers.

    A Tensor stays the same object (the graph records the input itself). A Python number
    (int, float or bool) next to a floating-point tensor becomes a 0-d tensor of *that
    tensor's* dtype, in either position, so `float32 * 2.0` and `2 - float32` stay float32.
    Anything else (an ndarray, a number next to an integer tensor, two numbers) goes through
    `as_tensor`: an ndarray is wrapped with its dtype, a float becomes float32 and an int
    int64, and NumPy's promotion decides the result (`int64 * 2.5` is float64).

    Returns the pair (a, b) as Tensors; never copies a tensor's data. See COURSE.md,
    "Creating tensors and dtype rules".
    """
    ### BEGIN SOLUTION
    def constant(value, other):
        """`value` as a tensor, a Python number taking the float dtype of tensor `other`."""
        if isinstance(value, (int, float, bool)) and other.dtype.kind == "f":
            return make(np.asarray(value, dtype=other.dtype))
        return as_tensor(value)

    if isinstance(a, Tensor):
        return a, (b if isinstance(b, Tensor) else constant(b, a))
    b = as_tensor(b)
    return constant(a, b), b
    ### END SOLUTION


def binary(op, np_fn, a, b):
    """The elementwise primitive `op` of two operands with broadcasting, computed by `np_fn`.

    a, b: Tensors or Python numbers, made tensors by `operands`. Their shapes must broadcast
    (`broadcast_shapes`); the result has the broadcast shape and the dtype NumPy gives
    `np_fn(a.data, b.data)`, and is recorded as op `op` with the inputs `(a, b)` (the tensors
    `operands` returned) and no attributes. Used by add, sub, mul, div, pow and maximum.

    Raises ValueError "<op>: shapes (2, 3) and (4,) cannot be broadcast together ..." (the
    message of `broadcast_shapes` after the op's name) before computing anything.
    """
    ### BEGIN SOLUTION
    a, b = operands(a, b)
    if a.shape != b.shape:  # equal shapes broadcast to themselves: nothing to check
        try:
            broadcast_shapes(a.shape, b.shape)
        except ValueError as err:
            raise ValueError(f"{op}: {err}") from None
    return record(np_fn(a.data, b.data), (a, b), op)
    ### END SOLUTION


@primitive(P.ADD)
def add(a, b):
    """a + b, elementwise with broadcasting."""
    return binary(P.ADD, np.add, a, b)


@primitive(P.SUB)
def sub(a, b):
    """a - b, elementwise with broadcasting."""
    return binary(P.SUB, np.subtract, a, b)


@primitive(P.MUL)
def mul(a, b):
    """a * b, elementwise with broadcasting."""
    return binary(P.MUL, np.multiply, a, b)


@primitive(P.DIV)
def div(a, b):
    """a / b, elementwise with broadcasting (integer / integer gives float64, as NumPy)."""
    return binary(P.DIV, np.true_divide, a, b)


@primitive(P.POW)
def pow(a, b):
    """a ** b, elementwise with broadcasting."""
    return binary(P.POW, np.power, a, b)


@primitive(P.MAXIMUM)
def maximum(a, b):
    """Elementwise max(a, b) with broadcasting."""
    return binary(P.MAXIMUM, np.maximum, a, b)


@primitive(P.NEG)
def neg(x):
    """-x."""
    return unary(P.NEG, np.negative, x)


@primitive(P.EXP)
def exp(x):
    """e ** x."""
    return unary(P.EXP, np.exp, x)


@primitive(P.LOG)
def log(x):
    """Natural logarithm."""
    return unary(P.LOG, np.log, x)


@primitive(P.TANH)
def tanh(x):
    """Hyperbolic tangent (a primitive: NumPy's is exact and never overflows)."""
    return unary(P.TANH, np.tanh, x)


@primitive(P.WHERE)
def where(condition, a, b):
    """Elementwise `a` where `condition` holds, else `b`.

    condition: a Tensor, an ndarray, or anything `np.asarray` takes, read as bool. a, b:
    Tensors or Python numbers (made tensors by `operands`). The three shapes broadcast
    together; the result has the broadcast shape and NumPy's dtype for `a` and `b`. Recorded
    as op WHERE with the inputs `(a, b)` and attrs {"condition": the bool ndarray}: the
    condition is an attribute, not an input, so it never gets a gradient.

    Raises ValueError "where: shapes (4,), (2, 3) and () cannot be broadcast together ..."
    (condition, a and b, in that order) before computing anything.
    """
    ### BEGIN SOLUTION
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, bool)
    a, b = operands(a, b)
    try:
        broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError as err:
        raise ValueError(f"where: {err}") from None
    return record(np.where(cond, a.data, b.data), (a, b), P.WHERE, {"condition": cond})
    ### END SOLUTION


@primitive(P.ASTYPE)
def astype(x, dtype):
    """x converted to `dtype` (float32 <-> float64 keeps the gradient flowing)."""
    x = as_tensor(x)
    return record(x.data.astype(dtype), (x,), P.ASTYPE, {"dtype": np.dtype(dtype)})


# --- reductions ------------------------------------------------------------------------------
@primitive(P.SUM)
def sum(x, axis=None, keepdims=False):
    """Sum over `axis`: None (every axis), an int, or a tuple of ints (negative from the end).

    Returns a tensor of x's dtype (int64 stays int64, bool counts as int64) whose shape is
    x's without the reduced axes, or with each of them kept as size 1 when `keepdims`: for x
    of shape (2, 3, 4), axis (0, -1) gives (3,), or (1, 3, 1) with keepdims; axis None gives
    a 0-d tensor. Recorded as op SUM with attrs {"axis": the axes as `normalize_axes` gives
    them, "keepdims": keepdims}. An axis out of range raises `normalize_axes`' ValueError.
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "sum")
    data = np.asarray(np.sum(x.data, axis=axes, keepdims=keepdims))
    return record(data, (x,), P.SUM, {"axis": axes, "keepdims": keepdims})
    ### END SOLUTION


@primitive(P.MAX)
def max(x, axis=None, keepdims=False):
    """Maximum over `axis`: None (every axis), an int, or a tuple of ints.

    Shapes, dtype, attrs {"axis", "keepdims"} and the axis errors as `sum` (recorded as op
    MAX). Raises ValueError "max: cannot reduce an empty tensor of shape (0,)" for a tensor
    with no elements: the maximum of nothing does not exist.
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "max")
    if x.data.size == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape}")
    data = np.asarray(np.max(x.data, axis=axes, keepdims=keepdims))
    return record(data, (x,), P.MAX, {"axis": axes, "keepdims": keepdims})
    ### END SOLUTION


# --- linear algebra --------------------------------------------------------------------------
@primitive(P.MATMUL)
def matmul(a, b):
    """Matrix product a @ b with NumPy's (and PyTorch's) shape rules.

    a (..., n, k) @ b (..., k, m) -> (..., n, m): the last two axes multiply as matrices, the
    leading (batch) axes broadcast (`broadcast_shapes`). A 1-D operand is promoted: a of
    shape (k,) is a row (1, k), b of shape (k,) a column (k, 1), and the promoted axis is
    dropped from the result: (k,) @ (k, m) -> (m,), (n, k) @ (k,) -> (n,), (k,) @ (k,) -> ().
    Keeps NumPy's dtype (float32 @ float32 is float32); recorded as op MATMUL with the
    inputs (a, b) and no attributes.

    Raises ValueError naming both shapes: "matmul: needs at least 1-D operands, got () and
    (2, 3)" for a 0-d operand, "matmul: shapes (2, 3) and (4, 5) are not aligned (3 != 4)"
    when the inner sizes differ, and "matmul: the batch axes of (5, 2, 3) and (4, 3, 2)
    cannot be broadcast together ..." when the leading axes do not broadcast.
    See COURSE.md, "Matrix products".
    """
    ### BEGIN SOLUTION
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: needs at least 1-D operands, got {a.shape} and {b.shape}")
    left = a.data[np.newaxis, :] if a.ndim == 1 else a.data  # (k,) -> (1, k), a view
    right = b.data[:, np.newaxis] if b.ndim == 1 else b.data  # (k,) -> (k, 1), a view
    if left.shape[-1] != right.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                         f"({left.shape[-1]} != {right.shape[-2]})")
    try:
        broadcast_shapes(left.shape[:-2], right.shape[:-2])
    except ValueError as err:
        raise ValueError(f"matmul: the batch axes of {a.shape} and {b.shape} cannot be "
                         f"broadcast together ({err})") from None
    data = np.matmul(left, right)
    if a.ndim == 1:
        data = data[..., 0, :]  # drop the promoted row axis
    if b.ndim == 1:
        data = data[..., 0]  # drop the promoted column axis
    return record(np.asarray(data), (a, b), P.MATMUL)
    ### END SOLUTION

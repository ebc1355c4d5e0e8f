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
def _name(op):
    """The op's name as a plain string (a Primitive's value)."""
    return op.value if isinstance(op, P) else str(op)


def _is_number(v):
    """A Python number (int, float or bool; NumPy's float64 scalar subclasses float)."""
    return isinstance(v, (int, float))


def _constant(value, other):
    """The Python number `value` as a 0-d constant tensor: of `other`'s dtype when `other` is a
    floating tensor (float32 * 2.0 stays float32), else as `as_tensor` makes it."""
    if other is not None and other.dtype.kind == "f":
        return make(np.array(value, dtype=other.dtype))
    return as_tensor(value)


def unary(op, np_fn, x):
    """`np_fn(x.data)` as a Tensor, recorded as op `op` with the one input x and no attributes.

    x: a Tensor, or anything `as_tensor` takes. The result has x's shape and the dtype NumPy
    gives. Used by neg, exp, log and tanh. See COURSE.md, "The graph".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    return record(np_fn(x.data), (x,), op)
    ### END SOLUTION


def operands(a, b):
    """(a, b) as Tensors for a binary op. A Tensor stays the same object. A Python number
    (int, float, bool) next to a floating tensor becomes a 0-d tensor of that tensor's dtype,
    in either position (float32 * 2.0 stays float32); anything else goes through `as_tensor`:
    an ndarray keeps its dtype, and a number next to an integer or bool tensor becomes the
    0-d tensor `tensor()` makes of it (int64, float32 or bool). NumPy's promotion of the two
    arrays then decides: int64 * 2.5 is float64, int32 + 2 is int64, bool + True is bool.

    Never copies a tensor's data. See COURSE.md, "Creating tensors and dtype rules".
    """
    ### BEGIN SOLUTION
    a_number, b_number = _is_number(a), _is_number(b)
    if not a_number:
        a = as_tensor(a)
    if not b_number:
        b = as_tensor(b)
    if a_number:
        a = _constant(a, None if b_number else b)
    if b_number:
        b = _constant(b, a)
    return a, b
    ### END SOLUTION


def binary(op, np_fn, a, b):
    """`np_fn(a.data, b.data)`, recorded as op `op` with the inputs (a, b), after making both
    Tensors with `operands` and checking with `broadcast_shapes` that their shapes broadcast.
    The result has the broadcast shape and NumPy's dtype. Used by add, sub, mul, div, pow and
    maximum.

    A clash raises ValueError "<op>: <the message of broadcast_shapes>" before computing.
    See COURSE.md, "Broadcasting".
    """
    ### BEGIN SOLUTION
    a, b = operands(a, b)
    if a.shape != b.shape:  # equal shapes need no check
        try:
            broadcast_shapes(a.shape, b.shape)
        except ValueError as err:
            raise ValueError(f"{_name(op)}: {err}") from None
    return record(np_fn(a.data, b.data), (a, b), op)
    ### END SOLUTION


def _elementwise(op, np_fn, doc):
    """The public function of the elementwise primitive `op`: `unary` or `binary` over `np_fn`
    (by how many arguments `np_fn` takes), named after the primitive, documented by `doc`."""
    if np_fn.nin == 1:
        def fn(x):
            return unary(op, np_fn, x)
    else:
        def fn(a, b):
            return binary(op, np_fn, a, b)
    fn.__name__ = fn.__qualname__ = op.value
    fn.__doc__ = doc
    return primitive(op)(fn)


add = _elementwise(P.ADD, np.add, "a + b, elementwise with broadcasting.")
sub = _elementwise(P.SUB, np.subtract, "a - b, elementwise with broadcasting.")
mul = _elementwise(P.MUL, np.multiply, "a * b, elementwise with broadcasting.")
div = _elementwise(P.DIV, np.true_divide,
                   "a / b, elementwise with broadcasting (int / int is float64, as in NumPy).")
pow = _elementwise(P.POW, np.power, "a ** b, elementwise with broadcasting.")
maximum = _elementwise(P.MAXIMUM, np.maximum, "Elementwise max(a, b) with broadcasting.")
neg = _elementwise(P.NEG, np.negative, "-x.")
exp = _elementwise(P.EXP, np.exp, "e ** x.")
log = _elementwise(P.LOG, np.log, "Natural logarithm.")
tanh = _elementwise(P.TANH, np.tanh,
                    "Hyperbolic tangent (a primitive: NumPy's is exact and never overflows).")


@primitive(P.WHERE)
def where(condition, a, b):
    """Elementwise `a` where `condition` holds, else `b`: the condition read as a bool ndarray,
    a and b made Tensors by `operands`, the three shapes broadcast (`broadcast_shapes`).
    Recorded as op WHERE with the inputs (a, b) and attrs {"condition": the bool ndarray}:
    the condition is an attribute, so it never gets a gradient.

    A clash raises ValueError "where: <the message of broadcast_shapes>" (condition, a, b).
    See COURSE.md, "Broadcasting".
    """
    ### BEGIN SOLUTION
    cond = condition.data if isinstance(condition, Tensor) else condition
    # A copy of its own: the gradient rule reads it later, whatever happens to the mask
    cond = np.array(cond, dtype=bool)
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
    """The sum of x over `axis` (None for all; an int or a tuple, see `normalize_axes`), the
    reduced axes removed or, with `keepdims`, kept as size 1: (2, 3, 4) over (0, -1) -> (3,),
    or (1, 3, 1). Recorded as op SUM with attrs {"axis": the normalised axes, "keepdims":
    keepdims}.

    The dtype is PyTorch's rule: a floating x keeps its dtype; an integer x of any width or
    sign, and a bool x (a count), sums to int64 (np.sum's `dtype=`; NumPy's own default
    depends on the platform's C long). See COURSE.md, "Reductions".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "sum")
    # Floats keep their dtype; every integer and bool sums to int64, on every platform
    total = np.int64 if x.dtype.kind in "biu" else None
    data = np.sum(x.data, axis=axes, keepdims=keepdims, dtype=total)
    return record(data, (x,), P.SUM, {"axis": axes, "keepdims": keepdims})
    ### END SOLUTION


@primitive(P.MAX)
def max(x, axis=None, keepdims=False):
    """The maximum of x over `axis`, with the shapes, attrs and axis rules of `sum`, of x's
    own dtype (int32 stays int32), recorded as op MAX.

    The maximum over an axis of size 0 does not exist (NumPy's rule): when a reduced axis
    (any axis, for axis None) has size 0, raises ValueError "max: cannot reduce axis 0 of
    size 0 of a tensor of shape (0, 3)", naming the first such axis. An empty x reduced over
    axes of nonzero size is fine: (0, 3) over axis 1 is an empty (0,). See COURSE.md,
    "Reductions".
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "max")
    reduced = range(x.ndim) if axes is None else axes
    empty = [a for a in reduced if x.shape[a] == 0]
    if empty:  # the maximum over an axis of size 0
        raise ValueError(f"max: cannot reduce axis {empty[0]} of size 0 of a tensor of shape "
                         f"{x.shape}")
    data = np.max(x.data, axis=axes, keepdims=keepdims)
    return record(data, (x,), P.MAX, {"axis": axes, "keepdims": keepdims})
    ### END SOLUTION


# --- linear algebra --------------------------------------------------------------------------
@primitive(P.MATMUL)
def matmul(a, b):
    """a @ b: (..., n, k) @ (..., k, m) -> (..., n, m), the leading (batch) axes broadcast. A 1-D
    a (k,) acts as a row (1, k), a 1-D b as a column (k, 1), and the promoted axis is dropped
    from the result ((k,) @ (k,) -> ()). Recorded as op MATMUL with the inputs (a, b).

    ValueError names both shapes: for a 0-d operand ("needs at least 1-D operands"), unequal
    inner sizes ("are not aligned (3 != 4)") and batch axes that do not broadcast ("the batch
    axes of ... cannot be broadcast together"). See COURSE.md, "Matrix products".
    """
    ### BEGIN SOLUTION
    a, b = as_tensor(a), as_tensor(b)
    shapes = f"shapes {a.shape} and {b.shape}"
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: {shapes}: matmul needs at least 1-D operands "
                         "(a 0-d operand is a job for mul)")
    # The shapes the product sees: a 1-D a is a row (1, k), a 1-D b a column (k, 1)
    a_shape = (1,) + a.shape if a.ndim == 1 else a.shape
    b_shape = b.shape + (1,) if b.ndim == 1 else b.shape
    if a_shape[-1] != b_shape[-2]:
        raise ValueError(
            f"matmul: {shapes} are not aligned ({a_shape[-1]} != {b_shape[-2]})")
    try:
        broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError as err:
        raise ValueError(f"matmul: the batch axes of {a.shape} and {b.shape} cannot be "
                         f"broadcast together ({err})") from None
    return record(np.matmul(a.data, b.data), (a, b), P.MATMUL)
    ### END SOLUTION

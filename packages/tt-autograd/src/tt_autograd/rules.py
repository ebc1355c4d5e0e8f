"""The gradient rule of every tt-tensor primitive, in one table.

A rule takes the upstream gradient `g` (an ndarray shaped like the op's output), the op's
`node` (inputs, attrs), the output array `out` and `needs` (which inputs want a gradient), and
returns one gradient per input (None where not needed). Each rule's docstring is its math,
d out / d input, and what it returns.
See "The graph" (the Node API) and "Primitives" (each op's attrs) in tt-tensor's README.
"""

import itertools

import numpy as np
from tt_tensor import Function
from tt_tensor import Primitive as P


class RuleTable(dict):
    """{op: rule}. The primitives' rules are its entries; a fused `Function` subclass is its
    own rule (its backward, checked), so the engine asks one table for every node's op."""

    def __missing__(self, op):
        if isinstance(op, type) and issubclass(op, Function):
            return _function_rule
        raise KeyError(f"no gradient rule for op {op!r}: not a tt_tensor Primitive or Function")


def _function_rule(g, node, out, needs):
    # a fused op's own backward: one gradient (or None) per input, each of the input's shape
    parts = node.op.backward(node.ctx, g)
    if not isinstance(parts, (tuple, list)):
        parts = (parts,)  # one input's gradient may come bare, as in PyTorch
    if len(parts) != len(node.inputs):
        raise RuntimeError(f"{node.name}.backward returned {len(parts)} gradient(s) for "
                           f"{len(node.inputs)} input(s)")
    for i, (t, part) in enumerate(zip(node.inputs, parts)):
        if part is not None and np.shape(part) != t.shape:
            raise RuntimeError(f"{node.name}.backward returned a gradient of shape "
                               f"{np.shape(part)} for input {i} of shape {t.shape}")
    return parts


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: undo NumPy broadcasting (extra leading axes, size-1 axes)."""
    if grad.shape == shape:
        return grad
    ### BEGIN SOLUTION
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    return summed.reshape(shape)
    ### END SOLUTION


def _add(g, node, out, needs):
    """out = a + b: d out/da = d out/db = 1, so the gradients are (g, g), each reduced to its
    input's shape by unbroadcast, None where needs[i] is False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    return (unbroadcast(g, a.shape) if needs[0] else None,
            unbroadcast(g, b.shape) if needs[1] else None)
    ### END SOLUTION


def _sub(g, node, out, needs):
    """out = a - b: d out/da = 1, d out/db = -1, so the gradients are (g, -g), each reduced to
    its input's shape by unbroadcast, None where needs[i] is False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    return (unbroadcast(g, a.shape) if needs[0] else None,
            unbroadcast(-g, b.shape) if needs[1] else None)
    ### END SOLUTION


def _mul(g, node, out, needs):
    """out = a * b: d out/da = b, d out/db = a, so the gradients are (g * b, g * a), each
    reduced to its input's shape by unbroadcast, None where needs[i] is False; for a * a (the
    same tensor twice) one gradient 2 a g and None."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    if a is b:  # a * a (variances, squares): one pass for d(a^2) = 2 a da
        return unbroadcast(2 * g * a.data, a.shape), None
    return (unbroadcast(g * b.data, a.shape) if needs[0] else None,
            unbroadcast(g * a.data, b.shape) if needs[1] else None)
    ### END SOLUTION


def _div(g, node, out, needs):
    """out = a / b: d out/da = 1 / b, d out/db = -a / b^2 = -out / b, so the gradients are (g /
    b, -g * out / b), each reduced to its input's shape by unbroadcast, None where needs[i] is
    False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    ga = g / b.data if needs[0] or needs[1] else None
    return (unbroadcast(ga, a.shape) if needs[0] else None,
            unbroadcast(-ga * out, b.shape) if needs[1] else None)
    ### END SOLUTION


def _pow(g, node, out, needs):
    """out = a^b: d out/da = b a^(b-1), d out/db = a^b ln(a) (ln(a) taken as 0 where a <= 0); b
    = 0 gives 0 for a, also at a = 0 where 0 * 0^-1 would be NaN (PyTorch's rule). The gradients
    are g times those, each reduced to its input's shape by unbroadcast, None where needs[i] is
    False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    ga = gb = None
    if needs[0]:
        zero = b.data == 0
        if zero.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                local = np.where(zero, 0, b.data * np.power(a.data, b.data - 1))
        else:
            local = b.data * np.power(a.data, b.data - 1)
        ga = unbroadcast(g * local, a.shape)
    if needs[1]:
        safe_log = np.log(np.where(a.data > 0, a.data, 1))
        gb = unbroadcast(g * out * safe_log, b.shape)
    return ga, gb
    ### END SOLUTION


def _maximum(g, node, out, needs):
    """out = maximum(a, b): d out/da = [a > b], d out/db = [b > a], a tie gives each half; the
    gradients are g times those, each reduced to its input's shape by unbroadcast, None where
    needs[i] is False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    share = np.where(a.data > b.data, 1.0, np.where(a.data == b.data, 0.5, 0.0)).astype(g.dtype)
    return (unbroadcast(g * share, a.shape) if needs[0] else None,
            unbroadcast(g * (1 - share), b.shape) if needs[1] else None)
    ### END SOLUTION


def _neg(g, node, out, needs):
    """out = -a: d out/da = -1, so the gradient is (-g,)."""
    ### BEGIN SOLUTION
    return (-g,)
    ### END SOLUTION


def _exp(g, node, out, needs):
    """out = exp(a): d out/da = exp(a) = out, so the gradient is (g * out,)."""
    ### BEGIN SOLUTION
    return (g * out,)
    ### END SOLUTION


def _log(g, node, out, needs):
    """out = ln(a): d out/da = 1 / a, so the gradient is (g / a,)."""
    ### BEGIN SOLUTION
    return (g / node.inputs[0].data,)
    ### END SOLUTION


def _tanh(g, node, out, needs):
    """out = tanh(a): d out/da = 1 - tanh(a)^2 = 1 - out^2, so the gradient is
    (g * (1 - out^2),)."""
    ### BEGIN SOLUTION
    return (g * (1 - out * out),)
    ### END SOLUTION


def _masked(g, keep, finite):
    """g where `keep` holds, else 0.

    g * keep is branch-free, several times faster than np.where on a random mask (relu's),
    and exact for finite g; inf or nan in g takes np.where, so no inf * 0 = nan appears.
    """
    return g * keep if finite else np.where(keep, g, np.zeros((), dtype=g.dtype))


def _where(g, node, out, needs):
    """out = where(c, a, b), c = node.attrs["condition"] (a constant): d out/da = [c],
    d out/db = [not c], so the gradients are (g where c else 0, g where not c else 0), each
    reduced to its input's shape by unbroadcast, None where needs[i] is False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    keep = node.attrs["condition"].astype(bool, copy=False)
    finite = bool(np.isfinite(g).all())
    return (unbroadcast(_masked(g, keep, finite), a.shape) if needs[0] else None,
            unbroadcast(_masked(g, ~keep, finite), b.shape) if needs[1] else None)
    ### END SOLUTION


def _astype(g, node, out, needs):
    """out = a cast to another dtype: d out/da = 1, so the gradient is (g cast back to a's
    dtype,)."""
    ### BEGIN SOLUTION
    return (g.astype(node.inputs[0].dtype),)
    ### END SOLUTION


def _sum(g, node, out, needs):
    """out = sum(a) over node.attrs' axes: d out/da = 1 for every summed entry, so the gradient
    is (g broadcast back over the summed axes to a's shape,)."""
    ### BEGIN SOLUTION
    (a,) = node.inputs
    axis = node.attrs["axis"]
    if axis is not None and not node.attrs["keepdims"]:
        g = np.expand_dims(g, axis)
    return (np.broadcast_to(g, a.shape),)
    ### END SOLUTION


def _max(g, node, out, needs):
    """out = max(a): over all entries, d out/da is 1/k at each of the k tied maxima (PyTorch's
    max()); over axes, 1 at the first maximum of each slice (PyTorch's max(dim), max_pool2d); 0
    elsewhere. The gradient is (g spread that way, a's shape,)."""
    ### BEGIN SOLUTION
    (a,) = node.inputs
    axis = node.attrs["axis"]
    finite = bool(np.isfinite(g).all())
    if axis is None:
        mask = a.data == out
        return (_masked(g / mask.sum(dtype=g.dtype), mask, finite),)
    if not node.attrs["keepdims"]:
        g, out = np.expand_dims(g, axis), np.expand_dims(out, axis)
    return (_masked(g, _first_max(a.data, axis, out), finite),)
    ### END SOLUTION


def _first_max(a, axes, out):
    """A mask of a's shape: True at the first maximum (in C order over `axes`) of each slice.

    `out` holds the maxima with the reduced axes kept. One axis: the first True of a == out
    is where the running count of Trues along the axis is 1. Several axes are flattened into
    one first.
    """
    if len(axes) == 1:
        mask = a == out
        if mask.shape[axes[0]] <= _SWEEP_MAX:
            return _first_true_by_sweep(mask, axes[0])
        return mask & (np.cumsum(mask, axis=axes[0]) == 1)
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = a.transpose(rest + list(axes))  # reduced axes last, then flattened into one
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    keep = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(keep, np.argmax(flat, axis=-1)[..., None], True, axis=-1)
    return keep.reshape(moved.shape).transpose(np.argsort(rest + list(axes)))


_SWEEP_MAX = 16  # up to this many slices, a sweep over them beats cumsum's int64 counts


def _first_true_by_sweep(mask, axis):
    """mask with only the first True along `axis` kept, in place: one pass per slice.

    The same as mask & (cumsum(mask) == 1), without cumsum's 8-byte count per element; for
    max-pooling's short leading axis (KH*KW window offsets) that is 4x less memory traffic.
    """
    slices = np.moveaxis(mask, axis, 0)      # a view: writing to it writes to mask
    seen = slices[0].copy()
    for row in slices[1:]:
        row &= ~seen                         # a maximum an earlier slice already had: dropped
        seen |= row
    return mask


def _column_major(x):
    """True when x's last two axes are stored transposed (like W.T, a view of a row-major W)."""
    return x.ndim >= 2 and x.shape[-2] > 1 and x.shape[-1] > 1 and x.strides[-2] < x.strides[-1]


def _product(x, y, like):
    """x @ y, laid out in memory like `like`; (x @ y)^T = y^T @ x^T makes that free.

    Linear computes x @ W.T: W.T's gradient made column-major is row-major again after the
    permute rule, like W, so no transposing copy is needed to store or apply it.
    """
    if _column_major(like):
        return (y.swapaxes(-1, -2) @ x.swapaxes(-1, -2)).swapaxes(-1, -2)
    return x @ y


def _matmul(g, node, out, needs):
    """out = A @ B: the gradients are dL/dA = g @ B^T and dL/dB = A^T @ g (1-D operands
    promoted to matrices), each reduced to its input's shape by unbroadcast (batch axes summed
    back), None where needs[i] is False."""
    ### BEGIN SOLUTION
    a, b = node.inputs
    a2 = a.data if a.ndim > 1 else a.data[None, :]
    b2 = b.data if b.ndim > 1 else b.data[:, None]
    g2 = g
    if a.ndim == 1 or b.ndim == 1:  # put back the axes the promotion dropped from the output
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    ga = gb = None
    if needs[0]:
        ga = unbroadcast(_product(g2, b2.swapaxes(-1, -2), a2), a2.shape).reshape(a.shape)
    if needs[1]:
        gb = unbroadcast(_product(a2.swapaxes(-1, -2), g2, b2), b2.shape).reshape(b.shape)
    return ga, gb
    ### END SOLUTION


def _reshape(g, node, out, needs):
    """out = a reshaped: the gradient is (g reshaped back to a's shape,)."""
    ### BEGIN SOLUTION
    return (g.reshape(node.inputs[0].shape),)
    ### END SOLUTION


def _permute(g, node, out, needs):
    """out = a with its axes permuted (output axis i is input axis axes[i]): the gradient is (g
    under the inverse permutation,)."""
    ### BEGIN SOLUTION
    inverse = [0] * g.ndim
    for i, axis in enumerate(node.attrs["axes"]):
        inverse[axis] = i
    return (g.transpose(inverse),)
    ### END SOLUTION


def _broadcast_to(g, node, out, needs):
    """out = a broadcast to a larger shape: the gradient is (g summed over the broadcast axes,
    a's shape,)."""
    ### BEGIN SOLUTION
    return (unbroadcast(g, node.inputs[0].shape),)
    ### END SOLUTION


def _is_basic(index):
    """True for indexes of ints, slices, None and Ellipsis only (no element is picked twice)."""
    parts = index if isinstance(index, tuple) else (index,)
    basic = (int, np.integer, slice)
    return all(p is None or p is Ellipsis or isinstance(p, basic) for p in parts)


def _getitem(g, node, out, needs):
    """out = a[index]: the gradient is (zeros of a's shape with g added at the picked positions,
    repeated picks adding up,)."""
    ### BEGIN SOLUTION
    (a,) = node.inputs
    index = node.attrs["index"]
    grad = np.zeros(a.shape, dtype=g.dtype)
    if _is_basic(index):
        grad[index] = g
    else:
        np.add.at(grad, index, g)
    return (grad,)
    ### END SOLUTION


def _pad(g, node, out, needs):
    """out = a padded: the gradient is (g with the padding cropped off, a's shape,)."""
    ### BEGIN SOLUTION
    crop = tuple(slice(b, n - a) for (b, a), n in zip(node.attrs["pad_width"], g.shape))
    return (g[crop],)
    ### END SOLUTION


def _sliding_window(g, node, out, needs):
    """out = the windows of a: every window position adds its gradient back where it read from
    (one add per offset); the gradient is (that sum, a's shape,)."""
    ### BEGIN SOLUTION
    (a,) = node.inputs
    window, stride = node.attrs["window_shape"], node.attrs["stride"]
    n = len(window)
    counts = g.shape[a.ndim - n: a.ndim]
    grad = np.zeros(a.shape, dtype=g.dtype)
    for offset in itertools.product(*(range(k) for k in window)):
        target = tuple(slice(o, o + s * (c - 1) + 1, s) for o, s, c in zip(offset, stride, counts))
        grad[(Ellipsis,) + target] += g[(Ellipsis,) + offset]
    return (grad,)
    ### END SOLUTION


def _concatenate(g, node, out, needs):
    """out = the inputs concatenated along an axis: the gradients are g split back into the
    pieces, one per input (None where needs[i] is False)."""
    ### BEGIN SOLUTION
    axis = node.attrs["axis"]
    bounds = np.cumsum([t.shape[axis] for t in node.inputs])[:-1]
    return tuple(np.split(g, bounds, axis=axis))
    ### END SOLUTION


# The gradient rule of every primitive, keyed by its declaration in tt-tensor.
RULES = RuleTable({
    P.ADD: _add, P.SUB: _sub, P.MUL: _mul, P.DIV: _div, P.POW: _pow, P.MAXIMUM: _maximum,
    P.NEG: _neg, P.EXP: _exp, P.LOG: _log, P.TANH: _tanh, P.WHERE: _where, P.ASTYPE: _astype,
    P.SUM: _sum, P.MAX: _max, P.MATMUL: _matmul, P.RESHAPE: _reshape, P.PERMUTE: _permute,
    P.BROADCAST_TO: _broadcast_to, P.GETITEM: _getitem, P.PAD: _pad,
    P.SLIDING_WINDOW: _sliding_window, P.CONCATENATE: _concatenate,
})

"""Gradient rules as small classes, one per primitive, registered by name (my own design).

Every rule is an object called as `rule(g, node, out, needs)` (the upstream gradient, the
recorded node, the op's output array, which inputs want a gradient) that returns one gradient
per input, None where not needed. The families share their plumbing:

- `Elementwise` rules give the local partials of a broadcasting binary op; the base class
  undoes the broadcasting (`unbroadcast`) and skips the inputs that need nothing;
- `Unary` rules map g to the gradient of their single input;
- the rest (where, matmul, concatenate) implement `__call__` themselves.
"""

import numpy as np
from tt_tensor import Function

class _Table(dict):
    """RULES: a primitive's rule by name; a fused Function (a class) is its own rule."""

    def __missing__(self, op):
        if isinstance(op, type) and issubclass(op, Function):
            return FusedRule()
        raise KeyError(op)


RULES = _Table()


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: undo NumPy broadcasting (extra leading axes, size-1 axes)."""
    if grad.shape == shape:
        return grad
    ### BEGIN SOLUTION
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))  # axes NumPy prepended
    stretched = tuple(i for i, (want, have) in enumerate(zip(shape, grad.shape))
                      if want == 1 and have != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)  # size-1 axes NumPy repeated
    return grad.reshape(shape)
    ### END SOLUTION


def registers(name):
    """Class decorator: put one instance of the rule class into RULES[name]."""
    def register(cls):
        cls.name = name
        RULES[name] = cls()
        return cls
    return register


class Rule:
    """The gradient rule of one primitive."""

    name = "?"

    def __call__(self, g, node, out, needs):
        raise NotImplementedError

    def __repr__(self):
        return f"<rule {self.name}>"


class FusedRule(Rule):
    """A tt_tensor.Function's own backward, checked: one gradient (or None) per input, each
    shaped like its input."""

    name = "fused"

    def __call__(self, g, node, out, needs):
        parts = node.op.backward(node.ctx, g)
        parts = tuple(parts) if isinstance(parts, (tuple, list)) else (parts,)
        if len(parts) != len(node.inputs):
            raise RuntimeError(f"{node.name}.backward returned {len(parts)} gradient(s) for "
                               f"{len(node.inputs)} input(s)")
        for position, (tensor, part) in enumerate(zip(node.inputs, parts)):
            if part is not None and np.shape(part) != tensor.shape:
                raise RuntimeError(f"{node.name}.backward returned a gradient of shape "
                                   f"{np.shape(part)} for input {position} of shape "
                                   f"{tensor.shape}")
        return parts


class Elementwise(Rule):
    """A broadcasting binary op: `partials` gives (d a, d b) at the output's shape."""

    def __call__(self, g, node, out, needs):
        a, b = node.inputs
        da, db = self.partials(g, a.data, b.data, out, needs)
        return (unbroadcast(da, a.shape) if needs[0] else None,
                unbroadcast(db, b.shape) if needs[1] else None)

    def partials(self, g, a, b, out, needs):
        raise NotImplementedError


class Unary(Rule):
    """A one-input op: `grad_input` maps g to the input's gradient."""

    def __call__(self, g, node, out, needs):
        (x,) = node.inputs
        return (self.grad_input(g, x, out, node.attrs),)

    def grad_input(self, g, x, out, attrs):
        raise NotImplementedError


# ---------------------------------------------------------------- elementwise binary ops

@registers("add")
class Add(Elementwise):
    def partials(self, g, a, b, out, needs):
        return g, g  # d(a + b) = da + db


@registers("sub")
class Sub(Elementwise):
    def partials(self, g, a, b, out, needs):
        return g, (-g if needs[1] else None)  # d(a - b) = da - db


@registers("mul")
class Mul(Elementwise):
    def partials(self, g, a, b, out, needs):
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


@registers("div")
class Div(Elementwise):
    def partials(self, g, a, b, out, needs):
        # out = a / b: d out = da / b - out db / b
        per_b = g / b
        return per_b, (-per_b * out if needs[1] else None)


@registers("pow")
class Pow(Elementwise):
    def partials(self, g, a, b, out, needs):
        # out = a^b: d out = b a^(b-1) da + out ln(a) db, ln(a) read as 0 where a <= 0;
        # where b == 0, da is 0 (also at a == 0, where b a^(b-1) would be 0 * inf)
        da = None
        if needs[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                da = g * np.where(b == 0, 0.0, b * np.power(a, b - 1))
        db = None
        if needs[1]:
            ln_a = np.log(np.where(a > 0, a, 1.0))
            db = g * out * ln_a
        return da, db


@registers("maximum")
class Maximum(Elementwise):
    def partials(self, g, a, b, out, needs):
        # the larger input takes the gradient; a tie gives each half
        weight_a = (a > b).astype(g.dtype) + 0.5 * (a == b).astype(g.dtype)
        return g * weight_a, g * (1.0 - weight_a)


# ---------------------------------------------------------------- one-input ops

@registers("neg")
class Neg(Unary):
    def grad_input(self, g, x, out, attrs):
        return -g


@registers("exp")
class Exp(Unary):
    def grad_input(self, g, x, out, attrs):
        return g * out  # (e^x)' = e^x


@registers("log")
class Log(Unary):
    def grad_input(self, g, x, out, attrs):
        return g / x.data


@registers("tanh")
class Tanh(Unary):
    def grad_input(self, g, x, out, attrs):
        return g - g * out * out  # (1 - tanh^2) g


@registers("astype")
class AsType(Unary):
    def grad_input(self, g, x, out, attrs):
        return g.astype(x.dtype, copy=False)


def _kept(g, attrs, ndim):
    """g of a reduction, with the reduced axes put back as size 1 (unless keepdims was on)."""
    axis = attrs["axis"]
    if axis is None:
        return g.reshape((1,) * ndim)
    if attrs["keepdims"]:
        return g
    return np.expand_dims(g, axis)


@registers("sum")
class Sum(Unary):
    def grad_input(self, g, x, out, attrs):
        return np.broadcast_to(_kept(g, attrs, x.ndim), x.shape)  # every summand gets g


@registers("max")
class Max(Unary):
    def grad_input(self, g, x, out, attrs):
        # over everything: the tied maxima share the gradient equally (torch's max());
        # over axes: the first maximum of each slice takes it all (torch's max(dim))
        peak = _kept(out, attrs, x.ndim)
        winners = x.data == peak
        if attrs["axis"] is not None:
            winners = _first_only(winners, attrs["axis"])
        ties = winners.sum(axis=attrs["axis"], keepdims=True)
        return np.where(winners, _kept(g, attrs, x.ndim) / ties, 0.0).astype(g.dtype)


def _first_only(winners, axes):
    """Keep the first True of each slice over `axes` (C order): by a running count along
    the reduced axes flattened to one, last."""
    rest = [i for i in range(winners.ndim) if i not in axes]
    order = rest + list(axes)
    moved = winners.transpose(order)
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    first = flat & (np.cumsum(flat, axis=-1) == 1)
    return first.reshape(moved.shape).transpose(np.argsort(order))


@registers("reshape")
class Reshape(Unary):
    def grad_input(self, g, x, out, attrs):
        return g.reshape(x.shape)


@registers("permute")
class Permute(Unary):
    def grad_input(self, g, x, out, attrs):
        return g.transpose(np.argsort(attrs["axes"]))  # the inverse permutation


@registers("broadcast_to")
class BroadcastTo(Unary):
    def grad_input(self, g, x, out, attrs):
        return unbroadcast(g, x.shape)


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice))
               for p in parts)


@registers("getitem")
class GetItem(Unary):
    def grad_input(self, g, x, out, attrs):
        index = attrs["index"]
        scattered = np.zeros(x.shape, dtype=g.dtype)
        if _is_basic(index):  # a view: every position picked at most once
            scattered[index] = g
        else:  # fancy indexing may pick a position several times: add them all
            np.add.at(scattered, index, g)
        return scattered


@registers("pad")
class Pad(Unary):
    def grad_input(self, g, x, out, attrs):
        inner = tuple(slice(before, before + size)
                      for (before, _), size in zip(attrs["pad_width"], x.shape))
        return g[inner]


@registers("sliding_window")
class SlidingWindow(Unary):
    def grad_input(self, g, x, out, attrs):
        # g has shape lead + positions + window; each window cell adds back where it read
        window, stride = attrs["window_shape"], attrs["stride"]
        n = len(window)
        positions = g.shape[x.ndim - n: x.ndim]
        total = np.zeros(x.shape, dtype=g.dtype)
        for cell in np.ndindex(*window):
            reads = tuple(slice(c, c + s * (p - 1) + 1, s)
                          for c, s, p in zip(cell, stride, positions))
            np.add(total[(Ellipsis, *reads)], g[(Ellipsis, *cell)],
                   out=total[(Ellipsis, *reads)])
        return total


# ---------------------------------------------------------------- the others

@registers("where")
class Where(Rule):
    def __call__(self, g, node, out, needs):
        a, b = node.inputs
        pick = node.attrs["condition"].astype(bool, copy=False)
        zero = np.zeros((), dtype=g.dtype)  # exact zeros, even where g is inf or nan
        return (unbroadcast(np.where(pick, g, zero), a.shape) if needs[0] else None,
                unbroadcast(np.where(pick, zero, g), b.shape) if needs[1] else None)


@registers("matmul")
class MatMul(Rule):
    def __call__(self, g, node, out, needs):
        # C = A @ B: dA = dC @ B^T, dB = A^T @ dC (1-D operands promoted to matrices)
        a, b = node.inputs
        a2 = a.data[None, :] if a.ndim == 1 else a.data
        b2 = b.data[:, None] if b.ndim == 1 else b.data
        g2 = g.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
                       + (a2.shape[-2], b2.shape[-1]))
        da = db = None
        if needs[0]:
            da = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if needs[1]:
            db = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return da, db


@registers("concatenate")
class Concatenate(Rule):
    def __call__(self, g, node, out, needs):
        axis = node.attrs["axis"]
        ends = np.cumsum([t.shape[axis] for t in node.inputs])
        starts = np.concatenate([[0], ends[:-1]])
        pieces = []
        for t, start, end, need in zip(node.inputs, starts, ends, needs):
            index = [slice(None)] * g.ndim
            index[axis] = slice(int(start), int(end))
            pieces.append(g[tuple(index)] if need else None)
        return tuple(pieces)

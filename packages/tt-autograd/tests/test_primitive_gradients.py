"""Every tt-tensor primitive: its rule exists, and gradcheck passes on it (float64).

CASES is keyed by primitive name and must equal set(PRIMITIVES): a new primitive without a rule
or without a gradcheck case fails `test_every_primitive_has_a_rule_and_cases`. Each case is a
function of float64 leaves plus the arrays those leaves start from; shapes cover broadcasting
(size-1 axes, missing leading axes, 0-d tensors, Python scalars).
"""

import numpy as np
import pytest
from tt_tensor import (
    PRIMITIVES, Primitive, add_op_hook, broadcast_to, concatenate, float32, float64, getitem,
    matmul,
    maximum, pad, permute, reshape, sliding_window, tensor, where,
)
from tt_tensor import max as tt_max
from tt_tensor import pow as tt_pow
from tt_tensor import sum as tt_sum

from gradient_samples import Samples
from tt_autograd import RULES, gradcheck, unbroadcast

SAMPLES = Samples(2024)
RNG = SAMPLES.rng
r, pos, distinct = SAMPLES.r, SAMPLES.pos, SAMPLES.distinct


COND_34 = RNG.random((3, 4)) > 0.5
MASK_34 = np.array([[True, False, True, True], [False, False, True, False],
                    [True, True, False, True]])
CONST_23 = r(2, 3)

# primitive name -> {case label: (fn of the leaves, [starting arrays of the leaves])}
CASES = {
    "add": {
        "same": (lambda a, b: a + b, [r(3, 4), r(3, 4)]),
        "row": (lambda a, b: a + b, [r(3, 4), r(4)]),
        "outer": (lambda a, b: a + b, [r(3, 1), r(1, 4)]),
        "leading": (lambda a, b: a + b, [r(2, 3, 4), r(3, 1)]),
        "0d": (lambda a, b: a + b, [r(), r(3, 4)]),
        "python-scalar": (lambda a: 2.5 + a, [r(3)]),
        "reused": (lambda a: a + a, [r(2, 2)]),
    },
    "sub": {
        "same": (lambda a, b: a - b, [r(3, 4), r(3, 4)]),
        "col": (lambda a, b: a - b, [r(3, 4), r(3, 1)]),
        "leading": (lambda a, b: a - b, [r(4), r(2, 3, 4)]),
        "0d": (lambda a, b: a - b, [r(2, 3), r()]),
        "rsub-scalar": (lambda a: 1.0 - a, [r(5)]),
    },
    "mul": {
        "same": (lambda a, b: a * b, [r(3, 4), r(3, 4)]),
        "outer": (lambda a, b: a * b, [r(3, 1), r(1, 4)]),
        "leading": (lambda a, b: a * b, [r(2, 3, 4), r(4)]),
        "0d": (lambda a, b: a * b, [r(), r(2, 3)]),
        "square": (lambda a: a * a, [r(3)]),
        "python-scalar": (lambda a: a * -3.0, [r(2, 2)]),
    },
    "div": {
        "same": (lambda a, b: a / b, [r(3, 4), pos(3, 4)]),
        "row": (lambda a, b: a / b, [r(3, 4), pos(4)]),
        "leading": (lambda a, b: a / b, [r(2, 3, 4), pos(3, 1)]),
        "0d-numerator": (lambda a, b: a / b, [r(), pos(3)]),
        "rtruediv-scalar": (lambda b: 1.0 / b, [pos(3, 4)]),
    },
    "pow": {
        "square-const": (lambda a: a ** 2.0, [r(3, 4)]),
        "cube-negative-base": (lambda a: a ** 3.0, [r(5)]),
        "sqrt-const": (lambda a: a ** 0.5, [pos(3, 4)]),
        "tensor-exponent": (lambda a, b: a ** b, [pos(3, 4), r(3, 4)]),
        "broadcast-exponent": (lambda a, b: tt_pow(a, b), [pos(2, 3, 4), r(4)]),
        "0d-base": (lambda a, b: a ** b, [pos(), r(2, 3)]),
        "scalar-base": (lambda b: 2.0 ** b, [r(3)]),
    },
    "maximum": {
        "same": (maximum, [distinct(3, 4), distinct(3, 4, offset=0.1)]),
        "row": (maximum, [distinct(3, 4), distinct(4, offset=0.1)]),
        "0d": (maximum, [distinct(), distinct(2, 3, offset=0.1)]),
        "python-scalar": (lambda a: maximum(a, 0.05), [distinct(2, 5)]),
    },
    "neg": {f"{len(s)}d": (lambda a: -a, [r(*s)]) for s in [(), (5,), (2, 3, 4)]},
    "exp": {f"{len(s)}d": (lambda a: a.exp(), [r(*s)]) for s in [(), (5,), (2, 3, 4)]},
    "log": {f"{len(s)}d": (lambda a: a.log(), [pos(*s)]) for s in [(), (5,), (2, 3, 4)]},
    "tanh": {f"{len(s)}d": (lambda a: a.tanh(), [r(*s)]) for s in [(), (5,), (2, 3, 4)]},
    "where": {
        "same": (lambda a, b: where(COND_34, a, b), [r(3, 4), r(3, 4)]),
        "broadcast": (lambda a, b: where(COND_34, a, b), [r(4), r(3, 1)]),
        "python-scalar": (lambda a: where(COND_34, a, 0.0), [r(3, 4)]),
        "0d-branch": (lambda a, b: where(COND_34[0], a, b), [r(), r(3, 4)]),
        "tensor-condition": (lambda a, b: where(tensor(COND_34), a, b), [r(3, 4), r(1, 4)]),
    },
    "astype": {
        "float64-to-float64": (lambda a: a.astype(float64), [r(3, 4)]),
        "inside-expression": (lambda a: a.astype(float64) * a, [r(5)]),
    },
    "sum": {
        "all": (lambda a: a.sum(), [r(2, 3, 4)]),
        "all-keepdims": (lambda a: tt_sum(a, None, True), [r(2, 3, 4)]),
        "axis0": (lambda a: a.sum(0), [r(2, 3, 4)]),
        "axis-1": (lambda a: a.sum(-1), [r(2, 3, 4)]),
        "axis1-keepdims": (lambda a: a.sum(1, keepdims=True), [r(2, 3, 4)]),
        "tuple": (lambda a: a.sum((0, 2)), [r(2, 3, 4)]),
        "tuple-keepdims": (lambda a: a.sum((0, 2), keepdims=True), [r(2, 3, 4)]),
        "0d": (lambda a: a.sum(), [r()]),
    },
    "max": {
        "all": (lambda a: a.max(), [distinct(2, 3, 4)]),
        "all-keepdims": (lambda a: tt_max(a, None, True), [distinct(2, 3, 4)]),
        "axis0": (lambda a: a.max(0), [distinct(2, 3, 4)]),
        "axis-1": (lambda a: a.max(-1), [distinct(2, 3, 4)]),
        "axis1-keepdims": (lambda a: a.max(1, keepdims=True), [distinct(2, 3, 4)]),
        "tuple": (lambda a: a.max((0, 2)), [distinct(2, 3, 4)]),
        "tuple-keepdims": (lambda a: a.max((0, 2), keepdims=True), [distinct(2, 3, 4)]),
    },
    "matmul": {
        "2d-2d": (matmul, [r(3, 4), r(4, 5)]),
        "1d-2d": (matmul, [r(4), r(4, 5)]),
        "2d-1d": (matmul, [r(3, 4), r(4)]),
        "1d-1d": (matmul, [r(4), r(4)]),
        "batched-2d": (matmul, [r(2, 3, 4), r(4, 5)]),
        "2d-batched": (matmul, [r(3, 4), r(2, 4, 5)]),
        "batch-broadcast": (matmul, [r(2, 1, 3, 4), r(5, 4, 2)]),
        "1d-batched": (matmul, [r(4), r(2, 4, 3)]),
        "operator": (lambda a, b: a @ b, [r(2, 3), r(3, 2)]),
        "transposed-right": (lambda a, b: a @ b.T, [r(3, 4), r(5, 4)]),
        "transposed-left": (lambda a, b: a.T @ b, [r(4, 3), r(4, 5)]),
        "transposed-batched": (lambda a, b: a @ b.permute(0, 2, 1), [r(2, 3, 4), r(2, 5, 4)]),
    },
    "reshape": {
        "merge": (lambda a: a.reshape(4, 6), [r(2, 3, 4)]),
        "flat": (lambda a: reshape(a, (-1,)), [r(2, 3, 4)]),
        "0d-up": (lambda a: a.reshape(1, 1), [r()]),
        "non-contiguous": (lambda a: a.T.reshape(12), [r(3, 4)]),
    },
    "permute": {
        "3d": (lambda a: permute(a, (2, 0, 1)), [r(2, 3, 4)]),
        "negative-axes": (lambda a: a.permute(-1, 0, 1), [r(2, 3, 4)]),
        "T": (lambda a: a.T, [r(3, 4)]),
    },
    "broadcast_to": {
        "size1-and-leading": (lambda a: broadcast_to(a, (2, 3, 4)), [r(3, 1)]),
        "0d": (lambda a: broadcast_to(a, (2, 3)), [r()]),
        "row": (lambda a: a.broadcast_to(3, 4), [r(4)]),
        "inner-size1": (lambda a: a.expand(2, 5, 3), [r(2, 1, 3)]),
    },
    "getitem": {
        "int": (lambda a: a[1], [r(3, 4)]),
        "slices": (lambda a: a[1:3, ::2], [r(3, 4)]),
        "negative-steps": (lambda a: a[::-1, 3:0:-2], [r(3, 4)]),
        "none-ellipsis": (lambda a: a[..., None, 1], [r(2, 3, 4)]),
        "int-array-repeats": (lambda a: a[[0, 0, 2, 0]], [r(3, 4)]),
        "int-arrays-2d": (lambda a: a[np.array([0, 2, 2]), np.array([1, 1, 3])], [r(3, 4)]),
        "slice-and-array": (lambda a: a[1:, [0, 0, 3]], [r(3, 4)]),
        "bool-mask": (lambda a: a[MASK_34], [r(3, 4)]),
        "bool-rows": (lambda a: a[np.array([True, False, True])], [r(3, 4)]),
        "tensor-index": (lambda a: getitem(a, tensor([2, 0, 2])), [r(3, 4)]),
    },
    "pad": {
        "int": (lambda a: pad(a, 1), [r(3, 4)]),
        "pairs": (lambda a: pad(a, ((1, 2), (0, 3))), [r(3, 4)]),
        "value-1d": (lambda a: pad(a, ((2, 1),), value=3.0), [r(5)]),
        "3d-spatial": (lambda a: pad(a, ((0, 0), (1, 1), (2, 2))), [r(2, 3, 4)]),
    },
    "sliding_window": {
        "1d-stride2": (lambda a: sliding_window(a, (3,), stride=2), [r(9)]),
        "2d-nonsquare": (lambda a: sliding_window(a, (2, 3)), [r(5, 6)]),
        "stride-per-axis": (lambda a: sliding_window(a, (3, 2), stride=(2, 3)), [r(2, 7, 8)]),
        "conv-like": (lambda a: sliding_window(a, (3, 3)), [r(2, 2, 5, 5)]),
    },
    "concatenate": {
        "axis0": (lambda a, b: concatenate([a, b], 0), [r(2, 3), r(4, 3)]),
        "axis1-three": (lambda a, b, c: concatenate([a, b, c], 1), [r(2, 1), r(2, 3), r(2, 2)]),
        "axis-1-3d": (lambda a, b: concatenate([a, b], -1), [r(2, 3, 1), r(2, 3, 2)]),
        "with-constant": (lambda a: concatenate([tensor(CONST_23, dtype=float64), a], 0),
                          [r(1, 3)]),
        "reused": (lambda a: concatenate([a, a], 0), [r(2, 2)]),
    },
}

CASE_IDS = [(name, label) for name in CASES for label in CASES[name]]


def leaves(arrays):
    return [tensor(a, dtype=float64, requires_grad=True) for a in arrays]


def test_every_primitive_has_a_rule_and_cases():
    primitives = set(PRIMITIVES)
    assert primitives - set(RULES) == set(), "primitives without a gradient rule"
    assert set(RULES) - primitives == set(), "rules for names that are not primitives"
    assert len(RULES) == len(Primitive), "one rule per declared primitive"
    assert set(CASES) == primitives, "CASES must have an entry for every primitive"
    assert all(len(cases) >= 2 for cases in CASES.values())


@pytest.mark.parametrize("name,label", CASE_IDS, ids=[f"{n}-{c}" for n, c in CASE_IDS])
def test_gradcheck_primitive(name, label):
    fn, arrays = CASES[name][label]
    assert gradcheck(fn, *leaves(arrays))


@pytest.mark.parametrize("name,label", CASE_IDS, ids=[f"{n}-{c}" for n, c in CASE_IDS])
def test_case_runs_its_primitive_forward_and_backward(name, label):
    """The case really exercises `name`: op hooks see its forward op and its backward rule."""
    fn, arrays = CASES[name][label]
    events = []
    with add_op_hook(lambda e: events.append((e.op, e.phase))):
        out = fn(*leaves(arrays))
        out.backward(np.ones(out.shape))
    assert (name, "forward") in events
    assert (name, "backward") in events


# --- exact checks that central differences cannot make --------------------------------------
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_over_everything_shares_ties_equally(keepdims):
    """PyTorch's max() without dim: the k tied maxima get g / k each."""
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [3.0, -1.0, 3.0, 3.0]])
    a = tensor(x, dtype=float64, requires_grad=True)
    out = tt_max(a, None, keepdims)
    out.backward(np.full(out.shape, 6.0))
    mask = x == x.max()
    np.testing.assert_array_equal(a.grad.data, 6.0 * mask / mask.sum())


def _first_max_mask(x, axes):
    """Closed form of "the first maximum in C order over `axes`", by NumPy's argmax."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    one_hot = np.arange(flat.shape[-1]) == np.argmax(flat, axis=-1)[..., None]
    return one_hot.reshape(moved.shape).transpose(np.argsort(rest + list(axes)))


@pytest.mark.parametrize("axis,keepdims", [(1, False), (0, True), ((0, 1), False), (-1, True),
                                           ((1, 2), True), (2, False)])
def test_max_over_axes_gives_ties_to_the_first_index(axis, keepdims):
    """PyTorch's max(dim) (and max_pool2d): the gradient goes to the first of tied maxima."""
    x = np.array([[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [3.0, -1.0, 3.0, 3.0]],
                  [[3.0, 3.0, 1.0, 3.0], [0.0, 0.0, 5.0, 5.0], [3.0, 2.0, 1.0, 3.0]]])
    a = tensor(x, dtype=float64, requires_grad=True)
    out = tt_max(a, axis, keepdims)
    upstream = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    out.backward(upstream)
    axes = tuple(sorted(i % x.ndim for i in np.atleast_1d(axis)))
    up = upstream if keepdims else np.expand_dims(upstream, axes)
    np.testing.assert_array_equal(a.grad.data, _first_max_mask(x, axes) * up)
    assert np.count_nonzero(a.grad.data) == out.data.size  # one index per reduced slice


@pytest.mark.parametrize("length", [1, 2, 4, 16, 17, 40])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_max_along_short_and_long_axes_gives_ties_to_the_first_index(length, axis):
    """Short axes (max-pool's window offsets) and long ones take different code; both must
    give each slice's gradient to its first maximum, ties included."""
    rng = np.random.default_rng(length)
    shape = [3, 4, 5]
    shape[axis] = length
    x = rng.integers(0, 3, shape).astype(np.float64)  # values 0..2: many ties
    a = tensor(x, dtype=float64, requires_grad=True)
    out = tt_max(a, axis)
    upstream = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    out.backward(upstream)
    expected = _first_max_mask(x, (axis,)) * np.expand_dims(upstream, axis)
    np.testing.assert_array_equal(a.grad.data, expected)


def test_max_tie_goes_to_the_first_index_along_a_dim():
    a = tensor([[5.0, 1.0, 5.0, 5.0]], dtype=float64, requires_grad=True)
    a.max(axis=1).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[1.0, 0.0, 0.0, 0.0]])


def test_max_tie_closed_form():
    a = tensor([5.0, 1.0, 5.0, 5.0], dtype=float64, requires_grad=True)
    a.max().backward()
    np.testing.assert_array_equal(a.grad.data, [1 / 3, 0.0, 1 / 3, 1 / 3])


def test_maximum_ties_split_half_and_half():
    a = tensor([1.0, 2.0, 3.0], dtype=float64, requires_grad=True)
    b = tensor([1.0, 5.0, 3.0], dtype=float64, requires_grad=True)
    maximum(a, b).backward(np.array([2.0, 4.0, 8.0]))
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 4.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 4.0, 4.0])


def test_getitem_repeated_picks_add_up():
    a = tensor(r(3, 2), dtype=float64, requires_grad=True)
    a[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]])


def test_sliding_window_gradient_counts_window_cover():
    h, w, kh, kw, s = 6, 7, 3, 2, 2
    a = tensor(np.zeros((h, w)), dtype=float64, requires_grad=True)
    sliding_window(a, (kh, kw), stride=s).sum().backward()
    cover = np.zeros((h, w))
    for i in range(0, h - kh + 1, s):
        for j in range(0, w - kw + 1, s):
            cover[i:i + kh, j:j + kw] += 1
    np.testing.assert_array_equal(a.grad.data, cover)


def test_astype_gradient_comes_back_in_the_input_dtype():
    a = tensor(r(2, 3), dtype=float64, requires_grad=True)
    (a.astype(float32) * 2.0).sum().backward()
    assert a.grad.dtype == float64
    np.testing.assert_array_equal(a.grad.data, np.full((2, 3), 2.0))


def test_where_gives_exact_zeros_where_the_upstream_gradient_is_not_finite():
    a = tensor([1.0, 2.0, 3.0], dtype=float64, requires_grad=True)
    b = tensor([4.0, 5.0, 6.0], dtype=float64, requires_grad=True)
    where(np.array([True, False, True]), a, b).backward(np.array([np.inf, np.nan, 2.0]))
    np.testing.assert_array_equal(a.grad.data, [np.inf, 0.0, 2.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, np.nan, 0.0])


def test_where_with_a_non_boolean_condition():
    a = tensor([1.0, 2.0, 3.0], dtype=float64, requires_grad=True)
    b = tensor([4.0, 5.0, 6.0], dtype=float64, requires_grad=True)
    where(np.array([2, 0, -1]), a, b).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 2.0, 0.0])


def test_where_condition_selects_the_branch_exactly():
    a = tensor(r(3, 4), dtype=float64, requires_grad=True)
    b = tensor(r(4), dtype=float64, requires_grad=True)
    where(COND_34, a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, COND_34.astype(float))
    np.testing.assert_array_equal(b.grad.data, (~COND_34).sum(axis=0).astype(float))


@pytest.mark.parametrize("grad_shape,shape", [
    ((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (3, 1)), ((2, 3, 4), ()),
    ((2, 3, 4), (1, 1, 4)), ((5, 1, 3), (1, 1, 3)), ((4,), (1,)),
])
def test_unbroadcast_sums_to_the_input_shape(grad_shape, shape):
    g = r(*grad_shape)
    out = unbroadcast(g, shape)
    assert out.shape == shape
    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad_shape[lead + i] != 1)
    np.testing.assert_allclose(out, g.sum(axis=axes).reshape(shape), rtol=1e-12)

"""Task 2: the broadcast rule, elementwise ops with broadcasting, Python scalars on either side
(the dtype of results), where, comparisons."""

import operator

import numpy as np
import pytest

import tt_tensor as tt


# --- the broadcast rule --------------------------------------------------------------------
BROADCASTABLE = [
    (), ((3,),), ((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 3)), ((1,), (2, 1, 4)),
    ((), (2, 3)), ((2, 3), ()), ((2, 1), (1, 3), (5, 1, 1)), ((0,), (1,)), ((3, 0, 2), (1, 2)),
    ((1, 1), (1,)), ([2, 1], [3]),
]


@pytest.mark.parametrize("shapes", BROADCASTABLE, ids=str)
def test_broadcast_shapes_follows_numpy(shapes):
    out = tt.broadcast_shapes(*shapes)
    assert type(out) is tuple and all(type(s) is int for s in out)
    assert out == np.broadcast_shapes(*shapes)


NOT_BROADCASTABLE = [
    (((2, 3), (4,)), -1), (((4,), (2, 3)), -1), (((2, 3), (3, 2)), -1),
    (((2, 3, 4), (5, 1, 4)), -3), (((0,), (2,)), -1), (((2, 1), (3,), (4, 1, 2)), -1),
    (((7, 1, 1), (1, 5, 1), (6, 1, 1)), -3),
]


@pytest.mark.parametrize("shapes, axis", NOT_BROADCASTABLE, ids=str)
def test_broadcast_shapes_error_names_every_shape_and_the_axis(shapes, axis):
    with pytest.raises(ValueError):
        np.broadcast_shapes(*shapes)  # the rule says no: so must we
    with pytest.raises(ValueError) as err:
        tt.broadcast_shapes(*shapes)
    message = str(err.value)
    for shape in shapes:
        assert str(shape) in message, f"{shape} not in {message!r}"
    assert f"axis {axis}" in message, message


@pytest.mark.parametrize("op, fn", [("add", lambda a, b: a + b), ("mul", tt.mul),
                                    ("maximum", tt.maximum)])
def test_a_binary_op_that_cannot_broadcast_names_itself_and_both_shapes(op, fn):
    with pytest.raises(ValueError) as err:
        fn(tt.randn(2, 3), tt.randn(4, 1, 2))
    message = str(err.value)
    assert message.startswith(f"{op}: ") and "(2, 3)" in message and "(4, 1, 2)" in message


# (id, tt function, the NumPy expression, inputs must be positive)
BINARY = [
    ("+", operator.add, operator.add, False),
    ("-", operator.sub, operator.sub, False),
    ("*", operator.mul, operator.mul, False),
    ("/", operator.truediv, operator.truediv, False),
    ("**", operator.pow, operator.pow, True),
    ("add", tt.add, np.add, False),
    ("sub", tt.sub, np.subtract, False),
    ("mul", tt.mul, np.multiply, False),
    ("div", tt.div, np.true_divide, False),
    ("pow", tt.pow, np.power, True),
    ("maximum", tt.maximum, np.maximum, False),
    ("minimum", tt.minimum, np.minimum, False),
]


@pytest.mark.parametrize("name, tt_fn, np_fn, positive", BINARY, ids=[b[0] for b in BINARY])
def test_binary_op_broadcasts_like_numpy(check_op, binary_shapes, name, tt_fn, np_fn, positive):
    check_op(tt_fn, np_fn, *binary_shapes, positive=positive)


def _scalar_cases():
    """Every binary op x dtype x (float, int) scalar."""
    for name, tt_fn, np_fn, _ in BINARY:
        for dtype in (np.float32, np.float64):
            for scalar in (2.5, 3):
                yield pytest.param(tt_fn, np_fn, dtype, scalar,
                                   id=f"{name}-{np.dtype(dtype).name}-{scalar!r}")


@pytest.mark.parametrize("tt_fn, np_fn, dtype, scalar", list(_scalar_cases()))
def test_binary_op_with_python_scalar_keeps_dtype(tt_fn, np_fn, dtype, scalar):
    a = np.random.default_rng(0).uniform(0.5, 2.0, size=(2, 3)).astype(dtype)
    x = tt.tensor(a, dtype=dtype)
    for out, expected in ((tt_fn(x, scalar), np_fn(a, scalar)),
                          (tt_fn(scalar, x), np_fn(scalar, a))):
        assert isinstance(out, tt.Tensor)
        assert out.dtype == dtype == expected.dtype  # float32 * 2.0 stays float32
        np.testing.assert_allclose(out.data, expected, rtol=1e-6)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv],
                         ids=["+", "-", "*", "/"])
def test_ndarray_on_the_left_gives_a_tensor(op):
    a = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    x = tt.tensor(a[::-1].copy())
    out = op(a, x)
    assert isinstance(out, tt.Tensor)
    np.testing.assert_allclose(out.data, op(a, x.data))


def test_integer_tensors_follow_numpy():
    a = np.arange(6).reshape(2, 3)
    x = tt.tensor(a)
    for out, expected in ((x + 2, a + 2), (x * x, a * a), (x - tt.tensor(a[0]), a - a[0])):
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.data, expected)
    for out, expected in ((x * 2.5, a * 2.5), (2.5 - x, 2.5 - a), (x / 2, a / 2)):
        assert out.dtype == expected.dtype == np.float64  # NumPy's promotion, not PyTorch's
        np.testing.assert_allclose(out.data, expected)


@pytest.mark.parametrize(
    "dtype, number, wanted",
    [(np.int64, 2, np.int64), (np.int32, 2, np.int64), (np.int8, 2, np.int64),
     (np.int64, 2.5, np.float64), (np.int32, 2.5, np.float64), (np.bool_, 2, np.int64),
     (np.bool_, True, np.bool_), (np.bool_, 2.5, np.float32)],
    ids=str,
)
def test_a_number_next_to_an_integer_or_bool_tensor_is_a_tensor_first(dtype, number, wanted):
    """The written rule: next to a non-floating tensor a Python number is made a tensor as
    `tensor()` makes one (int -> int64, float -> float32, bool -> bool), then NumPy promotes
    the two arrays: int32 + 2 is int64 (NumPy alone would keep int32)."""
    a = np.arange(1, 7).reshape(2, 3).astype(dtype)
    constant = np.asarray(number, dtype={int: np.int64, float: np.float32, bool: np.bool_}[
        type(number)])
    for out, expected in ((tt.add(tt.from_numpy(a), number), np.add(a, constant)),
                          (tt.mul(number, tt.from_numpy(a)), np.multiply(constant, a))):
        assert out.dtype == expected.dtype == wanted
        np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bool_and_ndarray_operands(dtype):
    a = np.arange(6.0).reshape(2, 3).astype(dtype)
    x = tt.tensor(a, dtype=dtype)
    out = x * True  # a Python bool is a number too: it takes the tensor's dtype
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, a * True)
    b = np.full(3, 2.0)  # an ndarray keeps its dtype (float64): NumPy promotes
    for out, expected in ((x + b, a + b), (b - x, b - a)):
        assert isinstance(out, tt.Tensor) and out.dtype == expected.dtype
        np.testing.assert_allclose(out.data, expected)


# --- unary ops ----------------------------------------------------------------------------
UNARY = [
    ("neg", tt.neg, np.negative, False),
    ("unary minus", operator.neg, operator.neg, False),
    ("exp", tt.exp, np.exp, False),
    ("log", tt.log, np.log, True),
    ("sqrt", tt.sqrt, np.sqrt, True),
    ("tanh", tt.tanh, np.tanh, False),
    ("abs", tt.abs, np.abs, False),
    ("x.exp()", lambda x: x.exp(), np.exp, False),
    ("x.log()", lambda x: x.log(), np.log, True),
    ("x.sqrt()", lambda x: x.sqrt(), np.sqrt, True),
    ("x.tanh()", lambda x: x.tanh(), np.tanh, False),
    ("x.abs()", lambda x: x.abs(), np.abs, False),
    ("x ** 2", lambda x: x ** 2, lambda a: a ** 2, False),
    ("2 ** x", lambda x: 2 ** x, lambda a: 2 ** a, False),
    ("1 / x", lambda x: 1 / x, lambda a: 1 / a, True),
    ("clip(x, -0.5, 0.5)", lambda x: tt.clip(x, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
     False),
    ("clip(x, min=0.1)", lambda x: tt.clip(x, min=0.1), lambda a: np.maximum(a, 0.1), False),
    ("x.clip(max=0.2)", lambda x: x.clip(max=0.2), lambda a: np.minimum(a, 0.2), False),
    ("maximum(x, 0.0)", lambda x: tt.maximum(x, 0.0), lambda a: np.maximum(a, 0.0), False),
    ("minimum(x, 0.0)", lambda x: tt.minimum(x, 0.0), lambda a: np.minimum(a, 0.0), False),
]


@pytest.mark.parametrize("name, tt_fn, np_fn, positive", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_op_matches_numpy(check_op, unary_shape, name, tt_fn, np_fn, positive, dtype):
    check_op(tt_fn, np_fn, unary_shape, positive=positive, dtype=dtype)


def test_clip_with_int_bounds_keeps_float32(check_op):
    check_op(lambda x: tt.clip(x, -1, 1), lambda a: np.clip(a, -1, 1), (2, 3))


def test_minimum_with_int_keeps_float32(check_op):
    check_op(lambda x: tt.minimum(x, 0), lambda a: np.minimum(a, 0), (2, 3))


def test_abs_and_clip_on_integers():
    a = np.array([-3, 0, 2, 5])
    x = tt.tensor(a)
    np.testing.assert_array_equal(tt.abs(x).data, np.abs(a))
    assert tt.abs(x).dtype == np.int64
    np.testing.assert_array_equal(tt.clip(x, -1, 3).data, np.clip(a, -1, 3))


# --- where --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cond_shape, a_shape, b_shape",
    [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()), ((2, 1), (1, 3), (2, 3)),
     ((3,), (4, 1, 3), (1,))],
)
def test_where_broadcasts_like_numpy(check_op, cond_shape, a_shape, b_shape):
    cond = np.random.default_rng(5).random(cond_shape) > 0.5
    check_op(lambda a, b: tt.where(tt.tensor(cond), a, b),
             lambda a, b: np.where(cond, a, b), a_shape, b_shape)
    check_op(lambda a, b: tt.where(cond, a, b),  # an ndarray condition works too
             lambda a, b: np.where(cond, a, b), a_shape, b_shape)


def test_where_with_scalars_keeps_dtype(check_op):
    out = check_op(lambda x: tt.where(x > 0, x, 0.0), lambda a: np.where(a > 0, a, 0.0), (3, 4))
    assert out.dtype == np.float32
    check_op(lambda x: tt.where(x > 0, 1.0, x), lambda a: np.where(a > 0, 1.0, a), (3, 4))


# --- comparisons --------------------------------------------------------------------------
COMPARISONS = [
    ("==", operator.eq), ("!=", operator.ne), ("<", operator.lt),
    ("<=", operator.le), (">", operator.gt), (">=", operator.ge),
]
COMPARISON_FNS = [("eq", tt.eq, np.equal), ("ne", tt.ne, np.not_equal), ("lt", tt.lt, np.less),
                  ("le", tt.le, np.less_equal), ("gt", tt.gt, np.greater),
                  ("ge", tt.ge, np.greater_equal)]


def _with_ties(shape, seed):
    """Small integers as floats, so == and <= see real ties."""
    return np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float32)


@pytest.mark.parametrize("name, op", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparison_operators(binary_shapes, name, op):
    a, b = _with_ties(binary_shapes[0], 1), _with_ties(binary_shapes[1], 2)
    x, y = tt.tensor(a, requires_grad=True), tt.tensor(b)
    for out, expected in ((op(x, y), op(a, b)), (op(x, 1.0), op(a, 1.0)),
                          (op(1.0, x), op(1.0, a))):
        assert isinstance(out, tt.Tensor) and out.dtype == np.bool_
        np.testing.assert_array_equal(out.data, expected)
        assert out.grad_fn is None and out.requires_grad is False  # not differentiable


@pytest.mark.parametrize("name, tt_fn, np_fn", COMPARISON_FNS, ids=[c[0] for c in COMPARISON_FNS])
def test_comparison_functions(binary_shapes, name, tt_fn, np_fn):
    a, b = _with_ties(binary_shapes[0], 3), _with_ties(binary_shapes[1], 4)
    out = tt_fn(tt.tensor(a), tt.tensor(b))
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out.data, np_fn(a, b))


def test_tensor_stays_hashable():
    x = tt.tensor([1.0])
    assert {x: 1}[x] == 1


# --- astype -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, tt_fn, np_fn",
    [
        ("astype(float64)", lambda x: tt.astype(x, tt.float64), lambda a: a.astype(np.float64)),
        ("astype(int64)", lambda x: x.astype(tt.int64), lambda a: a.astype(np.int64)),
        ("double()", lambda x: x.double(), lambda a: a.astype(np.float64)),
        ("float()", lambda x: x.double().float(), lambda a: a.astype(np.float32)),
        ("long()", lambda x: (x * 3).long(), lambda a: (a * 3).astype(np.int64)),
    ],
)
def test_astype(check_op, unary_shape, name, tt_fn, np_fn):
    check_op(tt_fn, np_fn, unary_shape)

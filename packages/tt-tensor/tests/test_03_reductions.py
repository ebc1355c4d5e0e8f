"""Task 3: reductions (sum, mean, max, min, var, argmax) over axis None, int, tuple, negative."""

import numpy as np
import pytest

import tt_tensor as tt

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]
SHAPES = [(2, 3, 4), (3, 1, 4)]

# (name, tt function form, NumPy expression)
REDUCTIONS = [
    ("sum", tt.sum, np.sum),
    ("mean", tt.mean, np.mean),
    ("max", tt.max, np.max),
    ("min", tt.min, np.min),
    ("var", tt.var, lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1)),
]

REF = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
       "var": lambda a: np.var(a, ddof=1)}


def _cases():
    for name, tt_fn, np_fn in REDUCTIONS:
        for axis in AXES:
            for keepdims in (False, True):
                yield pytest.param(name, tt_fn, np_fn, axis, keepdims,
                                   id=f"{name}-axis={axis}-keepdims={keepdims}")


# var over the size-1 axis divides 0 by 0 (count - correction = 0): NaN on both sides.
@pytest.mark.filterwarnings("ignore:invalid value encountered", "ignore:Degrees of freedom")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, tt_fn, np_fn, axis, keepdims", list(_cases()))
def test_reduction_function(check_op, shape, name, tt_fn, np_fn, axis, keepdims):
    check_op(lambda x: tt_fn(x, axis, keepdims),
             lambda a: np_fn(a, axis=axis, keepdims=keepdims), shape)


@pytest.mark.parametrize("name, tt_fn, np_fn, axis, keepdims", list(_cases()))
def test_reduction_method(check_op, name, tt_fn, np_fn, axis, keepdims):
    check_op(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
             lambda a: np_fn(a, axis=axis, keepdims=keepdims), (2, 3, 4))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var"])
def test_reduction_of_a_vector_is_0d(check_op, name):
    out = check_op(lambda x: getattr(x, name)(), lambda a: REF[name](a), (7,), dtype=np.float64)
    assert out.ndim == 0 and isinstance(out.item(), float)


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_correction(check_op, axis, correction):
    check_op(lambda x: x.var(axis, correction=correction),
             lambda a: np.var(a, axis=axis, ddof=correction), (4, 6))


@pytest.mark.parametrize("name", ["sum", "max", "min"])
def test_integer_reductions_keep_int64(name):
    a = np.random.default_rng(2).integers(-9, 9, size=(3, 4))
    out = getattr(tt.tensor(a), name)()
    assert out.dtype == np.int64
    assert out.item() == REF[name](a)


@pytest.mark.parametrize(
    "shape, axis",
    [((7,), None), ((7,), 0), ((7,), -1), ((3, 5), None), ((3, 5), 0), ((3, 5), 1),
     ((3, 5), -1), ((2, 3, 4), None), ((2, 3, 4), 1), ((2, 3, 4), -1)],
)
def test_argmax(shape, axis):
    a = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    for out in (tt.argmax(tt.tensor(a), axis), tt.tensor(a).argmax(axis)):
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.data, np.argmax(a, axis=axis))


# --- which axes: negative, tuples, repeats, 0-d ---------------------------------------------
@pytest.mark.parametrize("name", ["sum", "max"])
@pytest.mark.parametrize(
    "axis, axes", [(None, None), (0, (0,)), (-1, (2,)), ((2, -3), (0, 2)), ([1, 0], (0, 1)),
                   ((-1, -2, -3), (0, 1, 2)), (np.int64(-2), (1,)), ((), ())],
    ids=str,
)
def test_reductions_record_their_axes_normalised(name, axis, axes):
    x = tt.randn(2, 3, 4, requires_grad=True)
    node = getattr(tt, name)(x, axis, True).grad_fn
    assert node.attrs["axis"] == axes and node.attrs["keepdims"] is True
    assert axes is None or type(node.attrs["axis"]) is tuple


@pytest.mark.parametrize("name", ["sum", "max", "mean", "var"])
@pytest.mark.parametrize("axis", [(0, -3), (1, 1), (-1, 2, 0)], ids=str)
def test_a_repeated_axis_is_refused_by_name(name, axis):
    a = np.zeros((2, 3, 4), dtype=np.float32)
    with pytest.raises(ValueError):
        np.sum(a, axis=axis)  # NumPy refuses it too
    with pytest.raises(ValueError, match="repeated") as err:
        getattr(tt, name)(tt.tensor(a), axis)
    assert str(axis) in str(err.value) and str(err.value).startswith(f"{name}: ")


@pytest.mark.parametrize("name", ["sum", "max"])
@pytest.mark.parametrize("axis", [0, -1, (0,), (-1,), ()], ids=str)
def test_a_0d_tensor_reduces_over_its_one_axis_to_itself(name, axis):
    x = tt.tensor(2.5, requires_grad=True)
    for keepdims in (False, True):
        out = getattr(tt, name)(x, axis, keepdims)
        assert out.shape == () and out.item() == 2.5
        assert out.grad_fn.attrs["axis"] == ()


@pytest.mark.parametrize("axis", [1, -2, (0, 1)], ids=str)
def test_a_0d_tensor_has_no_second_axis(axis):
    with pytest.raises(ValueError, match="out of range"):
        tt.tensor(2.5).sum(axis)


@pytest.mark.parametrize("axis, bad", [(3, 3), (-4, -4), ((0, 3), 3), ((-5, 1), -5)], ids=str)
def test_an_axis_out_of_range_is_named(axis, bad):
    with pytest.raises(ValueError) as err:
        tt.randn(2, 3, 4).sum(axis)
    assert f"axis {bad} is out of range" in str(err.value) and "3 dims" in str(err.value)


def test_bool_tensors_sum_to_a_count():
    a = np.array([[True, False, True], [True, True, True]])
    out = tt.tensor(a).sum(1)
    assert out.dtype == np.sum(a, 1).dtype
    np.testing.assert_array_equal(out.data, np.sum(a, 1))


# --- empty axes (NumPy's rule) -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape, axis, empty",
                         [((0,), None, 0), ((0, 3), 0, 0), ((0, 3), None, 0), ((3, 0), -1, 1),
                          ((2, 0, 4), (0, 1), 1), ((2, 4, 0), None, 2)], ids=str)
def test_max_and_min_over_an_axis_of_size_0_are_refused(name, shape, axis, empty):
    a = np.zeros(shape, dtype=np.float32)
    with pytest.raises(ValueError):
        getattr(np, name)(a, axis=axis)  # NumPy refuses it too: the extreme of nothing
    with pytest.raises(ValueError) as err:
        getattr(tt, name)(tt.tensor(a), axis)
    message = str(err.value)
    assert message.startswith(f"{name}: ") and f"axis {empty} of size 0" in message
    assert str(shape) in message


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape, axis", [((0, 3), 1), ((0, 3), -1), ((2, 0, 4), (0, 2))],
                         ids=str)
def test_max_and_min_keep_an_empty_axis_they_do_not_reduce(name, shape, axis):
    a = np.zeros(shape, dtype=np.float32)
    for keepdims in (False, True):
        out = getattr(tt, name)(tt.tensor(a), axis, keepdims)
        expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
        assert out.shape == expected.shape and out.dtype == np.float32


# --- the dtype of a sum: PyTorch's rule, one on every platform -------------------------------
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint32, np.bool_,
                                   np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [None, 0])
def test_sum_gives_int64_for_integers_and_bools_and_keeps_floats(dtype, axis):
    a = np.random.default_rng(4).integers(0, 3, size=(3, 4)).astype(dtype)
    out = tt.sum(tt.from_numpy(a), axis)
    wanted = np.int64 if np.dtype(dtype).kind in "biu" else dtype
    assert out.dtype == wanted
    np.testing.assert_array_equal(out.data, np.sum(a, axis=axis, dtype=wanted))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint8, np.bool_, np.float64],
                         ids=lambda d: np.dtype(d).name)
def test_max_keeps_the_dtype(dtype):
    a = np.random.default_rng(5).integers(0, 3, size=(3, 4)).astype(dtype)
    out = tt.max(tt.from_numpy(a), 1)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, np.max(a, axis=1))

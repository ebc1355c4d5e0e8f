"""Contract tests for tt_activations: values against NumPy formulas, stability, the classes."""

import math
import subprocess
import sys

import numpy as np
import pytest
from tt_tensor import PRIMITIVES, float32, float64, tensor

import tt_activations as A

SHAPES = [(), (7,), (3, 5), (2, 3, 4)]
DTYPES = [float32, float64]
_erf = np.vectorize(math.erf, otypes=[np.float64])


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


# name -> (tt function, NumPy reference computed in float64)
ELEMENTWISE = {
    "relu": (A.relu, lambda x: np.maximum(x, 0.0)),
    "sigmoid": (A.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x))),
    "tanh": (A.tanh, np.tanh),
    "gelu": (A.gelu, lambda x: 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))),
    "gelu_tanh": (
        lambda x: A.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3))),
    ),
}


def sample(shape, dtype, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == float32 else dict(rtol=1e-10, atol=4e-7)


# --- values against the NumPy formulas -----------------------------------------------------
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_matches_numpy(name, shape, dtype):
    fn, ref = ELEMENTWISE[name]
    x = sample(shape, dtype)
    out = fn(tensor(x, dtype=dtype))
    assert out.shape == x.shape
    assert out.dtype == dtype
    # the erf formula inside gelu has an absolute error <= 1.5e-7 (scaled by |x| / 2)
    np.testing.assert_allclose(out.data, ref(x.astype(np.float64)), **tolerance(dtype))


@pytest.mark.parametrize("fn,ref", [(A.softmax, np_softmax), (A.log_softmax, np_log_softmax)])
@pytest.mark.parametrize("shape", SHAPES[1:])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_family_matches_numpy_on_every_axis(fn, ref, shape, dtype):
    x = sample(shape, dtype)
    for axis in range(-len(shape), len(shape)):
        out = fn(tensor(x, dtype=dtype), axis=axis)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, ref(x.astype(np.float64), axis), **tolerance(dtype))


def test_functions_accept_lists_and_arrays():
    x = [[-2.0, 0.5, 3.0]]
    np.testing.assert_allclose(A.relu(x).data, [[0.0, 0.5, 3.0]])
    np.testing.assert_allclose(A.softmax(np.array(x)).data, np_softmax(np.array(x)), rtol=1e-6)


# --- properties ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis", [((4, 10), -1), ((4, 10), 0), ((2, 3, 5), 1)])
def test_softmax_sums_to_one_and_is_positive(shape, axis):
    out = A.softmax(tensor(sample(shape, float32, scale=20.0)), axis=axis).data
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-6)
    assert (out >= 0).all()


def test_softmax_is_shift_invariant_and_log_softmax_is_its_log():
    x = sample((3, 6), float64)
    shifted = A.softmax(tensor(x + 123.0, dtype=float64)).data
    np.testing.assert_allclose(shifted, A.softmax(tensor(x, dtype=float64)).data, rtol=1e-12)
    np.testing.assert_allclose(np.exp(A.log_softmax(tensor(x, dtype=float64)).data),
                               A.softmax(tensor(x, dtype=float64)).data, rtol=1e-12)


def test_sigmoid_is_symmetric_and_gelu_is_x_times_phi():
    x = sample((50,), float64)
    s = A.sigmoid(tensor(x, dtype=float64)).data
    np.testing.assert_allclose(s + A.sigmoid(tensor(-x, dtype=float64)).data, 1.0, rtol=1e-12)
    g = A.gelu(tensor(x, dtype=float64)).data
    g_neg = A.gelu(tensor(-x, dtype=float64)).data
    np.testing.assert_allclose(g - g_neg, x, atol=1e-6)  # x Phi(x) - (-x) Phi(-x) = x


# --- stability at |x| = 1000 ---------------------------------------------------------------
EXTREME = np.array([-1000.0, -80.0, 0.0, 80.0, 1000.0])
LIMITS = {  # the exact values at EXTREME (sigmoid(-80) = 1 / (1 + e^80) ~ e^-80)
    "relu": [0.0, 0.0, 0.0, 80.0, 1000.0],
    "sigmoid": [0.0, np.exp(-80.0), 0.5, 1.0, 1.0],
    "tanh": [-1.0, -1.0, 0.0, 1.0, 1.0],
    "gelu": [0.0, 0.0, 0.0, 80.0, 1000.0],
    "gelu_tanh": [0.0, 0.0, 0.0, 80.0, 1000.0],
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_stable_at_extremes(name, dtype):
    fn = ELEMENTWISE[name][0]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = fn(tensor(EXTREME, dtype=dtype)).data
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, LIMITS[name], rtol=1e-6, atol=1e-40)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_family_stable_at_extremes(dtype):
    x = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = A.softmax(tensor(x, dtype=dtype)).data
        logp = A.log_softmax(tensor(x, dtype=dtype)).data
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-7)
    expected = [[0.0, -1000.0, -2000.0], [-np.log(3.0)] * 3,
                [-np.log(2.0), -np.log(2.0), -1000.0 - np.log(2.0)]]
    np.testing.assert_allclose(logp, expected, rtol=1e-6)


# --- composed from primitives ------------------------------------------------------------
def graph_ops(out):
    """Every op name recorded in the graph that produced `out`."""
    seen, stack, names = set(), [out], set()
    while stack:
        t = stack.pop()
        if t.grad_fn is None or id(t) in seen:
            continue
        seen.add(id(t))
        names.add(t.grad_fn.name)
        stack.extend(t.grad_fn.inputs)
    return names


@pytest.mark.parametrize("fn", [A.relu, A.sigmoid, A.tanh, A.gelu, A.softmax, A.log_softmax,
                                lambda x: A.gelu(x, approximate="tanh")])
def test_outputs_record_a_graph_of_primitives_only(fn):
    x = tensor(sample((2, 3), float64), dtype=float64, requires_grad=True)
    out = fn(x)
    assert out.requires_grad and out.grad_fn is not None
    ops = graph_ops(out)
    assert ops and ops <= set(PRIMITIVES), f"non-primitive ops in the graph: {ops}"


def test_softmax_detaches_the_max_shift():
    # the shift by max(x) is a constant: no `max` node may appear in the graph
    x = tensor(sample((2, 3), float64), dtype=float64, requires_grad=True)
    assert "max" not in graph_ops(A.softmax(x))
    assert "max" not in graph_ops(A.log_softmax(x))


# --- the callable classes ------------------------------------------------------------------
def test_classes_match_functions():
    x = tensor(sample((3, 4), float32))
    pairs = [
        (A.ReLU(), A.relu(x)), (A.Sigmoid(), A.sigmoid(x)), (A.Tanh(), A.tanh(x)),
        (A.GELU(), A.gelu(x)), (A.GELU("tanh"), A.gelu(x, approximate="tanh")),
        (A.Softmax(dim=0), A.softmax(x, axis=0)), (A.LogSoftmax(), A.log_softmax(x, axis=-1)),
    ]
    for act, expected in pairs:
        np.testing.assert_array_equal(act(x).data, expected.data)


def test_class_reprs_and_defaults():
    assert repr(A.ReLU()) == "ReLU()"
    assert repr(A.Softmax()) == "Softmax(dim=-1)"
    assert A.LogSoftmax().dim == -1
    assert A.GELU().approximate == "none"
    assert repr(A.GELU("tanh")) == "GELU(approximate='tanh')"


# --- errors --------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="approximate"):
        A.gelu(tensor([1.0]), approximate="erf")
    with pytest.raises(ValueError, match="approximate"):
        A.GELU("fast")
    with pytest.raises(ValueError, match=r"axis 2 .*\(3, 4\)"):
        A.softmax(tensor(np.zeros((3, 4))), axis=2)
    with pytest.raises(ValueError, match=r"axis -3"):
        A.log_softmax(tensor(np.zeros((3, 4))), axis=-3)


# --- silence -------------------------------------------------------------------------------
def test_library_prints_nothing(capsys):
    x = tensor(EXTREME)
    for fn in (A.relu, A.sigmoid, A.tanh, A.gelu, A.softmax, A.log_softmax):
        fn(x)
    repr(A.Softmax())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_import_prints_nothing():
    result = subprocess.run([sys.executable, "-c", "import tt_activations"],
                            capture_output=True, text=True, check=True)
    assert result.stdout == "" and result.stderr == ""

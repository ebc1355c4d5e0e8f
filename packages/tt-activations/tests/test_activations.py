"""Contract tests for tt_activations: values against NumPy formulas, stability, gelu's forms."""

import math
import subprocess
import sys

import numpy as np
import pytest
from tt_tensor import PRIMITIVES, add_op_hook, float32, float64, no_grad, tensor

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
    """Every op name recorded in the graph that produced `out` (each node visited once)."""
    names, visited, frontier = set(), set(), [out.grad_fn]
    while frontier:
        node = frontier.pop()
        if node is not None and id(node) not in visited:
            visited.add(id(node))
            names.add(node.name)
            frontier += [t.grad_fn for t in node.inputs]
    return names


@pytest.mark.parametrize("fn", [A.relu, A.sigmoid, A.tanh, A.softmax, A.log_softmax])
def test_outputs_record_a_graph_of_primitives_only(fn):
    x = tensor(sample((2, 3), float64), dtype=float64, requires_grad=True)
    out = fn(x)
    assert out.requires_grad and out.grad_fn is not None
    ops = graph_ops(out)
    assert ops and ops <= set(PRIMITIVES), f"non-primitive ops in the graph: {ops}"


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_records_a_graph(approximate):
    # erf is an op of its own (no composition of primitives reaches float64 accuracy) and the
    # tanh form may take a fused fast path: gelu's graph may hold non-primitive nodes
    x = tensor(sample((2, 3), float64), dtype=float64, requires_grad=True)
    out = A.gelu(x, approximate=approximate)
    assert out.requires_grad and out.grad_fn is not None and graph_ops(out)


def test_softmax_detaches_the_max_shift():
    # the shift by max(x) is a constant: no `max` node may appear in the graph
    x = tensor(sample((2, 3), float64), dtype=float64, requires_grad=True)
    assert "max" not in graph_ops(A.softmax(x))
    assert "max" not in graph_ops(A.log_softmax(x))


# --- gelu: float64 accuracy, and the fast path equals the composition -------------------
def phi_gelu(x):
    """x Phi(x) in float64 from math.erfc, which keeps its relative accuracy for x << 0."""
    return np.array([v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in np.ravel(x)]).reshape(
        np.shape(x))


def test_gelu_erf_form_is_accurate_to_float64():
    # every region of the erf algorithm (series, continued fraction, underflow) and beyond
    x = np.concatenate([np.linspace(-40.0, 40.0, 16001), np.geomspace(1e-300, 9.0, 500),
                        -np.geomspace(1e-300, 9.0, 500)])
    out = A.gelu(tensor(x, dtype=float64)).data
    # 0.5 x (1 + erf(x / sqrt 2)): for x < 0, adding 1 to erf rounds at ~1e-16, so the
    # accuracy is absolute there (as in PyTorch's formula); relative where x >= 0
    error = np.abs(out - phi_gelu(x))
    assert (error <= 4.5e-16 * (1.0 + np.abs(x))).all(), f"worst error {error.max():.3g}"
    positive = x >= 0
    np.testing.assert_allclose(out[positive], phi_gelu(x[positive]), rtol=1e-15, atol=0)


def test_gelu_erf_form_in_float32_rounds_the_float64_value():
    x = np.linspace(-10.0, 10.0, 2001)
    out = A.gelu(tensor(x.astype(np.float32))).data
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, phi_gelu(x.astype(np.float32).astype(np.float64)),
                               rtol=2e-7, atol=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_tanh_fast_path_equals_the_composition(shape, dtype, restore_fast_paths):
    # the fused op (with a graph and without one) gives the composition's values
    x = sample(shape, dtype, seed=5)
    A.use_fast_paths(True)
    fast = A.gelu(tensor(x, dtype=dtype, requires_grad=True), approximate="tanh")
    with no_grad():
        fast_no_graph = A.gelu(tensor(x, dtype=dtype, requires_grad=True), approximate="tanh")
    A.use_fast_paths(False)
    plain = A.gelu(tensor(x, dtype=dtype), approximate="tanh")
    for out in (fast, fast_no_graph):
        assert out.shape == plain.shape == x.shape and out.dtype == plain.dtype == dtype
        np.testing.assert_allclose(out.data, plain.data, **tolerance(dtype))


@pytest.mark.parametrize("enabled", [True, False])
def test_gelu_tanh_without_a_graph_is_one_op_on_the_fast_path(enabled, restore_fast_paths):
    # decoding calls gelu on one (1, 4C) row per block: one fused op instead of nine
    A.use_fast_paths(enabled)
    seen = []
    with no_grad(), add_op_hook(lambda event: seen.append(event.op)):
        A.gelu(tensor(sample((1, 8), float32, seed=9)), approximate="tanh")
    assert (seen == ["GELUTanh"]) is enabled
    assert len(seen) > 0 and ("GELUTanh" in seen) is enabled  # off: the region's own ops


def test_only_the_reference_trains_gelu_through_its_fused_node():
    # A learner's own package (version +own) runs its own composition when a graph is kept;
    # the reference takes the fused GELUTanh node.
    own = "+own" in A.__version__
    assert A.fast_paths_enabled() is not own
    x = tensor(sample((3, 4), float64, seed=6), dtype=float64, requires_grad=True)
    out = A.gelu(x, approximate="tanh")
    assert (out.grad_fn.name == "GELUTanh") is not own


# --- errors --------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="approximate"):
        A.gelu(tensor([1.0]), approximate="erf")
    with pytest.raises(ValueError, match=r"axis 2 .*\(3, 4\)"):
        A.softmax(tensor(np.zeros((3, 4))), axis=2)
    with pytest.raises(ValueError, match=r"axis -3"):
        A.log_softmax(tensor(np.zeros((3, 4))), axis=-3)


# --- silence -------------------------------------------------------------------------------
def test_library_prints_nothing(capsys):
    x = tensor(EXTREME)
    for fn in (A.relu, A.sigmoid, A.tanh, A.gelu, A.softmax, A.log_softmax):
        fn(x)
    A.gelu(tensor(EXTREME, requires_grad=True), approximate="tanh")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_import_prints_nothing():
    result = subprocess.run([sys.executable, "-c", "import tt_activations"],
                            capture_output=True, text=True, check=True)
    assert result.stdout == "" and result.stderr == ""


# --- gelu's fast path: the switch and its worker threads -----------------------------------
@pytest.fixture
def restore_fast_paths():
    before = A.fast_paths_enabled()
    yield
    A.use_fast_paths(before, threads=None)


def fused_gelu(x, threads):
    """gelu's tanh form through the fused op with `threads` workers: (output, d out / d x
    for an upstream gradient g), the gradient from the node's own backward."""
    A.use_fast_paths(True, threads=threads)
    y = A.gelu(tensor(x, dtype=x.dtype, requires_grad=True), approximate="tanh")
    g = np.cos(np.arange(x.size, dtype=x.dtype)).reshape(x.shape)
    (dx,) = y.grad_fn.op.backward(y.grad_fn.ctx, g)
    return y, g, dx


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(768, 512), (3, 70001), (5,)])
def test_gelu_tanh_threads_equal_one_thread_and_the_formula(shape, dtype, restore_fast_paths):
    x = sample(shape, dtype, seed=7, scale=1.0)  # |x| < 5: 1 + t keeps its digits
    y1, g, dx1 = fused_gelu(x, threads=1)
    y3, _, dx3 = fused_gelu(x, threads=3)
    np.testing.assert_array_equal(y3.data, y1.data)   # elementwise: chunks change nothing
    np.testing.assert_array_equal(dx3, dx1)
    x64 = x.astype(np.float64)
    t = np.tanh(np.sqrt(2 / np.pi) * (x64 + 0.044715 * x64**3))
    slope = 0.5 * (1 + t) + 0.5 * x64 * (1 - t * t) * np.sqrt(2 / np.pi) * (
        1 + 3 * 0.044715 * x64**2)
    np.testing.assert_allclose(y3.data, 0.5 * x64 * (1 + t), **tolerance(dtype))
    np.testing.assert_allclose(dx3, g * slope, **tolerance(dtype))


def test_gelu_fast_path_switch(restore_fast_paths):
    x = tensor(sample((4, 6), np.float64, seed=8), requires_grad=True)
    A.use_fast_paths(True)
    assert A.use_fast_paths(False) is True and A.fast_paths_enabled() is False
    plain = A.gelu(x, approximate="tanh")
    assert plain.grad_fn.name != "GELUTanh"  # the composition, primitive by primitive
    A.use_fast_paths(True)
    assert A.gelu(x, approximate="tanh").grad_fn.name == "GELUTanh"
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads"):
            A.use_fast_paths(True, threads=bad)

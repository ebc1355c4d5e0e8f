"""Shared checkers for the tt-tensor contract tests.

`check_op(tt_fn, np_fn, *shapes)` is the one-line forward check every op test goes through: it
draws random float32 inputs of the given shapes, runs the op on tensors and the same expression
on the arrays, and compares values, shape and dtype. Operator lambdas (`lambda a, b: a + b`) work
on both sides, so the NumPy expression is literally the same code.
"""

import numpy as np
import pytest

import tt_tensor as tt

# Broadcasting pairs for binary ops: equal shapes, size-1 axes, missing leading axes, 0-d.
BINARY_SHAPES = [
    ((4,), (4,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((4, 1, 3), (2, 3)),
    ((1,), (2, 1, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
]

UNARY_SHAPES = [(), (5,), (2, 3), (2, 3, 4)]


def random_arrays(shapes, dtype=np.float32, positive=False, seed=0):
    """One random array per shape; strictly positive (in [0.5, 2.5)) when `positive`."""
    rng = np.random.default_rng(seed)
    if positive:
        return [rng.uniform(0.5, 2.5, size=s).astype(dtype) for s in shapes]
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _check_op(tt_fn, np_fn, *shapes, dtype=np.float32, positive=False, rtol=1e-5, atol=1e-6):
    """tt_fn(*tensors) equals np_fn(*arrays): same values, shape and dtype; inputs untouched."""
    arrays = random_arrays(shapes, dtype, positive)
    tensors = [tt.tensor(a, dtype=dtype) for a in arrays]
    out = tt_fn(*tensors)
    expected = np.asarray(np_fn(*[a.copy() for a in arrays]))
    assert isinstance(out, tt.Tensor), f"expected a Tensor, got {type(out).__name__}"
    assert out.shape == expected.shape, f"shape {out.shape} != NumPy's {expected.shape}"
    assert out.dtype == expected.dtype, f"dtype {out.dtype} != NumPy's {expected.dtype}"
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=atol)
    for t, a in zip(tensors, arrays):
        np.testing.assert_array_equal(t.data, a, err_msg="an op modified its input")
    return out


def pytest_generate_tests(metafunc):
    """Tests asking for `binary_shapes` / `unary_shape` run once per shape in the lists above."""
    if "binary_shapes" in metafunc.fixturenames:
        metafunc.parametrize("binary_shapes", BINARY_SHAPES, ids=str)
    if "unary_shape" in metafunc.fixturenames:
        metafunc.parametrize("unary_shape", UNARY_SHAPES, ids=str)


@pytest.fixture(autouse=True)
def plain_primitives():
    """The contract tests check the plain primitives (the lesson, your tasks): tt-tensor's own
    fast paths, the shortcuts of `x @ w`, `x.reshape`, `x.T`, ..., are off here;
    test_14_shortcuts.py turns them on to compare them with the plain primitives."""
    with tt.fast_paths_off(tt):  # a build without use_fast_paths is left alone
        yield


@pytest.fixture
def check_op():
    """The forward checker: `check_op(tt_fn, np_fn, *shapes, positive=False, dtype=...)`."""
    return _check_op


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def graph_ops(t):
    """Names of every node reachable from t.grad_fn (each node once), and the leaves reached."""
    names, leaves, seen, stack = [], [], set(), [t]
    while stack:
        node = stack.pop().grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name)
        for inp in node.inputs:
            if inp.grad_fn is None:
                leaves.append(inp)
            else:
                stack.append(inp)
    return names, leaves


@pytest.fixture
def walk_graph():
    """`walk_graph(t) -> (op names, leaf tensors)`, for structural checks of composed ops."""
    return graph_ops

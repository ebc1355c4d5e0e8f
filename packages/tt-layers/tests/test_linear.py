"""Contract tests for Linear, Flatten, Identity and the activation Modules."""

import math
import subprocess
import sys

import numpy as np
import pytest
from tt_tensor import PRIMITIVES, float64, tensor

import tt_activations
import tt_layers as L


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_numpy(lead, bias):
    lin = L.Linear(4, 3, bias=bias)
    x = rng().standard_normal(lead + (4,)).astype(np.float32)
    out = lin(tensor(x))
    expected = x @ lin.weight.data.T + (lin.bias.data if bias else 0.0)
    assert out.shape == lead + (3,)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)


def test_linear_layout_dtype_and_repr():
    lin = L.Linear(5, 2)
    assert lin.weight.shape == (2, 5) and lin.bias.shape == (2,)
    assert lin.weight.dtype == np.float32
    assert [name for name, _ in lin.named_parameters()] == ["weight", "bias"]
    assert repr(lin) == "Linear(in_features=5, out_features=2, bias=True)"
    lin64 = L.Linear(5, 2, dtype=float64)
    assert lin64.weight.dtype == np.float64 and lin64(np.ones((1, 5))).dtype == np.float64
    assert L.Linear(5, 2, bias=False).bias is None


def test_linear_records_a_graph_of_primitives():
    lin = L.Linear(3, 2)
    out = lin(tensor(np.ones((4, 3))))
    assert out.requires_grad
    seen, stack, ops, leaves = set(), [out], set(), []
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.grad_fn is None:
            leaves.append(t)
            continue
        ops.add(t.grad_fn.name)
        stack.extend(t.grad_fn.inputs)
    assert ops <= set(PRIMITIVES)
    assert any(t is lin.weight for t in leaves) and any(t is lin.bias for t in leaves)


def test_linear_errors_name_the_shapes():
    lin = L.Linear(4, 3)
    with pytest.raises(ValueError, match=r"\(\*, 4\).*\(2, 5\)"):
        lin(tensor(np.ones((2, 5))))
    with pytest.raises(ValueError, match="in_features"):
        L.Linear(0, 3)
    with pytest.raises(ValueError, match="out_features"):
        L.Linear(3, 2.5)


def test_linear_default_init_bounds_and_statistics():
    np.random.seed(0)
    fan_in = 256
    lin = L.Linear(fan_in, 2048)
    bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) reduces to this
    w, b = lin.weight.data, lin.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3.0)) < 0.01 * bound / math.sqrt(3.0)
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(w).max() > 0.99 * bound  # it really fills the interval
    assert abs(b.std() - bound / math.sqrt(3.0)) < 0.05 * bound


def test_linear_init_follows_the_global_seed():
    np.random.seed(3)
    a = L.Linear(3, 3)
    np.random.seed(3)
    b = L.Linear(3, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    a.reset_parameters()
    assert not np.array_equal(a.weight.data, b.weight.data)


@pytest.mark.parametrize("shape,start,end", [((2, 3, 4, 5), 1, -1), ((2, 3, 4, 5), 0, -1),
                                             ((2, 3, 4, 5), 1, 2), ((6, 7), 1, -1)])
def test_flatten_matches_numpy_reshape(shape, start, end):
    x = rng().standard_normal(shape)
    out = L.Flatten(start, end)(tensor(x, dtype=float64))
    e = end % len(shape)
    expected = x.reshape(shape[:start] + (-1,) + shape[e + 1:])
    np.testing.assert_array_equal(out.data, expected)


def test_flatten_errors_and_repr():
    with pytest.raises(ValueError, match=r"\(5,\)"):
        L.Flatten()(tensor(np.ones(5)))
    assert repr(L.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_identity_returns_its_input():
    x = tensor([1.0, 2.0])
    assert L.Identity(3, any_keyword=True)(x) is x


def test_activation_modules_match_tt_activations():
    x = tensor(rng().standard_normal((3, 4)) * 3)
    pairs = [
        (L.ReLU(), tt_activations.relu(x)), (L.Sigmoid(), tt_activations.sigmoid(x)),
        (L.Tanh(), tt_activations.tanh(x)), (L.GELU(), tt_activations.gelu(x)),
        (L.GELU("tanh"), tt_activations.gelu(x, approximate="tanh")),
        (L.Softmax(dim=0), tt_activations.softmax(x, axis=0)),
        (L.LogSoftmax(), tt_activations.log_softmax(x)),
    ]
    for module, expected in pairs:
        assert isinstance(module, L.Module) and list(module.parameters()) == []
        np.testing.assert_array_equal(module(x).data, expected.data)
    assert repr(L.Softmax()) == "Softmax(dim=-1)"
    with pytest.raises(ValueError, match="approximate"):
        L.GELU("fast")


def test_library_prints_nothing(capsys):
    lin = L.Linear(2, 2)
    lin(tensor(np.ones((1, 2))))
    lin.load_state_dict(lin.state_dict())
    repr(lin)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    result = subprocess.run([sys.executable, "-c", "import tt_layers"],
                            capture_output=True, text=True, check=True)
    assert result.stdout == "" and result.stderr == ""

"""Contract tests for Sequential and the mlp builder."""

import numpy as np
import pytest
from tt_layers import GELU, Linear, Module, ReLU, Sigmoid, Tanh
from tt_tensor import float64, tensor

import tt_activations
import tt_networks as N


def x_batch(shape=(5, 3), seed=0):
    return tensor(np.random.default_rng(seed).standard_normal(shape), dtype=float64)


def test_sequential_applies_modules_in_order():
    a, b = Linear(3, 4, dtype=float64), Linear(4, 2, dtype=float64)
    seq = N.Sequential(a, Tanh(), b)
    x = x_batch()
    expected = np.tanh(x.data @ a.weight.data.T + a.bias.data) @ b.weight.data.T + b.bias.data
    np.testing.assert_allclose(seq(x).data, expected, rtol=1e-12)


def test_sequential_indexing_len_iteration_and_names():
    seq = N.Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    assert len(seq) == 3
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert seq[0] is seq[-3] and isinstance(seq[1], ReLU)
    tail = seq[1:]
    assert isinstance(tail, N.Sequential) and len(tail) == 2 and tail[1] is seq[2]
    assert [name for name, _ in seq.named_parameters()] == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError, match="3 modules"):
        seq[3]
    with pytest.raises(TypeError, match="str"):
        seq["0"]


def test_sequential_append_extend_and_dict():
    seq = N.Sequential()
    assert seq.append(Linear(2, 2)) is seq
    seq.extend([ReLU(), Linear(2, 1)])
    assert len(seq) == 3 and [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    named = N.Sequential({"hidden": Linear(2, 3), "act": ReLU()})
    assert [n for n, _ in named.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert isinstance(named, Module)


def test_sequential_rejects_non_modules_with_a_hint():
    with pytest.raises(TypeError, match=r"entry 1 .*tt_layers\.ReLU\(\)"):
        N.Sequential(Linear(2, 2), tt_activations.relu)  # the function, not the Module
    with pytest.raises(TypeError, match="entry 0"):
        N.Sequential().append(lambda x: x)


def test_sequential_repr_and_state_dict_round_trip():
    a, b = N.mlp([3, 5, 2]), N.mlp([3, 5, 2])
    b.load_state_dict(a.state_dict())
    x = x_batch().float()
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert repr(a).splitlines()[1] == "  (0): Linear(in_features=3, out_features=5, bias=True)"


def test_mlp_structure():
    net = N.mlp([2, 8, 8, 1], activation=Tanh, final_activation=Sigmoid)
    assert [type(m).__name__ for m in net] == [
        "Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, Linear)] == [
        (2, 8), (8, 8), (8, 1)]
    assert net.num_parameters() == (2 * 8 + 8) + (8 * 8 + 8) + (8 * 1 + 1)
    assert net[1] is not net[3]  # a fresh activation per layer
    plain = N.mlp([4, 3], bias=False)
    assert len(plain) == 1 and plain[0].bias is None
    assert isinstance(N.mlp([2, 3, 1])[1], ReLU)
    assert isinstance(N.mlp([2, 3, 1], activation=lambda: GELU("tanh"))[1], GELU)


def test_mlp_output_matches_numpy():
    net = N.mlp([3, 4, 2], activation=Tanh).double()
    x = x_batch()
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    np.testing.assert_allclose(net(x).data, np.tanh(x.data @ w1.T + b1) @ w2.T + b2,
                               rtol=1e-12)


@pytest.mark.parametrize("sizes", [[], [3], [3, 0, 1], [2, 2.5], (2, True)])
def test_mlp_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        N.mlp(sizes)


def test_mlp_rejects_activation_instances():
    with pytest.raises(TypeError, match="class"):
        N.mlp([2, 3, 1], activation=ReLU())

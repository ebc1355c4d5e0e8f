"""The memory model: formulas against tracemalloc measurements (stated tolerances)."""

import numpy as np
import pytest
from tt_attention import MultiHeadAttention
from tt_layers import Flatten, Linear, ReLU
from tt_networks import Sequential, mlp
from tt_spatial import Conv2d, MaxPool2d
from tt_optimizers import SGD
from tt_systems import (
    attention_activation_bytes, attention_bytes_tolerance, attention_memory_sweep,
    count_forward_bytes, measure_peak, memory_report, optimizer_scratch_bound,
    optimizer_state_bytes, parameter_bytes, predicted_peak_bytes,
)
from tt_tensor import no_grad, randn
from tt_transformers import GPT, GPTConfig

PEAK_TOLERANCE = 0.15       # predicted forward+backward peak vs tracemalloc, relative
OPTIMIZER_TOLERANCE = 0.05  # optimizer state .. state + scratch bound vs tracemalloc, relative


@pytest.mark.parametrize("name, copies", [("sgd", 0), (None, 0), ("momentum", 1), ("adam", 2),
                                          ("adamw", 2)])
def test_optimizer_state_is_0_1_or_2_copies_of_the_parameters(name, copies):
    assert optimizer_state_bytes(1000, name) == copies * 1000


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="rmsprop"):
        optimizer_state_bytes(10, "rmsprop")


def test_parameter_bytes_counts_tied_weights_once():
    model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8))
    assert model.lm_head.weight is model.wte.weight
    assert parameter_bytes(model) == 4 * model.num_parameters()


def test_predicted_peak_is_activations_gradients_and_the_two_largest_buffers():
    # four sizes no sum of fewer terms can hit: each term counts once
    assert predicted_peak_bytes(100_000, 3_000, 200, 10) == 103_210
    model, x = Sequential(Linear(10, 20), Linear(20, 5)), randn(7, 10)
    activations, largest = count_forward_bytes(model, x)      # given: the profiler's byte rule
    report = memory_report(model, None, optimizer=None, input=x)
    params = 4 * (10 * 20 + 20 + 20 * 5 + 5)                  # float32 weights and biases
    assert report.predicted_peak == activations + params + 4 * 10 * 20 + largest


def build(name):
    """(model, input shape) of a small MLP, CNN or GPT."""
    np.random.seed(0)
    if name == "mlp":
        return mlp([256, 128, 64, 10]), (64, 256)
    if name == "cnn":
        return Sequential(Conv2d(3, 8, 3), ReLU(), MaxPool2d(2), Conv2d(8, 16, 3), ReLU(),
                          Flatten(), Linear(16 * 13 * 13, 10)), (8, 3, 32, 32)
    return GPT(GPTConfig(block_size=32, vocab_size=20, n_layer=2, n_head=2, n_embd=64)), (4, 32)


def check_report(report, model):
    assert report.parameters == report.gradients == parameter_bytes(model)
    assert report.activations > 0
    assert abs(report.relative_error) < PEAK_TOLERANCE, report.table()
    # the optimizer keeps its state and at most the documented scratch, 2 x the largest param
    largest = max(p.data.nbytes for p in model.parameters())
    assert report.optimizer_scratch == optimizer_scratch_bound(largest) == 2 * largest
    assert report.optimizer_within(OPTIMIZER_TOLERANCE), report.table()
    assert "relative error" in report.table()


@pytest.mark.parametrize("name", ["mlp", "cnn", "gpt"])
def test_predicted_memory_matches_the_measurement_with_adam(name):
    model, shape = build(name)
    check_report(memory_report(model, shape, optimizer="adam"), model)


@pytest.mark.parametrize("name", ["mlp", "cnn", "gpt"])
def test_predicted_memory_matches_the_measurement_with_momentum(name, momentum_sgd):
    """The installed SGD and one with two scratch slots: both within the documented bound."""
    model, shape = build(name)
    report = memory_report(model, shape, optimizer="momentum", make_optimizer=momentum_sgd)
    check_report(report, model)
    if momentum_sgd is not None:  # it really keeps more than one slot: the bound is needed
        one_slot = report.optimizer_state + max(p.data.nbytes for p in model.parameters())
        assert report.measured_optimizer > one_slot * (1 + OPTIMIZER_TOLERANCE)


def test_the_two_slot_sgd_is_sgd_with_momentum(two_slot_sgd):
    """The alternative computes what tt_optimizers.SGD(momentum=0.9) computes."""
    mine, theirs = mlp([5, 4, 3]), mlp([5, 4, 3])
    theirs.load_state_dict(mine.state_dict())
    x = randn(6, 5)
    opts = [two_slot_sgd(list(mine.parameters()), lr=1e-3, momentum=0.9),
            SGD(list(theirs.parameters()), lr=1e-3, momentum=0.9)]
    for _ in range(3):
        for model, opt in zip((mine, theirs), opts):
            model.zero_grad()
            model(x).sum().backward()
            opt.step()
    for a, b in zip(mine.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_memory_report_does_not_touch_the_model():
    model = mlp([8, 4, 2])
    before = {k: v.copy() for k, v in model.state_dict().items()}
    memory_report(model, (3, 8), optimizer="adam")
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())


def test_activation_count_of_a_linear_chain_is_its_outputs():
    # Linear layers only: how an activation is composed is its module's own business (a
    # learner's relu may record other ops), so this contract counts only what Linear records
    model = Sequential(Linear(10, 20), Linear(20, 5))
    total, largest = count_forward_bytes(model, randn(7, 10), loss_fn=lambda y: y)
    # float32 (7, out) matmul result and bias-add result per Linear; W.T is a view
    expected = 4 * 7 * (20 + 20 + 5 + 5)
    assert (total, largest) == (expected, 4 * 7 * 20)


def test_nothing_is_kept_without_a_graph():
    model = Sequential(Linear(10, 20), Linear(20, 5))
    with no_grad():
        total, _ = count_forward_bytes(model, randn(7, 10), loss_fn=lambda y: y)
    assert total == 4 * 7 * (20 + 20 + 5 + 5)


@pytest.mark.parametrize("T", [1, 2, 5, 16, 33])
@pytest.mark.parametrize("bias", [True, False])
def test_attention_formula_holds_for_any_implementation(T, bias, attention_class):
    B, E, H = 2, 16, 4
    mha = attention_class(E, H, bias=bias, causal=True)
    counted, _ = count_forward_bytes(mha, randn(B, T, E, requires_grad=True),
                                     loss_fn=lambda y: y)
    formula = attention_activation_bytes(B, T, E, H, bias=bias)
    assert abs(counted - formula) <= attention_bytes_tolerance(B, T, E)


@pytest.mark.parametrize("B, T, E, H, bias", [(1, 1, 8, 2, True), (3, 1, 16, 4, False),
                                              (2, 6, 8, 2, True)])
def test_attention_formula_closed_form(B, T, E, H, bias):
    """The formula against its terms: at T = 1 no mask and no copy to merge the heads."""
    linear = B * T * E * (4 * (1 + bias) + (1 if T == 1 else 2))
    quadratic = 2 * B * H * T * T + (T * T if T > 1 else 0)
    assert attention_activation_bytes(B, T, E, H, bias=bias) == 4 * (linear + quadratic)
    assert attention_bytes_tolerance(B, T, E) == 4 * (2 * B * T * E + T * T)


def test_attention_memory_is_measured_close_to_the_formula_and_grows_as_T_squared():
    rows = attention_memory_sweep([128, 256], batch=1, embed_dim=32, num_heads=2)
    for row in rows:
        assert row["measured"] == pytest.approx(row["formula"], rel=0.05)
    # the T^2 terms dominate: doubling T more than triples the memory
    assert rows[1]["quadratic"] == 4 * rows[0]["quadratic"]
    growth = rows[1]["measured"] / rows[0]["measured"]
    assert growth == pytest.approx(rows[1]["formula"] / rows[0]["formula"], rel=0.05)
    assert growth > 3


def test_measure_peak_sees_numpy_buffers():
    def allocate():
        a = np.ones(1_000_000, dtype=np.float32)
        return float(a[0])

    _, peak = measure_peak(allocate)
    assert 4_000_000 <= peak < 4_400_000

"""Contract tests for tt_regularization: Dropout, weight-decay groups, label smoothing."""

import numpy as np
import pytest
from tt_layers import Linear, Module, Parameter
from tt_tensor import float64, ones, tensor

from tt_regularization import (
    Dropout, LabelSmoothingCrossEntropy, dropout, label_smoothing_cross_entropy,
    param_groups_for_weight_decay, split_decay_parameters,
)


# --- Dropout -------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_mask_statistics_and_scaling(p):
    n = 200_000
    layer = Dropout(p, generator=np.random.default_rng(0))
    out = layer(np.ones(n, dtype=np.float32)).data
    kept = out != 0
    # the kept fraction is Binomial(n, 1 - p) / n: within 5 standard errors of 1 - p
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - p), rtol=1e-6)  # inverted scaling
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)       # expectation kept


def test_dropout_is_identity_in_eval_and_at_p0():
    x = tensor(np.random.default_rng(1).standard_normal((4, 5)))
    layer = Dropout(0.5).eval()
    assert layer(x) is x
    assert Dropout(0.0)(x) is x
    assert dropout(x, 0.9, training=False) is x


def test_dropout_masks_differ_per_call_and_repeat_with_a_seed():
    x = np.ones((50, 50), dtype=np.float32)
    layer = Dropout(0.5, generator=np.random.default_rng(7))
    a, b = layer(x).data, layer(x).data
    assert not np.array_equal(a, b)
    again = Dropout(0.5, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(again(x).data, a)
    np.random.seed(3)
    c = Dropout(0.5)(x).data
    np.random.seed(3)
    np.testing.assert_array_equal(Dropout(0.5)(x).data, c)  # seeded by the global RNG


def test_dropout_records_one_mul_by_its_mask():
    x = ones(3, 4, dtype=float64, requires_grad=True)
    out = dropout(x, 0.25, generator=np.random.default_rng(2))
    assert out.grad_fn.op == "mul" and out.grad_fn.inputs[0] is x
    np.testing.assert_array_equal(out.grad_fn.inputs[1].data, out.data)  # x = 1: mask = out


def test_dropout_edge_cases_and_errors():
    x = np.ones((3, 3), dtype=np.float32)
    np.testing.assert_array_equal(dropout(x, 1.0).data, np.zeros((3, 3)))
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="dropout probability"):
            Dropout(bad)
    assert "p=0.3" in repr(Dropout(0.3))


# --- weight-decay groups -------------------------------------------------------------------
class Norm(Module):
    def __init__(self, n):
        super().__init__()
        self.weight = Parameter(np.ones(n))


class TokenEmbedding(Module):  # any class whose name ends in Embedding counts
    def __init__(self, v, c):
        super().__init__()
        self.weight = Parameter(np.zeros((v, c)))


class Tiny(Module):
    def __init__(self):
        super().__init__()
        self.tok = TokenEmbedding(10, 4)
        self.wpe = Parameter(np.zeros((6, 4)))   # GPT-style name
        self.fc = Linear(4, 8)
        self.norm = Norm(8)
        self.head = Linear(4, 10, bias=False)
        self.head.weight = self.tok.weight       # tied: stays out of decay


def test_decay_only_matrices_that_are_not_embeddings():
    model = Tiny()
    decay, no_decay = split_decay_parameters(model)
    assert [name for name, _ in decay] == ["fc.weight"]
    assert sorted(name for name, _ in no_decay) == ["fc.bias", "norm.weight", "tok.weight", "wpe"]
    total = sum(p.data.size for _, p in decay + no_decay)
    assert total == model.num_parameters()  # every parameter once


def test_param_groups_feed_an_optimizer():
    model = Tiny()
    groups = param_groups_for_weight_decay(model, 0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert groups[0]["params"][0] is model.fc.weight
    assert len(groups[1]["params"]) == 4
    only_vectors = Norm(3)
    assert [g["weight_decay"] for g in param_groups_for_weight_decay(only_vectors, 0.1)] == [0.0]
    with pytest.raises(ValueError, match="weight_decay"):
        param_groups_for_weight_decay(model, -1)


# --- label smoothing -----------------------------------------------------------------------
def np_smoothed_ce(logits, target, eps):
    s = logits - logits.max(-1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(-1, keepdims=True))
    N, C = logits.shape
    smooth = np.full((N, C), eps / C)
    smooth[np.arange(N), target] += 1 - eps     # the smoothed one-hot target
    return -(smooth * logp).sum(-1)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
def test_label_smoothing_matches_the_smoothed_target_formula(eps):
    rng = np.random.default_rng(0)
    logits, target = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
    expected = np_smoothed_ce(logits, target, eps)
    x = tensor(logits, dtype=float64)
    np.testing.assert_allclose(
        label_smoothing_cross_entropy(x, target, eps, reduction="none").data, expected,
        rtol=1e-10)
    np.testing.assert_allclose(label_smoothing_cross_entropy(x, target, eps).item(),
                               expected.mean(), rtol=1e-10)
    np.testing.assert_allclose(LabelSmoothingCrossEntropy(eps, "sum")(x, target).item(),
                               expected.sum(), rtol=1e-10)


def test_label_smoothing_errors():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="smoothing"):
        label_smoothing_cross_entropy(x, [0, 1], 1.5)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        label_smoothing_cross_entropy(x, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        label_smoothing_cross_entropy(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"empty.*\(0, 3\)"):  # documented: N = 0 refused
        label_smoothing_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))

"""Gradients of tt_regularization (tt-autograd comes from the `test` extra; tt-networks, which
tt-autograd depends on, is the reference for label smoothing)."""

import numpy as np
import pytest
from tt_autograd import gradcheck
from tt_networks import cross_entropy
from tt_tensor import float64, tensor

from tt_regularization import dropout, label_smoothing_cross_entropy


def leaf(*shape, seed=0, scale=1.0):
    data = np.random.default_rng(seed).standard_normal(shape) * scale
    return tensor(data, dtype=float64, requires_grad=True)


def test_dropout_gradient_is_the_mask():
    x = leaf(40, 50, seed=10)
    out = dropout(x, 0.3, generator=np.random.default_rng(11))
    out.backward(np.ones(out.shape))
    mask = out.data / x.data
    np.testing.assert_allclose(x.grad.data, mask, rtol=1e-12)
    dropped, kept = np.isclose(mask, 0.0), np.isclose(mask, 1 / 0.7, rtol=1e-12)
    assert (dropped | kept).all() and dropped.any() and kept.any()


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.4])
def test_label_smoothing_agrees_with_tt_networks_and_gradchecks(eps):
    logits = leaf(6, 4, seed=12, scale=2.0)
    target = np.array([0, 3, 1, 1, 2, 0])
    ours = label_smoothing_cross_entropy(logits, target, eps)
    theirs = cross_entropy(logits, target, label_smoothing=eps)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    assert gradcheck(lambda z: label_smoothing_cross_entropy(z, target, eps), logits)

"""Gradients of BatchNorm and LayerNorm through tt-autograd: central differences in float64
(tt_autograd.gradcheck). tt-normalization has no gradient code; these check that the
composition of primitives is differentiable as written, batch statistics included."""

import numpy as np
import pytest
import tt_autograd
import tt_tensor as tt
import tt_normalization
from tt_normalization import BatchNorm1d, BatchNorm2d, LayerNorm, batch_norm, layer_norm
from tt_tensor import fast_paths_off


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the composition in functional.py (the lesson, your code): the fused
    batch norm is off here; test_fast_paths.py checks it against the composition."""
    with fast_paths_off(tt_normalization):  # a module without fast paths is left alone
        yield


def f64(array, grad=False):
    return tt.tensor(array, dtype=tt.float64, requires_grad=grad)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 3, 2)])
@pytest.mark.parametrize("stats", ["no_running_stats", "running_stats"])
def test_batch_norm_gradients_train_mode(shape, stats):
    """With running statistics, their in-place update must not disturb the gradient."""
    rng = np.random.default_rng(5)
    x = f64(rng.standard_normal(shape), True)
    w, b = f64(rng.standard_normal(3), True), f64(rng.standard_normal(3), True)
    rm, rv = tt.zeros(3, dtype=tt.float64), tt.ones(3, dtype=tt.float64)
    if stats == "no_running_stats":
        rm = rv = None
    assert tt_autograd.gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=True),
                                 x, w, b)


def test_batch_norm_gradients_eval_mode():
    rng = np.random.default_rng(6)
    x = f64(rng.standard_normal((5, 3, 4)), True)
    w, b = f64(rng.standard_normal(3), True), f64(rng.standard_normal(3), True)
    rm, rv = f64(rng.standard_normal(3)), f64(rng.random(3) + 0.5)
    assert tt_autograd.gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False),
                                 x, w, b)


@pytest.mark.parametrize("cls, shape", [(BatchNorm1d, (5, 2)), (BatchNorm2d, (3, 2, 2, 3))])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_module_gradients(cls, shape, training):
    layer = cls(2).double().train(training)
    x = f64(np.random.default_rng(7).standard_normal(shape), True)
    assert tt_autograd.gradcheck(lambda x, w, b: layer(x), x, layer.weight, layer.bias)


def test_batch_norm_train_gradient_sums_to_zero_per_channel():
    """Batch statistics make y invariant to shifting a channel: d loss / dx sums to 0."""
    x = f64(np.random.default_rng(8).standard_normal((4, 3, 2, 2)), True)
    layer = BatchNorm2d(3).double()
    (layer(x) * f64(np.arange(48.0).reshape(4, 3, 2, 2))).sum().backward()
    np.testing.assert_allclose(x.grad.data.sum(axis=(0, 2, 3)), 0, atol=1e-9)


def test_layer_norm_gradients():
    rng = np.random.default_rng(1)
    x = f64(rng.standard_normal((2, 3, 4)), True)
    w, b = f64(rng.standard_normal(4), True), f64(rng.standard_normal(4), True)
    assert tt_autograd.gradcheck(lambda x, w, b: layer_norm(x, 4, w, b), x, w, b)


def test_layer_norm_gradients_over_two_dims():
    rng = np.random.default_rng(2)
    x = f64(rng.standard_normal((3, 2, 3)), True)
    w, b = f64(rng.standard_normal((2, 3)), True), f64(rng.standard_normal((2, 3)), True)
    assert tt_autograd.gradcheck(lambda x, w, b: layer_norm(x, (2, 3), w, b), x, w, b)


def test_layer_norm_module_gradients():
    layer = LayerNorm(4).double()
    x = f64(np.random.default_rng(3).standard_normal((3, 4)), True)
    assert tt_autograd.gradcheck(lambda x, w, b: layer(x), x, layer.weight, layer.bias)

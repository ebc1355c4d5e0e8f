"""LayerNorm: the formula over the last dims, state and errors. Gradients: test_gradients.py."""

import numpy as np
import pytest
import tt_tensor as tt
import tt_normalization
from tt_normalization import LayerNorm, layer_norm
from tt_tensor import fast_paths_off


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the composition in functional.py (the lesson, your code): the fused
    layer norm is off here; test_fast_paths.py checks it against the composition."""
    with fast_paths_off(tt_normalization):  # a module without fast paths is left alone
        yield


def f64(array, grad=False):
    return tt.tensor(array, dtype=tt.float64, requires_grad=grad)


def ln_reference(x, k, weight, bias, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 5), (5,)),
                                               ((2, 3, 4, 5), (4, 5))])
def test_layer_norm_matches_the_formula(shape, normalized):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 3
    layer = LayerNorm(normalized).double()
    layer.weight.data[...] = rng.standard_normal(layer.weight.shape)
    layer.bias.data[...] = rng.standard_normal(layer.bias.shape)
    k = len(layer.normalized_shape)
    expected = ln_reference(x, k, layer.weight.data, layer.bias.data)
    np.testing.assert_allclose(layer(f64(x)).data, expected, atol=1e-10)


def test_same_in_train_and_eval():
    layer = LayerNorm(8)
    x = tt.randn(3, 8)
    np.testing.assert_array_equal(layer(x).data, layer.eval()(x).data)


def test_without_affine_and_state_dict():
    layer = LayerNorm((2, 3), elementwise_affine=False)
    assert layer.weight is None and layer.bias is None and layer.state_dict() == {}
    x = np.random.default_rng(3).standard_normal((4, 2, 3))
    np.testing.assert_allclose(layer(tt.tensor(x)).data, ln_reference(x, 2, 1.0, 0.0),
                               atol=1e-5)
    affine = LayerNorm(5)
    assert list(affine.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(affine.weight.data, np.ones(5))
    np.testing.assert_array_equal(affine.bias.data, np.zeros(5))
    assert LayerNorm(5, bias=False).bias is None


def test_keeps_float32():
    assert LayerNorm(4)(tt.randn(2, 4)).dtype == np.float32


def test_bad_shapes_name_expected_and_got():
    with pytest.raises(ValueError, match=r"\(\*, 4, 5\).*\(2, 5, 4\)"):
        LayerNorm((4, 5))(tt.randn(2, 5, 4))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        layer_norm(tt.randn(2, 3), 3, tt.ones(4))

"""Gradients at kinks and edges, where central differences cannot check them: each follows
PyTorch 2.13 and is compared with its closed form."""

import numpy as np
import pytest
import tt_activations as A
import tt_networks as N
from tt_tensor import abs as tt_abs
from tt_tensor import clip, float64, tensor
from tt_tensor import pow as tt_pow


def leaf(values):
    return tensor(values, dtype=float64, requires_grad=True)


def test_abs_gradient_is_the_sign_and_0_at_0():
    values = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    x = leaf(values)
    y = tt_abs(x)
    y.backward(np.full(5, 3.0))
    np.testing.assert_array_equal(y.data, np.abs(values))
    np.testing.assert_array_equal(x.grad.data, 3.0 * np.sign(values))


@pytest.mark.parametrize("low,high", [(-1.0, 1.0), (-1.0, None), (None, 1.0), (0.5, 0.5)])
def test_clip_passes_the_gradient_where_low_le_x_le_high(low, high):
    """Bounds included: the gradient is 1 at x == min and x == max (PyTorch's clamp)."""
    values = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    x = leaf(values)
    y = clip(x, low, high)
    y.backward(np.ones(7))
    np.testing.assert_array_equal(y.data, np.clip(values, low, high))
    inside = np.ones(7, dtype=bool)
    if low is not None:
        inside &= values >= low
    if high is not None:
        inside &= values <= high
    np.testing.assert_array_equal(x.grad.data, inside.astype(float))


def test_clip_with_tensor_bounds_sends_the_gradient_to_the_bound_that_won():
    values = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    x, low, high = leaf(values), leaf(np.full(5, -1.0)), leaf(np.full(5, 1.0))
    clip(x, low, high).backward(np.ones(5))
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(low.grad.data, [1.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(high.grad.data, [0.0, 0.0, 0.0, 0.0, 1.0])


def test_method_clip_matches_the_function():
    x = leaf([-3.0, -1.0, 0.25, 1.0, 4.0])
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("values", [[0.0, 1.0, -2.0, 3.5], [0.0]])
def test_pow_0_has_gradient_0_everywhere_and_no_nan(values):
    x = leaf(values)
    y = x ** 0
    y.backward(np.ones(len(values)))
    np.testing.assert_array_equal(y.data, np.ones(len(values)))
    np.testing.assert_array_equal(x.grad.data, np.zeros(len(values)))


def test_pow_with_an_exponent_tensor_holding_0_masks_only_there():
    a = leaf([0.0, 0.0, 2.0, 3.0])
    b = tensor([0.0, 2.0, 0.0, 2.0], dtype=float64)
    tt_pow(a, b).backward(np.ones(4))
    # d a^b / da = b a^(b-1), and 0 where b == 0 (PyTorch's masked_fill)
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0, 0.0, 6.0])


# --- compositions that meet |x| at 0 keep PyTorch's derivative there -------------------------
@pytest.mark.parametrize("name, fn, expected", [
    ("relu", A.relu, 0.0),
    ("sigmoid", A.sigmoid, 0.25),
    ("tanh", A.tanh, 1.0),
    ("gelu", A.gelu, 0.5),  # Phi(0) + 0 * phi(0)
    ("gelu_tanh", lambda x: A.gelu(x, approximate="tanh"), 0.5),
])
def test_activation_derivatives_at_0(name, fn, expected):
    x = leaf([0.0])
    fn(x).sum().backward()
    assert x.grad.data[0] == pytest.approx(expected, abs=1e-7), name


@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_bce_with_logits_at_0_is_sigmoid_0_minus_target(target):
    x = leaf([0.0])
    N.binary_cross_entropy_with_logits(x, tensor([target], dtype=float64)).backward()
    assert x.grad.data[0] == pytest.approx(0.5 - target, abs=1e-12)

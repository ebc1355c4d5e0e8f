"""Gradients of conv and pooling through tt-autograd: central differences in float64
(tt_autograd.gradcheck). tt-spatial has no gradient code; these check that the composition of
primitives is differentiable as written."""

import numpy as np
import pytest
import tt_autograd
import tt_tensor as tt
import tt_spatial
from tt_spatial import Conv2d, avg_pool2d, conv2d, max_pool2d
from tt_tensor import fast_paths_off


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the compositions in functional.py (the lesson, your code): the fused
    fast paths are off here; test_fast_paths.py checks them against these."""
    with fast_paths_off(tt_spatial):  # a module without fast paths is left alone
        yield


def f64(array, grad=False):
    return tt.tensor(array, dtype=tt.float64, requires_grad=grad)


CONV_CASES = [  # x shape, weight shape, stride, padding, bias
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0), True),
    ((2, 3, 7, 5), (4, 3, 3, 3), (2, 2), (1, 1), True),     # stride and padding
    ((1, 2, 6, 9), (3, 2, 2, 4), (1, 2), (2, 1), False),    # non-square input, kernel, stride
    ((3, 1, 5, 4), (2, 1, 5, 1), (3, 1), (0, 2), True),
]


@pytest.mark.parametrize("xs, ws, stride, padding, bias", CONV_CASES)
def test_conv2d_gradients(xs, ws, stride, padding, bias):
    rng = np.random.default_rng(1)
    x, w = f64(rng.standard_normal(xs), True), f64(rng.standard_normal(ws), True)
    if bias:
        b = f64(rng.standard_normal(ws[0]), True)
        assert tt_autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding), x, w, b)
    else:
        assert tt_autograd.gradcheck(lambda x, w: conv2d(x, w, None, stride, padding), x, w)


def test_conv2d_module_gradients_reach_the_parameters():
    layer = Conv2d(2, 3, 3).double()
    x = f64(np.random.default_rng(3).standard_normal((2, 2, 5, 5)), True)
    assert tt_autograd.gradcheck(lambda x, w, b: layer(x), x, layer.weight, layer.bias)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (3, 2, 3, 3) and layer.bias.grad.shape == (3,)
    np.testing.assert_allclose(layer.bias.grad.data, np.full(3, 2 * 3 * 3))  # B * OH * OW


POOL_CASES = [  # input shape, kernel, stride, padding
    ((2, 3, 6, 6), (2, 2), (2, 2), (0, 0)),    # the CNN's pool
    ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0)),    # ragged edge dropped
    ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1)),    # overlapping windows, padding
    ((2, 2, 6, 9), (2, 3), (1, 2), (0, 1)),    # non-square, stride != kernel
]


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
def test_pool_gradients(pool, shape, kernel, stride, padding):
    x = f64(np.random.default_rng(2).standard_normal(shape), True)
    assert tt_autograd.gradcheck(lambda x: pool(x, kernel, stride, padding), x)


def test_max_pool_gradient_goes_to_the_maximum_only():
    x = tt.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[1::2, 1::2] = 1  # the bottom-right entry of each 2x2 tile is its maximum
    np.testing.assert_array_equal(x.grad.data[0, 0], expected)


def _first_max_per_window(x, kernel, stride):
    """The closed form of PyTorch's max_pool2d gradient with ties: 1 at the first maximum
    (row-major within the window) of each window, summed over overlapping windows."""
    (kh, kw), (sh, sw) = kernel, stride
    H, W = x.shape
    grad = np.zeros_like(x)
    for i in range((H - kh) // sh + 1):
        for j in range((W - kw) // sw + 1):
            window = x[i * sh:i * sh + kh, j * sw:j * sw + kw]
            r, c = np.unravel_index(np.argmax(window), window.shape)  # argmax: first maximum
            grad[i * sh + r, j * sw + c] += 1.0
    return grad


@pytest.mark.parametrize("kernel, stride", [((2, 2), (2, 2)), ((3, 3), (1, 1)), ((2, 3), (1, 2))])
def test_max_pool_ties_send_the_gradient_to_one_index(kernel, stride):
    """Tied maxima in a window: all of the gradient goes to the first one, as in PyTorch
    (not split between them)."""
    x = np.array([[1.0, 1.0, 0.0, 2.0, 2.0],
                  [1.0, 1.0, 2.0, 2.0, 0.0],
                  [0.0, 3.0, 3.0, 0.0, 3.0],
                  [3.0, 3.0, 1.0, 1.0, 1.0]])
    t = tt.tensor(x[None, None], dtype=tt.float64, requires_grad=True)
    out = max_pool2d(t, kernel, stride)
    out.sum().backward()
    expected = _first_max_per_window(x, kernel, stride)
    np.testing.assert_array_equal(t.grad.data[0, 0], expected)
    assert t.grad.data.sum() == out.data.size  # one unit of gradient per window, none split


def test_avg_pool_gradient_counts_overlaps():
    x = tt.tensor(np.zeros((1, 1, 3, 3)), requires_grad=True)
    avg_pool2d(x, 2, stride=1).sum().backward()  # four 2x2 windows overlap in the centre
    expected = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4
    np.testing.assert_allclose(x.grad.data[0, 0], expected)

"""MaxPool2d and AvgPool2d: forward against a loop-by-loop NumPy reference, defaults and errors.
Gradients are in test_gradients.py."""

import numpy as np
import pytest
import tt_tensor as tt
import tt_spatial
from tt_spatial import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d
from tt_tensor import fast_paths_off


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the compositions in functional.py (the lesson, your code): the fused
    fast paths are off here; test_fast_paths.py checks them against these."""
    with fast_paths_off(tt_spatial):  # a module without fast paths is left alone
        yield


def pool_reference(x, kernel, stride, padding, reduce, pad_value):
    """Direct definition, one output element at a time (slow; tiny inputs only)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    B, C, H, W = xp.shape
    OH, OW = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.zeros((B, C, OH, OW))
    for n in range(B):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    out[n, c, i, j] = reduce(xp[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out


CASES = [  # input shape, kernel, stride, padding
    ((2, 3, 6, 6), (2, 2), (2, 2), (0, 0)),    # the CNN's pool: stride == kernel, divisible
    ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0)),    # stride == kernel, ragged edge dropped
    ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1)),    # overlapping windows with padding
    ((2, 2, 6, 9), (2, 3), (1, 2), (0, 1)),    # non-square everything, stride != kernel
    ((1, 1, 5, 4), (3, 2), (3, 1), (0, 0)),
]


@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_max_pool_matches_the_direct_definition(shape, kernel, stride, padding):
    x = np.random.default_rng(0).standard_normal(shape)
    out = max_pool2d(tt.tensor(x, dtype=tt.float64), kernel, stride, padding)
    expected = pool_reference(x, kernel, stride, padding, np.max, -np.inf)
    np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_avg_pool_matches_the_direct_definition(shape, kernel, stride, padding):
    x = np.random.default_rng(1).standard_normal(shape)
    out = avg_pool2d(tt.tensor(x, dtype=tt.float64), kernel, stride, padding)
    expected = pool_reference(x, kernel, stride, padding, np.mean, 0.0)  # count_include_pad
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_stride_defaults_to_kernel_size():
    x = tt.randn(2, 3, 9, 8)
    assert MaxPool2d(3)(x).shape == (2, 3, 3, 2)
    assert AvgPool2d((2, 4))(x).shape == (2, 3, 4, 2)
    np.testing.assert_array_equal(MaxPool2d(2)(x).data, max_pool2d(x, 2, 2).data)
    np.testing.assert_array_equal(AvgPool2d(3, 1)(x).data, avg_pool2d(x, 3, 1).data)


def test_pool_layers_have_no_state():
    assert MaxPool2d(2).state_dict() == {} and list(AvgPool2d(2).parameters()) == []


def test_pool_keeps_float32():
    assert max_pool2d(tt.randn(1, 2, 4, 4), 2).dtype == np.float32
    assert avg_pool2d(tt.randn(1, 2, 4, 4), 2).dtype == np.float32


def test_pool_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\).*\(3, 4, 4\)"):
        max_pool2d(tt.randn(3, 4, 4), 2)
    with pytest.raises(ValueError, match=r"kernel \(5, 5\).*\(4, 4\)"):
        avg_pool2d(tt.randn(1, 1, 4, 4), 5)
    with pytest.raises(ValueError, match="padding"):
        max_pool2d(tt.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        MaxPool2d((2, 2, 2))

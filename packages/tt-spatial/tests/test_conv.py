"""Conv2d and im2col: forward against a loop-by-loop NumPy reference, PyTorch's init, shapes and
errors. Gradients are in test_gradients.py."""

import math

import numpy as np
import pytest
import tt_tensor as tt
import tt_spatial
from tt_spatial import Conv2d, conv2d, im2col
from tt_tensor import fast_paths_off


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the compositions in functional.py (the lesson, your code): the fused
    fast paths are off here; test_fast_paths.py checks them against these."""
    with fast_paths_off(tt_spatial):  # a module without fast paths is left alone
        yield


def conv2d_reference(x, w, b, stride, padding):
    """Direct definition, one output element at a time (slow; tiny inputs only)."""
    (sh, sw), (ph, pw) = stride, padding
    B, C, H, W = x.shape
    OC, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    out = np.zeros((B, OC, OH, OW))
    for n in range(B):
        for o in range(OC):
            for i in range(OH):
                for j in range(OW):
                    patch = xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    out[n, o, i, j] = np.sum(patch * w[o]) + (0.0 if b is None else b[o])
    return out


def f64(array, grad=False):
    return tt.tensor(array, dtype=tt.float64, requires_grad=grad)


CASES = [  # x shape, weight shape, stride, padding, bias
    ((2, 3, 6, 6), (4, 3, 3, 3), (1, 1), (0, 0), True),
    ((2, 3, 7, 5), (4, 3, 3, 3), (2, 2), (1, 1), True),
    ((1, 2, 6, 9), (3, 2, 2, 4), (1, 2), (2, 1), False),   # non-square input, kernel, stride
    ((3, 1, 5, 4), (2, 1, 5, 1), (3, 1), (0, 2), True),
    ((2, 4, 4, 4), (5, 4, 1, 1), (1, 1), (0, 0), False),   # 1x1 convolution
]


@pytest.mark.parametrize("xs, ws, stride, padding, bias", CASES)
def test_conv2d_matches_the_direct_definition(xs, ws, stride, padding, bias):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[0]) if bias else None
    out = conv2d(f64(x), f64(w), None if b is None else f64(b), stride, padding)
    np.testing.assert_allclose(out.data, conv2d_reference(x, w, b, stride, padding), atol=1e-12)


def test_stacked_convs_read_the_channel_major_view():
    """conv2d returns a permuted view; the next conv must read it correctly."""
    rng = np.random.default_rng(4)
    x, w1, w2 = (rng.standard_normal(s) for s in ((2, 3, 8, 7), (4, 3, 3, 3), (5, 4, 2, 2)))
    out = conv2d(conv2d(f64(x), f64(w1), padding=1), f64(w2), stride=2)
    inner = conv2d_reference(x, w1, None, (1, 1), (1, 1))
    expected = conv2d_reference(inner, w2, None, (2, 2), (0, 0))
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_im2col_rows_are_receptive_fields():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 6))
    cols = im2col(f64(x), (2, 3), stride=(2, 1), padding=(1, 0)).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    OH, OW = (5 + 2 - 2) // 2 + 1, 6 - 3 + 1
    assert cols.shape == (3 * 2 * 3, 2 * OH * OW)
    for n in range(2):
        for i in range(OH):
            for j in range(OW):
                patch = xp[n, :, 2 * i:2 * i + 2, j:j + 3]
                np.testing.assert_array_equal(cols[:, n * OH * OW + i * OW + j], patch.ravel())


def test_conv2d_keeps_float32():
    out = Conv2d(3, 4, 3)(tt.randn(2, 3, 8, 8))
    assert out.dtype == np.float32 and out.shape == (2, 4, 6, 6)


def test_conv2d_records_the_same_ops_whatever_the_size():
    """No Python loop over pixels, images or channels: the graph does not grow with them."""
    def op_count(shape, out_channels):
        names = []
        with tt.add_op_hook(lambda event: names.append(event.op)):
            conv2d(tt.randn(*shape, requires_grad=True),
                   tt.randn(out_channels, shape[1], 3, 3, requires_grad=True),
                   tt.randn(out_channels, requires_grad=True), padding=1)
        return names

    assert op_count((1, 1, 4, 4), 1) == op_count((4, 8, 16, 12), 16)


def test_conv2d_module_init_bounds():
    layer = Conv2d(3, 8, (3, 5))
    bound = 1 / math.sqrt(3 * 3 * 5)  # kaiming_uniform_(a=sqrt(5)) -> 1 / sqrt(fan_in)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (8, 3, 3, 5) and b.shape == (8,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound  # 360 uniform draws fill the interval
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.15)  # U(-a, a): a/sqrt(3)


def test_conv2d_module_forward_equals_functional():
    layer = Conv2d(2, 3, 3, stride=2, padding=1)
    x = tt.randn(2, 2, 7, 7)
    expected = conv2d(x, layer.weight, layer.bias, stride=2, padding=1)
    np.testing.assert_array_equal(layer(x).data, expected.data)
    assert layer.stride == (2, 2) and layer.padding == (1, 1) and layer.kernel_size == (3, 3)


def test_conv2d_module_parameters_and_state_dict():
    assert list(Conv2d(2, 3, 3).state_dict()) == ["weight", "bias"]
    no_bias = Conv2d(2, 3, 3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]
    assert [p.shape for p in no_bias.parameters()] == [(3, 2, 3, 3)]


def test_channel_mismatch_names_both():
    with pytest.raises(ValueError, match=r"3.*\(2, 2, 5, 5\)"):
        Conv2d(3, 4, 3)(tt.randn(2, 2, 5, 5))
    with pytest.raises(ValueError, match=r"\(2, 2, 5, 5\).*2 channels.*\(4, 3, 3, 3\).*3"):
        conv2d(tt.randn(2, 2, 5, 5), tt.randn(4, 3, 3, 3))


@pytest.mark.parametrize("shape", [(3, 5, 5), (1, 1, 3, 5, 5)])
def test_non_4d_input_is_refused(shape):
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        conv2d(tt.randn(*shape), tt.randn(2, 3, 3, 3))


def test_kernel_larger_than_input_is_refused():
    with pytest.raises(ValueError, match=r"kernel \(5, 5\).*padded input \(4, 4\)"):
        conv2d(tt.randn(1, 1, 4, 4), tt.randn(1, 1, 5, 5))


def test_bad_bias_and_arguments_are_refused():
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        conv2d(tt.randn(1, 3, 5, 5), tt.randn(4, 3, 3, 3), tt.randn(3))
    with pytest.raises(ValueError, match="stride"):
        conv2d(tt.randn(1, 3, 5, 5), tt.randn(4, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2d(3, 4, (3, 3, 3))

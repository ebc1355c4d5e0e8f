"""The softmax's fast path (fused.py) equals the plain regions of ScaledMaskedSoftmax, in
values and gradients, whatever the number of worker threads."""

import numpy as np
import pytest
import tt_attention
from tt_attention import ScaledMaskedSoftmax, fast_paths_enabled, fused_softmax, use_fast_paths
from tt_tensor import tensor


@pytest.fixture(autouse=True)
def restore_setting():
    before = fast_paths_enabled()
    yield
    use_fast_paths(before, threads=None)


def causal_bias(tq, tk, dtype):
    return np.where(np.tri(tq, tk, k=tk - tq, dtype=bool), 0.0, -np.inf).astype(dtype)


def softmax_and_grad(x, scale, bias, fast, threads=1):
    """(y, dx) of ScaledMaskedSoftmax for a fixed upstream gradient, through its own
    forward and backward (the node's op and context)."""
    use_fast_paths(fast, threads=threads)
    y = fused_softmax(tensor(x, dtype=x.dtype, requires_grad=True), scale, bias)
    assert y.grad_fn.op is ScaledMaskedSoftmax
    g = np.sin(np.arange(x.size, dtype=x.dtype)).reshape(x.shape)
    (dx,) = y.grad_fn.op.backward(y.grad_fn.ctx, g)
    return y.data, dx


CASES = [  # shape, scale, bias maker
    ((12, 4, 64, 64), 0.18, lambda dt: causal_bias(64, 64, dt)),  # the GPT's scores
    ((3, 5, 7), 1.0, None),
    ((6, 9), 0.5, lambda dt: np.random.default_rng(3).standard_normal(9).astype(dt)),
    ((2, 3, 4, 6), 0.7, lambda dt: causal_bias(4, 6, dt)),
    ((2, 1, 5), 2.0, lambda dt: np.array([0.0, -np.inf, 0.0, 0.0, -np.inf], dtype=dt)),
]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("shape, scale, make_bias", CASES)
def test_fast_softmax_equals_the_plain_regions(shape, scale, make_bias, dtype, rtol):
    x = (np.random.default_rng(2).standard_normal(shape) * 3).astype(dtype)
    bias = None if make_bias is None else make_bias(dtype)
    plain_y, plain_dx = softmax_and_grad(x, scale, bias, fast=False)
    y, dx = softmax_and_grad(x, scale, bias, fast=True)
    assert y.dtype == plain_y.dtype == dx.dtype == dtype
    np.testing.assert_allclose(y, plain_y, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(dx, plain_dx, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=rtol)   # every row has a finite key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_give_the_same_bits_as_one(dtype):
    x = (np.random.default_rng(4).standard_normal((12, 4, 64, 64)) * 3).astype(dtype)
    bias = causal_bias(64, 64, dtype)
    y1, dx1 = softmax_and_grad(x, 0.18, bias, fast=True, threads=1)
    y3, dx3 = softmax_and_grad(x, 0.18, bias, fast=True, threads=3)
    np.testing.assert_array_equal(y3, y1)  # each row is computed the same way in any chunk
    np.testing.assert_array_equal(dx3, dx1)


def test_fully_masked_rows_stay_zero_on_the_fast_path():
    use_fast_paths(True)
    x = np.random.default_rng(5).standard_normal((3, 2, 4))
    bias = np.zeros((3, 2, 4))
    bias[1, 0, :] = -np.inf
    y = fused_softmax(tensor(x, dtype=np.float64, requires_grad=True), 0.5, bias)
    (dx,) = y.grad_fn.op.backward(y.grad_fn.ctx, np.ones_like(x))
    assert np.all(y.data[1, 0] == 0.0) and np.all(dx[1, 0] == 0.0)
    assert np.isfinite(y.data).all() and np.isfinite(dx).all()


def test_bad_thread_counts_are_refused():
    for bad in (0, -2, 2.0, True):
        with pytest.raises(ValueError, match="threads"):
            use_fast_paths(True, threads=bad)


def test_the_fast_paths_start_on_only_in_the_reference_build():
    # A learner's own package (version +own) starts on its regions, so a GPT trains through
    # what the learner wrote; the reference starts on its fast path.
    own = "+own" in tt_attention.__version__
    assert fast_paths_enabled() is not own

"""The fast paths (fused.py) equal the plain regions, in values and gradients, whatever the
number of worker threads: the softmax's (ScaledMaskedSoftmax) and the fused attention
(ScaledDotProductAttention, against scaled_dot_product_attention's composition)."""

import numpy as np
import pytest
import tt_attention
from tt_attention import (
    MultiHeadAttention, ScaledDotProductAttention, ScaledMaskedSoftmax, causal_mask,
    fast_paths_enabled, fused_softmax, scaled_dot_product_attention, use_fast_paths,
)
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


# --- the fused attention (ScaledDotProductAttention) ------------------------------------------
def attention_and_grads(q, k, v, mask, fast, threads=1):
    """(y, dq, dk, dv, op) of scaled_dot_product_attention for a fixed upstream gradient."""
    use_fast_paths(fast, threads=threads)
    leaves = [tensor(a, dtype=a.dtype, requires_grad=True) for a in (q, k, v)]
    y = scaled_dot_product_attention(*leaves, mask=mask)
    upstream = np.cos(np.arange(y.data.size, dtype=q.dtype)).reshape(y.shape)
    (y * tensor(upstream, dtype=q.dtype)).sum().backward()
    return (y.data, *(t.grad.data for t in leaves)), y.grad_fn.op


ATTENTION_CASES = {  # q, k, v shapes and a mask maker; each has at least 2^15 scores
    "gpt-causal": ((12, 4, 64, 32), (12, 4, 64, 32), (12, 4, 64, 32),
                   lambda: causal_mask(64)),
    "float-mask": ((2, 2, 96, 16), (2, 2, 96, 16), (2, 2, 96, 8),
                   lambda: np.random.default_rng(6).standard_normal((96, 96))),
    "one-sequence-after-a-cache": ((1, 4, 90, 8), (1, 4, 100, 8), (1, 4, 100, 6),
                                   lambda: causal_mask(90, 100)),
    "3-d-no-mask": ((6, 80, 8), (6, 80, 8), (6, 80, 8), lambda: None),
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("case", ATTENTION_CASES)
def test_fused_attention_equals_the_plain_composition(case, dtype, rtol, threads):
    *shapes, make_mask = ATTENTION_CASES[case]
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in shapes)
    mask = make_mask()
    plain, plain_op = attention_and_grads(q, k, v, mask, fast=False)
    fast, fast_op = attention_and_grads(q, k, v, mask, fast=True, threads=threads)
    assert fast_op is ScaledDotProductAttention and plain_op is not ScaledDotProductAttention
    for name, a, b in zip(("y", "dq", "dk", "dv"), fast, plain):
        assert a.dtype == dtype and a.shape == b.shape, name
        scale = np.abs(b).max()  # float32 products of 64 terms: compare against the largest
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=name)


def test_fused_attention_threads_give_the_same_bits_as_one():
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal((12, 4, 64, 32)).astype(np.float32) for _ in range(3))
    causal = np.tri(64, dtype=bool)
    one, _ = attention_and_grads(q, k, v, causal, fast=True, threads=1)
    three, _ = attention_and_grads(q, k, v, causal, fast=True, threads=3)
    for a, b in zip(three, one):
        np.testing.assert_array_equal(a, b)  # each (batch, head) is computed alike in any chunk


def test_fused_attention_gives_masked_queries_zeros_and_zero_gradients():
    rng = np.random.default_rng(9)
    q, k, v = (rng.standard_normal((4, 4, 64, 16)) for _ in range(3))
    mask = np.ones((64, 64), dtype=bool)
    mask[5] = False                                   # query 5 may attend nothing
    (y, dq, dk, dv), op = attention_and_grads(q, k, v, mask, fast=True, threads=2)
    assert op is ScaledDotProductAttention
    assert np.all(y[..., 5, :] == 0.0) and np.all(dq[..., 5, :] == 0.0)
    assert all(np.isfinite(a).all() for a in (y, dq, dk, dv))


def test_small_or_broadcast_attention_takes_the_composition():
    # below 2^15 scores (and for leading axes that broadcast) the region runs: its matmuls
    # are recorded as matmul ops, which tools such as tt-systems' Profiler count
    use_fast_paths(True, threads=2)
    rng = np.random.default_rng(10)
    small = [tensor(rng.standard_normal((2, 4, 7, 8)), requires_grad=True) for _ in range(3)]
    assert scaled_dot_product_attention(*small).grad_fn.op is not ScaledDotProductAttention
    q = tensor(rng.standard_normal((2, 4, 96, 96)), requires_grad=True)
    shared = tensor(rng.standard_normal((96, 96)), requires_grad=True)  # broadcast over (2, 4)
    assert scaled_dot_product_attention(q, q, shared).grad_fn.op is not ScaledDotProductAttention


@pytest.mark.parametrize("threads", [1, 2])
def test_multi_head_attention_on_the_fused_path_equals_the_plain_one(threads):
    x0 = np.random.default_rng(11).standard_normal((12, 64, 128)).astype(np.float32)
    mha = MultiHeadAttention(128, 4, bias=False, causal=True)
    results = []
    for fast in (False, True):
        use_fast_paths(fast, threads=threads)
        mha.zero_grad()
        x = tensor(x0, requires_grad=True)
        y = mha(x)
        (y * tensor(np.sin(np.arange(y.data.size)).reshape(y.shape), dtype=y.dtype)).sum() \
            .backward()
        results.append([y.data, x.grad.data] + [p.grad.data for p in mha.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * np.abs(b).max())

"""Gradients of tt_attention (tt-autograd comes from the `test` extra)."""

import numpy as np
import pytest
from tt_activations import softmax
from tt_autograd import gradcheck
from tt_tensor import cat as tensor_cat, float64, tensor, fast_paths_off

import tt_attention
from tt_attention import (
    KVCache, MultiHeadAttention, fused_softmax, scaled_dot_product_attention,
)


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the plain regions of ScaledMaskedSoftmax (the lesson, your code): its
    fast path is off here; test_fast_paths.py checks it against the regions."""
    with fast_paths_off(tt_attention):  # a module without fast paths is left alone
        yield


def leaf(*shape, seed=0, scale=1.0):
    data = np.random.default_rng(seed).standard_normal(shape) * scale
    return tensor(data, dtype=float64, requires_grad=True)


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_sdpa_gradcheck(kind):
    q, k, v = leaf(2, 4, 3, seed=1), leaf(2, 5, 3, seed=2), leaf(2, 5, 2, seed=3)
    mask, causal = None, False
    if kind == "bool":
        mask = np.random.default_rng(4).random((4, 5)) > 0.3
        mask[:, 0] = True
    elif kind == "float":
        mask = np.random.default_rng(5).standard_normal((4, 5))
    elif kind == "causal":
        k, v = leaf(2, 4, 3, seed=2), leaf(2, 4, 2, seed=3)
        causal = True
    assert gradcheck(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask=mask,
                                                                  is_causal=causal), q, k, v)


def test_multihead_attention_gradcheck():
    mha = MultiHeadAttention(6, 2, causal=True).double()
    assert gradcheck(lambda a, *ps: mha(a), leaf(2, 3, 6, seed=6), *mha.parameters())


def test_fused_softmax_gradient_equals_the_composed_one():
    upstream = np.random.default_rng(20).standard_normal((3, 4, 7))
    bias = np.where(np.random.default_rng(21).random((4, 7)) > 0.3, 0.0, -np.inf)
    bias[:, 0] = 0.0
    grads = []
    for fn in (lambda x: fused_softmax(x, 0.5, bias),
               lambda x: softmax(x * 0.5 + bias, axis=-1)):
        x = leaf(3, 4, 7, seed=22, scale=3.0)
        fn(x).backward(upstream)
        grads.append(x.grad.data)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: fused_softmax(x, 0.7), leaf(2, 5, seed=23, scale=2.0))


def test_gradients_flow_through_a_kv_cache_as_through_the_full_pass():
    mha = MultiHeadAttention(6, 2, causal=True).double()
    upstream = np.random.default_rng(24).standard_normal((1, 5, 6))
    grads = []
    for chunks in ([(0, 5)], [(0, 2), (2, 5)]):
        x = leaf(1, 5, 6, seed=25)
        cache = KVCache()
        for p in mha.parameters():
            p.grad = None
        for a, b in chunks:
            mha(x[:, a:b], kv_cache=cache).backward(upstream[:, a:b], retain_graph=True)
        grads.append([x.grad.data.copy()] + [p.grad.data.copy() for p in mha.parameters()])
    for full, chunked in zip(*grads):
        np.testing.assert_allclose(chunked, full, rtol=1e-10, atol=1e-12)


def test_fully_masked_query_has_a_finite_zero_gradient():
    # the composed reference: the rows that can attend through tt_activations.softmax, the
    # fully masked row as zeros (PyTorch 2.13's scaled_dot_product_attention)
    mask = np.ones((4, 5), dtype=bool)
    mask[1] = False
    mask[3, 2:] = False
    upstream = np.random.default_rng(40).standard_normal((2, 4, 2))
    grads = []
    for fused in (True, False):
        q, k, v = leaf(2, 4, 3, seed=41), leaf(2, 5, 3, seed=42), leaf(2, 5, 2, seed=43)
        if fused:
            out = scaled_dot_product_attention(q, k, v, mask=mask)
        else:
            keep = [0, 2, 3]
            bias = np.where(mask[keep], 0.0, -np.inf)
            w = softmax(q[:, keep] @ k.transpose(-2, -1) * (1 / np.sqrt(3)) + bias, axis=-1)
            rows = w @ v                                                 # (2, 3, 2)
            zero = rows[:, :1] * 0.0
            out = tensor_cat([rows[:, :1], zero, rows[:, 1:]], axis=1)     # (2, 4, 2)
        out.backward(upstream)
        grads.append([t.grad.data for t in (q, k, v)])
    for got, want in zip(*grads):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(grads[0][0][:, 1], 0.0)  # the masked query learns nothing

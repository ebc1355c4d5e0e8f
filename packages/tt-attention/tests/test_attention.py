"""Contract tests for tt_attention: values against NumPy references, masks, heads, KV cache."""

import numpy as np
import pytest
from tt_activations import softmax
from tt_tensor import Context, add_op_hook, float64, no_grad, tensor, fast_paths_off

import tt_attention
from tt_attention import (
    KVCache, MultiHeadAttention, ScaledMaskedSoftmax, causal_mask, fused_softmax,
    scaled_dot_product_attention,
)


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the plain regions of ScaledMaskedSoftmax (the lesson, your code): its
    fast path is off here; test_fast_paths.py checks it against the regions."""
    with fast_paths_off(tt_attention):  # a module without fast paths is left alone
        yield


def np_attention(q, k, v, bias=None, scale=None):
    """softmax(q k^T * scale + bias) v in float64."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if bias is not None:
        s = s + bias
    s = s - s.max(axis=-1, keepdims=True)
    w = np.exp(s)
    return (w / w.sum(axis=-1, keepdims=True)) @ v


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- scaled_dot_product_attention ---------------------------------------------------------
@pytest.mark.parametrize("qs,ks,vs", [((4, 3), (5, 3), (5, 2)),
                                      ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8)),
                                      ((2, 1, 4, 8), (3, 6, 8), (3, 6, 5))])
def test_sdpa_matches_numpy(qs, ks, vs):
    q, k, v = randn(*qs, seed=1), randn(*ks, seed=2), randn(*vs, seed=3)
    out = scaled_dot_product_attention(tensor(q, dtype=float64), tensor(k, dtype=float64),
                                       tensor(v, dtype=float64))
    np.testing.assert_allclose(out.data, np_attention(q, k, v), rtol=1e-10, atol=1e-12)


def test_sdpa_bool_mask_true_means_attend():
    q, k, v = randn(2, 4, 8, seed=1), randn(2, 6, 8, seed=2), randn(2, 6, 3, seed=3)
    mask = randn(4, 6, seed=4) > 0
    mask[:, 0] = True  # every row attends to something
    out = scaled_dot_product_attention(q, k, v, mask=mask)
    bias = np.where(mask, 0.0, -np.inf)
    np.testing.assert_allclose(out.data, np_attention(q, k, v, bias), rtol=1e-5, atol=1e-6)
    # masked keys have no influence: change them, nothing moves
    v2 = v.copy()
    v2[:, ~mask.any(axis=0)] += 100.0
    k2 = k.copy()
    k2[:, ~mask.any(axis=0)] -= 50.0
    np.testing.assert_allclose(scaled_dot_product_attention(q, k2, v2, mask=mask).data,
                               out.data, rtol=1e-5)


def test_sdpa_float_mask_is_added_and_scale_is_used():
    q, k, v = randn(3, 4, seed=1), randn(5, 4, seed=2), randn(5, 2, seed=3)
    bias = randn(3, 5, seed=4)
    out = scaled_dot_product_attention(tensor(q, dtype=float64), tensor(k, dtype=float64),
                                       tensor(v, dtype=float64), mask=bias, scale=0.3)
    np.testing.assert_allclose(out.data, np_attention(q, k, v, bias, 0.3), rtol=1e-10)


def test_sdpa_is_causal_equals_lower_triangular_mask():
    q, k, v = randn(2, 5, 4, seed=1), randn(2, 5, 4, seed=2), randn(2, 5, 4, seed=3)
    causal = scaled_dot_product_attention(q, k, v, is_causal=True).data
    bias = np.where(np.tril(np.ones((5, 5), dtype=bool)), 0.0, -np.inf)
    np.testing.assert_allclose(causal, np_attention(q, k, v, bias), rtol=1e-5, atol=1e-6)
    # query 0 sees only key 0: its output is v[0]
    np.testing.assert_allclose(causal[:, 0], v[:, 0], rtol=1e-6)


def test_sdpa_errors():
    q = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="either mask or is_causal"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match="same D"):
        scaled_dot_product_attention(q, np.zeros((2, 3, 5)), q)
    with pytest.raises(TypeError, match="bool .* or float"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3), dtype=np.int64))


def test_causal_mask_alignment():
    np.testing.assert_array_equal(causal_mask(4), np.tril(np.ones((4, 4), dtype=bool)))
    # 2 new queries after 3 cached keys: query i is position 3 + i
    expected = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(causal_mask(2, 5), expected)
    with pytest.raises(ValueError, match="3 queries cannot come after only 2 keys"):
        causal_mask(3, 2)


# --- MultiHeadAttention -------------------------------------------------------------------
def np_mha(m, x, causal):
    """Reference: one head at a time, in a loop (what the module must NOT do)."""
    B, T, E = x.shape
    H, D = m.num_heads, m.head_dim

    def proj(lin, a):
        out = a @ lin.weight.data.T
        return out if lin.bias is None else out + lin.bias.data

    q, k, v = proj(m.q_proj, x), proj(m.k_proj, x), proj(m.v_proj, x)
    bias = np.where(np.tril(np.ones((T, T))), 0.0, -np.inf) if causal else None
    heads = [np_attention(q[..., h * D:(h + 1) * D], k[..., h * D:(h + 1) * D],
                          v[..., h * D:(h + 1) * D], bias) for h in range(H)]
    return proj(m.out_proj, np.concatenate(heads, axis=-1))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_mha_matches_a_per_head_reference(causal, bias):
    m = MultiHeadAttention(12, 3, bias=bias, causal=causal).double()
    x = randn(2, 5, 12, seed=7)
    out = m(tensor(x, dtype=float64))
    assert out.shape == (2, 5, 12)
    np.testing.assert_allclose(out.data, np_mha(m, x, causal), rtol=1e-9, atol=1e-12)


def test_mha_heads_are_batched_not_looped():
    # the number of matmuls must not grow with the number of heads
    counts = []
    for heads in (1, 8):
        m = MultiHeadAttention(16, heads, causal=True)
        seen = []
        with add_op_hook(lambda event: seen.append(event.op)):
            m(np.zeros((2, 6, 16), dtype=np.float32))
        counts.append(seen.count("matmul"))
    assert counts[0] == counts[1] == 6  # q, k, v, scores, weights @ v, out


def test_mha_causal_future_positions_do_not_change_the_past():
    m = MultiHeadAttention(8, 2, causal=True)
    x = randn(1, 6, 8, seed=3).astype(np.float32)
    y = m(x).data
    x2 = x.copy()
    x2[:, 4:] += randn(1, 2, 8, seed=9).astype(np.float32)
    y2 = m(x2).data
    np.testing.assert_array_equal(y2[:, :4], y[:, :4])
    assert not np.allclose(y2[:, 4:], y[:, 4:])


def token_by_token(m, x, cache):
    """m's output for x (B, T, E), fed one position at a time through `cache`."""
    with no_grad():
        return np.concatenate([m(x[:, t:t + 1], kv_cache=cache).data
                               for t in range(x.shape[1])], axis=1)


def test_kv_cache_matches_full_computation():
    m = MultiHeadAttention(16, 4, causal=True).double()
    x = tensor(randn(2, 7, 16, seed=5), dtype=float64)
    full, cache = m(x).data, KVCache()
    np.testing.assert_allclose(token_by_token(m, x, cache), full, rtol=1e-10, atol=1e-12)
    assert len(cache) == 7 and cache.key.shape == (2, 4, 7, 4)
    # a prompt of 3 then chunks of 2 and 2: the lower-right causal mask inside chunks
    cache.reset()
    chunks = [m(x[:, a:b], kv_cache=cache).data for a, b in ((0, 3), (3, 5), (5, 7))]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), full, rtol=1e-10, atol=1e-12)


def test_mha_user_mask_combines_with_causal():
    m = MultiHeadAttention(8, 2, causal=True).double()
    x = randn(1, 4, 8, seed=2)
    keep = np.ones((4, 4), dtype=bool)
    keep[3, 1] = False
    expected_bias = np.where(np.tril(keep), 0.0, -np.inf)
    # the per-head reference with the combined mask
    out = m(tensor(x, dtype=float64), mask=keep).data
    B, T, E = x.shape
    q = x @ m.q_proj.weight.data.T + m.q_proj.bias.data
    k = x @ m.k_proj.weight.data.T + m.k_proj.bias.data
    v = x @ m.v_proj.weight.data.T + m.v_proj.bias.data
    heads = [np_attention(q[..., h * 4:(h + 1) * 4], k[..., h * 4:(h + 1) * 4],
                          v[..., h * 4:(h + 1) * 4], expected_bias) for h in range(2)]
    ref = np.concatenate(heads, -1) @ m.out_proj.weight.data.T + m.out_proj.bias.data
    np.testing.assert_allclose(out, ref, rtol=1e-9)


def test_mha_errors_and_parameters():
    with pytest.raises(ValueError, match="embed_dim 10 is not divisible by num_heads 3"):
        MultiHeadAttention(10, 3)
    m = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"\(B, T, 8\)"):
        m(np.zeros((2, 3, 6), dtype=np.float32))
    names = sorted(name for name, _ in m.named_parameters())
    assert names == sorted(f"{p}.{w}" for p in ("q_proj", "k_proj", "v_proj", "out_proj")
                           for w in ("weight", "bias"))
    assert m.num_parameters() == 4 * (8 * 8 + 8)


# --- the fused softmax ---------------------------------------------------------------------
def test_fused_softmax_equals_the_composed_softmax():
    x = randn(2, 3, 5, 7, seed=11) * 30  # large values: the max shift must work
    out = fused_softmax(tensor(x, dtype=float64))
    assert out.grad_fn is None and out.dtype == np.float64
    np.testing.assert_allclose(out.data, softmax(tensor(x, dtype=float64), axis=-1).data,
                               rtol=1e-12, atol=1e-300)
    x32 = tensor(x.astype(np.float32), requires_grad=True)
    y32 = fused_softmax(x32)
    assert y32.grad_fn.op is ScaledMaskedSoftmax and y32.dtype == np.float32
    bias = np.where(randn(5, 7, seed=14) > 0, 0.0, -np.inf)
    bias[:, 0] = 0.0
    scaled = fused_softmax(tensor(x, dtype=float64), scale=0.3, bias=bias).data
    expected = softmax(tensor(x * 0.3 + bias, dtype=float64), axis=-1).data
    np.testing.assert_allclose(scaled, expected, rtol=1e-12, atol=1e-300)


def test_fused_softmax_backward_matches_central_differences():
    x = randn(3, 6, seed=12)
    g = randn(3, 6, seed=13)
    bias = np.array([0.0, -np.inf, 0.0, 1.5, 0.0, -2.0])
    ctx = Context()
    ScaledMaskedSoftmax.forward(ctx, x.copy(), scale=0.7, bias=bias)
    (analytic,) = ScaledMaskedSoftmax.backward(ctx, g)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        f = lambda a: (ScaledMaskedSoftmax.forward(Context(), a, 0.7, bias) * g).sum()  # noqa
        numeric[idx] = (f(hi) - f(lo)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_kv_cache_grows_past_its_buffer_and_resets():
    m = MultiHeadAttention(8, 2, causal=True).double()
    x = tensor(randn(1, 40, 8, seed=15), dtype=float64)   # 40 > 16 and > 32: two regrowths
    cache = KVCache()
    np.testing.assert_allclose(token_by_token(m, x, cache), m(x).data, rtol=1e-10, atol=1e-12)
    assert len(cache) == 40 and cache.value.shape == (1, 2, 40, 4)
    first_key = x.data[0, 0] @ m.k_proj.weight.data.T + m.k_proj.bias.data   # (E,)
    np.testing.assert_allclose(cache.key.data[0, :, 0], first_key.reshape(2, 4), rtol=1e-12)
    cache.reset()
    assert len(cache) == 0 and cache.key is None


def test_kv_cache_update_returns_every_stored_key_and_value():
    cache = KVCache()
    keys, values = randn(2, 3, 5, 4, seed=18), randn(2, 3, 5, 4, seed=19)
    stored = []
    for a, b in ((0, 2), (2, 3), (3, 5)):                 # a prompt of 2, then 1, then 2
        out = cache.update(tensor(keys[:, :, a:b], dtype=float64),
                           tensor(values[:, :, a:b], dtype=float64))
        assert isinstance(out, tuple) and len(out) == 2
        key, value = out
        assert key is cache.key and value is cache.value and len(cache) == b
        np.testing.assert_array_equal(key.data, keys[:, :, :b])
        np.testing.assert_array_equal(value.data, values[:, :, :b])
        stored.append(key.data)
    # without gradients the keys live in one buffer: an append writes its slots, no copy
    assert np.shares_memory(stored[0], stored[-1])
    np.testing.assert_array_equal(stored[0], keys[:, :, :2])   # earlier results still hold


def test_kv_cache_keeps_the_graph_when_keys_need_gradients():
    m = MultiHeadAttention(8, 2, causal=True).double()
    x = tensor(randn(1, 5, 8, seed=16), dtype=float64)
    cache = KVCache()
    m(x[:, :3], kv_cache=cache)
    out = m(x[:, 3:], kv_cache=cache)
    assert cache.key.grad_fn.op == "concatenate"      # recorded, so backward reaches step 1
    np.testing.assert_allclose(out.data, m(x).data[:, 3:], rtol=1e-10)


def test_single_position_without_cache_matches_the_reference():
    m = MultiHeadAttention(12, 3, causal=True).double()
    x = randn(2, 1, 12, seed=17)
    np.testing.assert_allclose(m(tensor(x, dtype=float64)).data, np_mha(m, x, True),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_weights_are_the_softmax_forward_mixes_the_values_with(causal):
    m = MultiHeadAttention(12, 3, causal=causal).double()
    x = randn(2, 5, 12, seed=3)
    B, T, E = x.shape
    H, D = m.num_heads, m.head_dim
    weights = m.attention_weights(tensor(x, dtype=float64)).data
    assert weights.shape == (B, H, T, T)
    q = (x @ m.q_proj.weight.data.T + m.q_proj.bias.data).reshape(B, T, H, D).transpose(0, 2, 1, 3)
    k = (x @ m.k_proj.weight.data.T + m.k_proj.bias.data).reshape(B, T, H, D).transpose(0, 2, 1, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)  # (B, H, T, T)
    if causal:
        scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, expected, rtol=1e-9, atol=1e-12)
    # the same weights rebuild forward's output: mix the values, join the heads, project
    v = (x @ m.v_proj.weight.data.T + m.v_proj.bias.data).reshape(B, T, H, D).transpose(0, 2, 1, 3)
    mixed = (weights @ v).transpose(0, 2, 1, 3).reshape(B, T, E)
    rebuilt = mixed @ m.out_proj.weight.data.T + m.out_proj.bias.data
    np.testing.assert_allclose(m(tensor(x, dtype=float64)).data, rebuilt, rtol=1e-9, atol=1e-12)


# --- a query with every key masked --------------------------------------------------------
def test_fully_masked_query_gets_zeros_like_pytorch_sdpa():
    q, k, v = randn(2, 4, 3, seed=30), randn(2, 5, 3, seed=31), randn(2, 5, 2, seed=32)
    mask = np.random.default_rng(33).random((4, 5)) > 0.4
    mask[:, 0] = True
    mask[2] = False                                   # query 2 may attend to nothing
    with np.errstate(invalid="raise", divide="raise"):
        out = scaled_dot_product_attention(tensor(q, dtype=float64), tensor(k, dtype=float64),
                                           tensor(v, dtype=float64), mask=mask).data
    np.testing.assert_array_equal(out[:, 2], 0.0)
    rows = [0, 1, 3]
    bias = np.where(mask, 0.0, -np.inf)[rows]
    np.testing.assert_allclose(out[:, rows], np_attention(q[:, rows], k, v, bias), rtol=1e-10)
    float_mask = np.where(mask, 0.0, -np.inf)         # the same mask given as a float bias
    out_f = scaled_dot_product_attention(tensor(q, dtype=float64), tensor(k, dtype=float64),
                                         tensor(v, dtype=float64), mask=float_mask).data
    np.testing.assert_array_equal(out_f, out)


def test_fully_masked_row_of_the_fused_softmax_is_zero_with_zero_gradient():
    x = randn(3, 6, seed=34)
    bias = np.zeros((3, 6))
    bias[1] = -np.inf
    ctx = Context()
    y = ScaledMaskedSoftmax.forward(ctx, x.copy(), scale=0.5, bias=bias)
    np.testing.assert_array_equal(y[1], 0.0)
    np.testing.assert_allclose(y[[0, 2]], softmax(tensor(x[[0, 2]] * 0.5, dtype=float64)).data,
                               rtol=1e-12)
    (grad,) = ScaledMaskedSoftmax.backward(ctx, randn(3, 6, seed=35))
    assert np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[1], 0.0)


def test_fused_softmax_keeps_its_input_and_warns_of_nothing_on_masked_rows():
    x = randn(2, 4, 6, seed=36)
    bias = np.where(randn(4, 6, seed=37) > 0, 0.0, -np.inf)
    keep = [0, 1, 3]
    bias[keep, 0] = 0.0                                 # rows 0, 1, 3 may attend somewhere
    bias[2] = -np.inf                                   # row 2 may attend nowhere
    t = tensor(x, dtype=float64)
    with np.errstate(invalid="raise", divide="raise"):
        y = fused_softmax(t, scale=2.0, bias=bias)
        ctx, data = Context(), x.copy()
        ScaledMaskedSoftmax.forward(ctx, data, scale=2.0, bias=bias)
        (grad,) = ScaledMaskedSoftmax.backward(ctx, randn(2, 4, 6, seed=38))
    np.testing.assert_array_equal(t.data, x)            # the input Tensor's data is untouched
    np.testing.assert_array_equal(data, x)              # and so is forward's ndarray
    np.testing.assert_array_equal(y.data[:, 2], 0.0)
    np.testing.assert_array_equal(grad[:, 2], 0.0)
    expected = softmax(tensor(x[:, keep] * 2.0 + bias[keep], dtype=float64), axis=-1).data
    np.testing.assert_allclose(y.data[:, keep], expected, rtol=1e-12, atol=1e-300)


def test_fused_softmax_refuses_a_0d_tensor_as_the_composed_softmax_does():
    x = tensor(np.float64(0.5))
    with pytest.raises(ValueError, match=r"axis -1 is out of range .* shape \(\)"):
        softmax(x)
    with pytest.raises(ValueError, match=r"axis -1 is out of range .* shape \(\)"):
        fused_softmax(x)

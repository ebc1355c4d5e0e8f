"""Contract tests for tt_transformers: the block, GPTConfig, GPT (tying, causality, cache)."""

import math

import numpy as np
import pytest
from tt_activations import gelu
from tt_attention import KVCache
from tt_layers import Module
from tt_tensor import Context, float64, no_grad, tensor

from tt_transformers import GPT, MLP, GELUTanh, GPTConfig, TransformerBlock, fused_gelu

TINY = dict(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=16)


def np_layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps) * w
    return y if b is None else y + b


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def np_linear(lin, x):
    y = x @ lin.weight.data.T
    return y if lin.bias is None else y + lin.bias.data


# --- MLP and TransformerBlock ---------------------------------------------------------------
def test_mlp_is_linear_gelu_linear_with_4x_width():
    mlp = MLP(8).double()
    assert mlp.c_fc.weight.shape == (32, 8) and mlp.c_proj.weight.shape == (8, 32)
    x = np.random.default_rng(0).standard_normal((2, 3, 8))
    expected = np_linear(mlp.c_proj, np_gelu_tanh(np_linear(mlp.c_fc, x)))
    np.testing.assert_allclose(mlp(tensor(x, dtype=float64)).data, expected, rtol=1e-9)


@pytest.mark.parametrize("bias", [True, False])
def test_block_is_pre_layernorm_residual(bias):
    block = TransformerBlock(8, 2, bias=bias).double()
    x = tensor(np.random.default_rng(1).standard_normal((2, 5, 8)), dtype=float64)
    ln1 = np_layer_norm(x.data, block.ln_1.weight.data,
                        None if block.ln_1.bias is None else block.ln_1.bias.data)
    h = x.data + block.attn(tensor(ln1, dtype=float64)).data   # x + attn(ln_1(x))
    ln2 = np_layer_norm(h, block.ln_2.weight.data,
                        None if block.ln_2.bias is None else block.ln_2.bias.data)
    expected = h + block.mlp(tensor(ln2, dtype=float64)).data  # + mlp(ln_2(.))
    np.testing.assert_allclose(block(x).data, expected, rtol=1e-9, atol=1e-12)
    assert block.attn.causal


# --- GPTConfig -----------------------------------------------------------------------------
def test_config_defaults_are_the_nanogpt_cpu_run():
    cfg = GPTConfig()
    assert (cfg.block_size, cfg.vocab_size, cfg.n_layer, cfg.n_head, cfg.n_embd) == \
        (64, 65, 4, 4, 128)
    assert cfg.dropout == 0.0 and cfg.bias is False


@pytest.mark.parametrize("bad,match", [(dict(n_embd=10, n_head=4), "not divisible"),
                                       (dict(n_layer=0), "n_layer"),
                                       (dict(dropout=1.0), "dropout")])
def test_config_validation(bad, match):
    with pytest.raises(ValueError, match=match):
        GPTConfig(**bad)


# --- GPT -----------------------------------------------------------------------------------
def test_gpt_logits_shape_and_weight_tying():
    model = GPT(GPTConfig(**TINY))
    idx = np.random.default_rng(0).integers(0, 11, size=(3, 8))
    logits = model(idx)
    assert logits.shape == (3, 8, 11) and logits.dtype == np.float32
    assert model.lm_head.weight is model.wte                 # the same Parameter object
    names = [name for name, _ in model.named_parameters()]
    assert "wte" in names and "lm_head.weight" not in names  # listed (and optimised) once
    C, V, L, T = 16, 11, 2, 8
    per_block = 4 * C * C + 2 * 4 * C * C + 2 * C           # attn + mlp + two LN weights
    assert model.num_parameters() == V * C + T * C + L * per_block + C


def test_gpt_head_uses_the_embedding_matrix():
    model = GPT(GPTConfig(**TINY, bias=True)).double()
    idx = np.array([[1, 2, 3]])
    x = model.wte.data[idx] + model.wpe.data[:3]
    for block in model.blocks:
        x = block(tensor(x, dtype=float64)).data
    x = np_layer_norm(x, model.ln_f.weight.data, model.ln_f.bias.data)
    np.testing.assert_allclose(model(idx).data, x @ model.wte.data.T, rtol=1e-9, atol=1e-12)


def test_gpt_init_follows_gpt2():
    model = GPT(GPTConfig(n_layer=8, n_embd=256, n_head=4, vocab_size=300))
    assert abs(model.h0.mlp.c_fc.weight.data.std() - 0.02) < 1e-3
    assert abs(model.wte.data.std() - 0.02) < 1e-3
    residual = np.concatenate([b.mlp.c_proj.weight.data.ravel() for b in model.blocks])
    assert abs(residual.std() - 0.02 / math.sqrt(16)) < 2e-4
    np.testing.assert_array_equal(model.h0.ln_1.weight.data, 1.0)


def test_too_long_sequence_names_both_lengths():
    model = GPT(GPTConfig(**TINY))
    with pytest.raises(ValueError, match="length 9 .* block_size 8"):
        model(np.zeros((1, 9), dtype=np.int64))
    with pytest.raises(ValueError, match=r"\[0, 11\)"):
        model(np.array([[11]]))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(np.zeros(4, dtype=np.int64))


def test_changing_a_future_token_never_changes_earlier_logits():
    model = GPT(GPTConfig(**TINY))
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 11, size=(2, 8))
    base = model(idx).data
    for t in range(8):
        changed = idx.copy()
        changed[:, t] = (changed[:, t] + 1 + rng.integers(0, 9)) % 11
        logits = model(changed).data
        np.testing.assert_array_equal(logits[:, :t], base[:, :t])
        assert not np.allclose(logits[:, t:], base[:, t:])


def test_kv_cache_logits_equal_full_forward():
    model = GPT(GPTConfig(**TINY)).double()
    idx = np.random.default_rng(4).integers(0, 11, size=(2, 8))
    full = model(idx).data
    cache = [KVCache() for _ in range(TINY["n_layer"])]
    with no_grad():
        parts = [model(idx[:, :3], kv_cache=cache).data]
        parts += [model(idx[:, t:t + 1], kv_cache=cache).data for t in range(3, 8)]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-10, atol=1e-12)
    too_long = r"length 9 \(8 cached \+ 1 new\) is longer than block_size 8"
    with pytest.raises(ValueError, match=too_long):
        model(idx[:, :1], kv_cache=cache)
    with pytest.raises(ValueError, match="one KVCache per block"):
        model(idx, kv_cache=[KVCache()])


class CountingDropout(Module):
    """A stand-in for a dropout layer: records its p and how often it runs."""

    def __init__(self, p):
        super().__init__()
        self.p, self.calls = p, 0

    def forward(self, x):
        self.calls += 1
        return x


def test_dropout_comes_from_the_caller():
    with pytest.raises(ValueError, match="make_dropout"):
        GPT(GPTConfig(**TINY, dropout=0.1))
    model = GPT(GPTConfig(**TINY, dropout=0.1), make_dropout=CountingDropout)
    model(np.zeros((1, 4), dtype=np.int64))
    # embeddings once, then attention and MLP branch of each of the 2 blocks
    assert model.drop.p == 0.1 and model.drop.calls == 1 + 2 * 2


# --- the fused GELU ------------------------------------------------------------------------
def test_fused_gelu_equals_the_composed_tanh_gelu():
    x = np.random.default_rng(5).standard_normal((4, 9)) * 4
    out = fused_gelu(tensor(x, dtype=float64))
    np.testing.assert_allclose(out.data, np_gelu_tanh(x), rtol=1e-12, atol=1e-15)
    composed = gelu(tensor(x, dtype=float64), approximate="tanh").data
    np.testing.assert_allclose(out.data, composed, rtol=1e-12, atol=1e-15)
    x32 = tensor(x.astype(np.float32), requires_grad=True)
    y32 = fused_gelu(x32)
    assert y32.dtype == np.float32 and y32.grad_fn.op is GELUTanh


def test_fused_gelu_backward_matches_central_differences():
    x = np.random.default_rng(6).standard_normal((3, 7)) * 3
    g = np.random.default_rng(7).standard_normal((3, 7))
    ctx = Context()
    GELUTanh.forward(ctx, x.copy())
    (analytic,) = GELUTanh.backward(ctx, g)
    eps = 1e-6
    numeric = (np_gelu_tanh(x + eps) - np_gelu_tanh(x - eps)) / (2 * eps) * g  # elementwise
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)

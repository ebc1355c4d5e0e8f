"""Contract tests for tt_transformers: the block, GPTConfig, GPT (tying, causality, cache)."""

import math

import numpy as np
import pytest
import tt_activations
from tt_attention import KVCache
from tt_embeddings import Embedding
from tt_layers import Module, ModuleList, register_module_forward_hook
from tt_tensor import float64, no_grad, tensor

from tt_transformers import GPT, MLP, GPTConfig, TransformerBlock

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


def test_mlp_calls_whatever_tt_activations_gelu_is(monkeypatch):
    # module 03's gelu runs in the GPT: replacing tt_activations replaces what the MLP computes
    calls = []

    def relu_instead(x, approximate="none"):
        calls.append(approximate)
        return tt_activations.relu(x)

    monkeypatch.setattr(tt_activations, "gelu", relu_instead)
    block = TransformerBlock(8, 2).double()
    x = np.random.default_rng(2).standard_normal((2, 3, 8))
    out = block.mlp(tensor(x, dtype=float64)).data
    relu = np.maximum(np_linear(block.mlp.c_fc, x), 0.0)
    np.testing.assert_allclose(out, np_linear(block.mlp.c_proj, relu), rtol=1e-9)
    block(tensor(x, dtype=float64))
    assert calls == ["tanh", "tanh"]


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
    assert isinstance(model.wte, Embedding) and isinstance(model.wpe, Embedding)
    assert model.wte.weight.shape == (11, 16) and model.wpe.weight.shape == (8, 16)
    assert model.lm_head.weight is model.wte.weight          # the same Parameter object
    names = [name for name, _ in model.named_parameters()]
    assert "wte.weight" in names and "lm_head.weight" not in names  # optimised once
    C, V, L, T = 16, 11, 2, 8
    per_block = 4 * C * C + 2 * 4 * C * C + 2 * C           # attn + mlp + two LN weights
    assert model.num_parameters() == V * C + T * C + L * per_block + C


def test_gpt_head_uses_the_embedding_matrix():
    model = GPT(GPTConfig(**TINY, bias=True)).double()
    idx = np.array([[1, 2, 3]])
    x = model.wte.weight.data[idx] + model.wpe.weight.data[:3]
    for block in model.h:
        x = block(tensor(x, dtype=float64)).data
    x = np_layer_norm(x, model.ln_f.weight.data, model.ln_f.bias.data)
    expected = x @ model.wte.weight.data.T
    np.testing.assert_allclose(model(idx).data, expected, rtol=1e-9, atol=1e-12)


def test_gpt_looks_tokens_and_positions_up_through_embedding_modules():
    model = GPT(GPTConfig(**TINY))
    seen = []

    def record(module, inputs, output):
        if isinstance(module, Embedding):
            seen.append((module, np.asarray(getattr(inputs[0], "data", inputs[0])).tolist()))

    cache = [KVCache() for _ in range(TINY["n_layer"])]
    with register_module_forward_hook(record), no_grad():
        model(np.array([[4, 5, 6]]), kv_cache=cache)
        model(np.array([[7]]), kv_cache=cache)
    assert seen == [(model.wte, [[4, 5, 6]]), (model.wpe, [0, 1, 2]),
                    (model.wte, [[7]]), (model.wpe, [3])]


def test_blocks_are_a_module_list_named_h():
    model = GPT(GPTConfig(**TINY))
    assert isinstance(model.h, ModuleList) and len(model.h) == TINY["n_layer"]
    assert all(isinstance(block, TransformerBlock) for block in model.h)
    keys = list(model.state_dict())
    assert keys[:3] == ["wte.weight", "wpe.weight", "h.0.ln_1.weight"]
    assert "h.1.mlp.c_proj.weight" in keys and keys[-2:] == ["ln_f.weight", "lm_head.weight"]


def test_state_dicts_with_the_old_names_still_load():
    # TinyTorch 0.1 saved wte / wpe as bare Parameters and blocks as h0, h1, ...
    model, fresh = GPT(GPTConfig(**TINY)), GPT(GPTConfig(**TINY))
    old = {}
    for key, value in model.state_dict().items():
        key = key.replace(".weight", "") if key in ("wte.weight", "wpe.weight") else key
        old[key.replace("h.0.", "h0.").replace("h.1.", "h1.")] = value
    assert "wte" in old and "h1.attn.q_proj.weight" in old
    fresh.load_state_dict(old)
    idx = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(fresh(idx).data, model(idx).data)
    with pytest.raises(RuntimeError, match=r"Unexpected key.*h\.9\.ln_1"):
        fresh.load_state_dict({**old, "h9.ln_1.weight": np.ones(16)})


def test_gpt_init_follows_gpt2():
    model = GPT(GPTConfig(n_layer=8, n_embd=256, n_head=4, vocab_size=300))
    assert abs(model.h[0].mlp.c_fc.weight.data.std() - 0.02) < 1e-3
    assert abs(model.wte.weight.data.std() - 0.02) < 1e-3
    assert abs(model.wpe.weight.data.std() - 0.02) < 2e-3   # not Embedding's N(0, 1)
    residual = np.concatenate([b.mlp.c_proj.weight.data.ravel() for b in model.h])
    assert abs(residual.std() - 0.02 / math.sqrt(16)) < 2e-4
    np.testing.assert_array_equal(model.h[0].ln_1.weight.data, 1.0)


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
    with pytest.raises(ValueError, match="dropout_layer"):
        GPT(GPTConfig(**TINY, dropout=0.1))
    model = GPT(GPTConfig(**TINY, dropout=0.1), dropout_layer=CountingDropout)
    assert isinstance(model.drop, CountingDropout)
    assert all(block.dropout is model.drop and block.mlp.dropout is model.drop
               for block in model.h)
    model(np.zeros((1, 4), dtype=np.int64))
    # embeddings once, then attention and MLP branch of each of the 2 blocks
    assert model.drop.p == 0.1 and model.drop.calls == 1 + 2 * 2
    assert GPT(GPTConfig(**TINY), dropout_layer=CountingDropout).drop is None  # p = 0: none


class TriplingDropout(Module):
    """A stand-in for a dropout layer that multiplies by 3: where it runs shows in the output."""

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, x):
        return x * 3.0


def test_dropout_is_applied_once_to_each_branch_and_to_the_embeddings():
    block = TransformerBlock(8, 2, dropout=TriplingDropout()).double()
    x = np.random.default_rng(5).standard_normal((2, 5, 8))
    ln1 = np_layer_norm(x, block.ln_1.weight.data, block.ln_1.bias.data)
    h = x + 3.0 * block.attn(tensor(ln1, dtype=float64)).data       # the attention branch
    ln2 = np_layer_norm(h, block.ln_2.weight.data, block.ln_2.bias.data)
    mlp = np_linear(block.mlp.c_proj, np_gelu_tanh(np_linear(block.mlp.c_fc, ln2)))
    np.testing.assert_allclose(block.mlp(tensor(ln2, dtype=float64)).data, 3.0 * mlp,
                               rtol=1e-9, atol=1e-12)              # the MLP's own, after c_proj
    np.testing.assert_allclose(block(tensor(x, dtype=float64)).data, h + 3.0 * mlp,
                               rtol=1e-9, atol=1e-12)              # and not once more
    # GPT: once on the sum of the token and position embeddings, then inside each block
    model = GPT(GPTConfig(**TINY, dropout=0.1), dropout_layer=TriplingDropout).double()
    idx = np.array([[3, 1, 4, 1]])
    z = 3.0 * (model.wte.weight.data[idx] + model.wpe.weight.data[:4])
    for block in model.h:
        z = block(tensor(z, dtype=float64)).data
    z = np_layer_norm(z, model.ln_f.weight.data, None)
    np.testing.assert_allclose(model(idx).data, z @ model.wte.weight.data.T,
                               rtol=1e-9, atol=1e-12)

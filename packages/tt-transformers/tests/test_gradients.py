"""Gradients of tt_transformers (tt-autograd comes from the `test` extra; tt-networks, which
tt-autograd depends on, gives the cross-entropy of the GPT loss)."""

import math

import numpy as np
import pytest
from tt_activations import gelu
from tt_autograd import gradcheck
from tt_networks import cross_entropy
from tt_tensor import float64, tanh, tensor

from tt_transformers import GPT, MLP, GPTConfig, TransformerBlock


def leaf(*shape, seed=0, scale=1.0):
    data = np.random.default_rng(seed).standard_normal(shape) * scale
    return tensor(data, dtype=float64, requires_grad=True)


# gelu's gradients are checked here, where the MLP uses them: tt-activations cannot list
# tt-autograd as a test dependency (autograd builds on it)
def composed_gelu_tanh(x):
    """The tanh form written with tt_tensor primitives only."""
    return 0.5 * x * (1.0 + tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))))


@pytest.mark.parametrize("shape", [(), (7,), (3, 4, 7)])
def test_gelu_tanh_gradient_equals_the_composed_one(shape):
    # a graph is recorded, so gelu may take its fused fast path: same values and gradients
    upstream = np.random.default_rng(20).standard_normal(shape)
    outs, grads = [], []
    for fn in (lambda x: gelu(x, approximate="tanh"), composed_gelu_tanh):
        x = leaf(*shape, seed=21, scale=3.0)
        out = fn(x)
        out.backward(upstream)
        outs.append(out.data)
        grads.append(x.grad.data)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: gelu(x, approximate="tanh"), leaf(2, 5, seed=22, scale=2.0))


def test_gelu_erf_gradient_is_accurate_to_float64():
    # d/dx x Phi(x) = Phi(x) + x phi(x), from math.erfc (keeps its accuracy for x << 0)
    x = np.linspace(-12.0, 12.0, 2401)
    t = leaf(2401)
    t.data[...] = x
    gelu(t).backward(np.ones_like(x))
    phi = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    Phi = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    np.testing.assert_allclose(t.grad.data, Phi + x * phi, rtol=0, atol=1e-15)


def test_mlp_gradcheck():
    mlp = MLP(4, bias=True).double()
    assert gradcheck(lambda a, *ps: mlp(a), leaf(2, 3, 4, seed=23), *mlp.parameters())


def test_transformer_block_gradcheck_through_its_layernorms():
    block = TransformerBlock(4, 2, bias=True).double()
    for p in block.parameters():  # move LayerNorm off its (1, 0) init so its grads matter
        p.data += np.random.default_rng(7).standard_normal(p.shape) * 0.1
    assert gradcheck(lambda a, *ps: block(a), leaf(1, 3, 4, seed=8), *block.parameters())


def test_gpt_loss_gradcheck_on_a_tiny_config():
    model = GPT(GPTConfig(block_size=4, vocab_size=5, n_layer=1, n_head=2, n_embd=4,
                          bias=True)).double()
    for p in model.parameters():  # GPT-2 init is tiny (0.02): make every path visible
        p.data[...] = np.random.default_rng(9).standard_normal(p.shape) * 0.5
    x = np.array([[0, 3, 3, 1], [4, 2, 0, 0]])
    y = np.array([[3, 3, 1, 2], [2, 0, 0, 1]])

    def loss(*params):
        return cross_entropy(model(x).reshape(8, 5), y.reshape(8))   # (B*T, V) logits

    assert gradcheck(loss, *model.parameters())
    # weight tying: the head's and the lookup's gradients land in the one shared .grad
    model.zero_grad()
    loss().backward()
    assert model.lm_head.weight.grad is model.wte.weight.grad

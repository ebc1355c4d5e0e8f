"""Gradients of tt_transformers (tt-autograd comes from the `test` extra; tt-networks, which
tt-autograd depends on, gives the cross-entropy of the GPT loss)."""

import numpy as np
from tt_activations import gelu
from tt_autograd import gradcheck
from tt_networks import cross_entropy
from tt_tensor import float64, tensor

from tt_transformers import GPT, MLP, GPTConfig, TransformerBlock, fused_gelu


def leaf(*shape, seed=0, scale=1.0):
    data = np.random.default_rng(seed).standard_normal(shape) * scale
    return tensor(data, dtype=float64, requires_grad=True)


def test_fused_gelu_gradient_equals_the_composed_one():
    upstream = np.random.default_rng(20).standard_normal((3, 4, 7))
    grads = []
    for fn in (fused_gelu, lambda x: gelu(x, approximate="tanh")):
        x = leaf(3, 4, 7, seed=21, scale=3.0)
        fn(x).backward(upstream)
        grads.append(x.grad.data)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    assert gradcheck(fused_gelu, leaf(2, 5, seed=22, scale=2.0))


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
    assert model.lm_head.weight.grad is model.wte.grad

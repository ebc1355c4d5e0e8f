# %% [markdown]
# # 14 transformers: the block and the GPT
#
# **What you build.** `TransformerBlock` (pre-norm: `x + attn(ln(x))`, then `x + mlp(ln(x))`)
# and `GPT`: token and position embeddings, `n_layer` blocks, a final norm and the head.
# Details: [tt-transformers' README](../packages/tt-transformers/README.md).
#
# **The math.** Parameters per block `≈ 12·d²` (attention `4·d²`, MLP `8·d²`); the loss is the
# cross-entropy of the next character at every position.
#
# **The cost.** A forward pass is about `2·P` flops per token plus the attention's `T²` term.

# %%
import numpy as np
import tt_tensor as tt
import tt_transformers as TF

config = TF.GPTConfig(block_size=16, vocab_size=20, n_layer=2, n_head=2, n_embd=32)
model = TF.GPT(config)
count = sum(p.numel() for p in model.parameters())
count, 12 * config.n_layer * config.n_embd ** 2

# %%
idx = tt.tensor(np.random.default_rng(0).integers(0, 20, size=(2, 16)))
out = model(idx)
logits = out[0] if isinstance(out, tuple) else out
logits.shape

# %% [markdown]
# At initialisation no character is preferred: on random targets the loss is close to
# `log(vocab)`.

# %%
import tt_networks as N

targets = tt.tensor(np.random.default_rng(1).integers(0, 20, size=32))
loss = N.cross_entropy(logits.reshape(-1, 20), targets)
float(loss.item()), float(np.log(20))

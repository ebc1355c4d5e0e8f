# %% [markdown]
# # 13 attention: scaled dot-product and multi-head attention
#
# **What you build.** `scaled_dot_product_attention` (with masks and the causal flag),
# `MultiHeadAttention`, the KV cache. Details:
# [tt-attention's README](../packages/tt-attention/README.md).
#
# **The math.** `Attention(Q, K, V) = softmax(Q Kᵀ / sqrt(d) + mask) V`; the causal mask puts
# `-inf` above the diagonal so a position sees only itself and the past.
#
# **The cost.** `4·T²·d` flops and a `T×T` weight matrix per head: quadratic in the sequence
# length.

# %%
import numpy as np
import tt_attention as A
import tt_tensor as tt

rng = np.random.default_rng(0)
q, k, v = (tt.tensor(rng.standard_normal((1, 5, 8))) for _ in range(3))
out = A.scaled_dot_product_attention(q, k, v, is_causal=True)
scores = q.numpy()[0] @ k.numpy()[0].T / np.sqrt(8)
scores[np.triu_indices(5, 1)] = -np.inf
weights = np.exp(scores - scores.max(-1, keepdims=True))
weights /= weights.sum(-1, keepdims=True)
np.abs(out.numpy()[0] - weights @ v.numpy()[0]).max()

# %% [markdown]
# The causal attention weights: lower triangular, each row sums to 1.

# %%
if HAVE_MATPLOTLIB:
    plt.imshow(weights, cmap="viridis")
    plt.xlabel("key position")
    plt.ylabel("query position")
    plt.colorbar()
    plt.show()
else:
    print(weights.round(2))

# %%
mha = A.MultiHeadAttention(embed_dim=8, num_heads=2, causal=True)
x = tt.randn(2, 5, 8)
mha(x).shape, sum(p.numel() for p in mha.parameters())

# %% [markdown]
# # 15 generation: sampling text
#
# **What you build.** `generate` with temperature, top-k and top-p, and the KV cache that
# makes each new token cost one position instead of the whole prefix. Details:
# [tt-generation's README](../packages/tt-generation/README.md).
#
# **The math.** `p = softmax(logits / temperature)`; top-k keeps the `k` largest logits,
# top-p the smallest set whose probability reaches `p`; both keep ties with the last token
# kept; the rest get `-inf`.
#
# **The cost.** Without a cache, token `t` recomputes all `t` positions (`O(T²)` in total);
# with it, one position per token.

# %%
import numpy as np
import tt_generation as G
import tt_tensor as tt
import tt_transformers as TF

logits = np.array([[2.0, 1.0, 0.5, -1.0]])  # the filters work on the last step's logits
G.top_k_filter(logits, 2), G.top_p_filter(logits, 0.8)

# %% [markdown]
# Temperature reshapes the distribution: low is greedy, high is uniform.

# %%
z = np.array([2.0, 1.0, 0.5, -1.0])
for temperature in (0.25, 1.0, 4.0):
    p = np.exp(z / temperature) / np.exp(z / temperature).sum()
    print(f"T={temperature:<5} " + " ".join(f"{v:.3f}" for v in p))

# %% [markdown]
# An untrained GPT writes noise, but the cached and uncached paths write the same noise:

# %%
tt_setup.seed_everything(0)
model = TF.GPT(TF.GPTConfig(block_size=16, vocab_size=20, n_layer=1, n_head=2, n_embd=16))
model.eval()
start = tt.tensor([[1, 2, 3]])
cached = G.generate(model, start, 10, seed=0, use_cache=True)
plain = G.generate(model, start, 10, seed=0, use_cache=False)
cached.numpy().tolist(), bool((cached.numpy() == plain.numpy()).all())

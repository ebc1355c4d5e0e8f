# %% [markdown]
# # 16 regularization: dropout, weight decay, label smoothing
#
# **What you build.** `Dropout` (inverted: scaled by `1/(1-p)` in training, the identity in
# evaluation), the weight-decay parameter groups and label-smoothed cross-entropy. Details:
# [tt-regularization's README](../packages/tt-regularization/README.md).
#
# **The math.** Inverted dropout keeps the expectation: `E[mask·x/(1-p)] = x`. Label smoothing
# trains on `(1-ε)·onehot + ε/C`.
#
# **The cost.** A mask of the input's size per dropout layer, kept for backward.

# %%
import numpy as np
import tt_regularization as R
import tt_tensor as tt

drop = R.Dropout(p=0.25, generator=np.random.default_rng(0))
x = tt.ones(100_000)
y = drop(x).numpy()
float((y == 0).mean()), float(y.mean()), sorted(set(np.unique(y).round(4)))

# %%
drop.eval()
bool((drop(x).numpy() == 1).all())

# %% [markdown]
# Label smoothing against its formula:

# %%
logits = tt.tensor(np.random.default_rng(1).standard_normal((4, 5)))
target = tt.tensor([0, 3, 1, 4])
z = logits.numpy()
log_p = z - z.max(-1, keepdims=True)
log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
smooth = np.full((4, 5), 0.1 / 5)
smooth[np.arange(4), target.numpy()] += 0.9
expected = -(smooth * log_p).sum(-1).mean()
float(R.label_smoothing_cross_entropy(logits, target, smoothing=0.1).item()), float(expected)

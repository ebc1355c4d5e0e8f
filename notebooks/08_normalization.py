# %% [markdown]
# # 08 normalization: BatchNorm and LayerNorm
#
# **What you build.** `BatchNorm1d`, `BatchNorm2d` (batch statistics in training, running
# averages in evaluation) and `LayerNorm`. Details:
# [tt-normalization's README](../packages/tt-normalization/README.md).
#
# **The math.** `y = (x - mean) / sqrt(var + eps) · γ + β`; BatchNorm takes mean and (biased)
# variance over the batch, LayerNorm over the last dimensions of each sample.
#
# **The cost.** Two reductions and a few elementwise passes; BatchNorm keeps 2 running
# buffers per feature.

# %%
import numpy as np
import tt_normalization as Nm
import tt_tensor as tt

x = tt.tensor(np.random.default_rng(0).normal(5.0, 3.0, size=(64, 4)))
bn = Nm.BatchNorm1d(4)
y = bn(x).numpy()
y.mean(axis=0).round(6), y.std(axis=0).round(3)

# %%
ln = Nm.LayerNorm(4)
z = ln(x).numpy()
expected = (x.numpy() - x.numpy().mean(-1, keepdims=True)) / np.sqrt(
    x.numpy().var(-1, keepdims=True) + 1e-5)
np.abs(z - expected).max()

# %% [markdown]
# In evaluation mode BatchNorm uses its running averages, which moved 10% towards the batch:

# %%
bn.eval()
bn.running_mean.numpy().round(3), x.numpy().mean(axis=0).round(3)

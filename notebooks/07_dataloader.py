# %% [markdown]
# # 07 dataloader: datasets, batches, transforms
#
# **What you build.** `Dataset`, `TensorDataset`, `DataLoader` (batching, shuffling with a
# seed, `drop_last`), transforms and the CIFAR-10 and text datasets. Details:
# [tt-dataloader's README](../packages/tt-dataloader/README.md).
#
# **The math.** An epoch of `N` samples in batches of `B` has `ceil(N / B)` batches
# (`floor` with `drop_last`); shuffling is a permutation drawn once per epoch.
#
# **The cost.** Collating copies each batch once; the dataset itself stays in memory.

# %%
import numpy as np
import tt_dataloader as D
import tt_tensor as tt

features = tt.tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
labels = tt.tensor(np.arange(10))
loader = D.DataLoader(D.TensorDataset(features, labels), batch_size=4, shuffle=True, seed=0)
[(xb.shape, yb.numpy().tolist()) for xb, yb in loader]

# %% [markdown]
# Every sample appears once per epoch, and `drop_last` drops the short batch:

# %%
seen = sorted(int(i) for _, yb in loader for i in yb.numpy())
dropped = D.DataLoader(D.TensorDataset(features, labels), batch_size=4, drop_last=True)
seen == list(range(10)), len(loader), len(dropped)

# %% [markdown]
# # 02 tensor: an array plus a record of the ops that made it
#
# **What you build.** The Tensor's core, with NumPy doing the arithmetic: what a tensor
# stores and the dtype of results, the graph node an op records while grad mode is on, the
# broadcast rule, the axes of a reduction, matmul's shape rules, and views versus copies
# (`reshape`, `permute`, indexing, sliding windows). The tasks, contract, dtype rules and the
# list of primitives: [tt-tensor's README](../packages/tt-tensor/README.md).
#
# **The math.** Broadcasting aligns shapes from the right: each pair of sizes is equal or
# contains a 1, so `(4, 1, 3) + (2, 3)` is `(4, 2, 3)`. A matmul of `(m, k) @ (k, n)` costs
# `2·m·k·n` floating-point operations.
#
# **The cost.** Each op pays a few microseconds of Python around one NumPy call; views
# (`reshape`, `permute`, slicing) cost no copy, arithmetic allocates its result.

# %%
import numpy as np
import tt_tensor as tt

a = tt.ones(4, 1, 3)
b = tt.ones(2, 3)
(a + b).shape

# %% [markdown]
# A view shares memory with its source; an arithmetic result does not.

# %%
x = tt.arange(6).reshape(2, 3)
view = x.T
np.shares_memory(x.data, view.data), np.shares_memory(x.data, (x + 1).data)

# %% [markdown]
# ## The recorded graph
#
# Ops on tensors that require a gradient record a `Node`: `draw_graph` shows it. Boxes are
# tensors (shape, dtype), ellipses are ops. With Graphviz installed you see a picture,
# otherwise its DOT text.

# %%
a = tt.randn(3, requires_grad=True)
b = tt.randn(3, requires_grad=True)
c = tt.randn(3, requires_grad=True)
y = (a * b + c).sum()
tt.draw_graph(y, params={"a": a, "b": b, "c": c})

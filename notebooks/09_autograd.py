# %% [markdown]
# # 09 autograd: reverse-mode differentiation
#
# **What you build.** The engine behind `loss.backward()`: a topological order of the
# recorded graph and the gradient rule of each primitive, plus `gradcheck`. Details:
# [tt-autograd's README](../packages/tt-autograd/README.md).
#
# **The math.** The chain rule, run backwards: each node receives `dL/d(output)` and sends
# `dL/d(input) = rule(inputs, dL/d(output))`; broadcast inputs sum their gradient back to
# their shape (`unbroadcast`).
#
# **The cost.** About one forward pass of work for all `P` gradients at once, against `2·P`
# forward passes for numerical gradients; the graph keeps every intermediate alive until then.

# %%
import numpy as np
import tt_autograd as ag
import tt_tensor as tt

a = tt.randn(3, requires_grad=True)
b = tt.randn(3, requires_grad=True)
c = tt.randn(3, requires_grad=True)
loss = (a * b + c).sum()
graph = tt.draw_graph(loss, params={"a": a, "b": b, "c": c})
loss.backward()
graph  # drawn before backward, shown after: every leaf carries its gradient's norm

# %% [markdown]
# The gradients against the math: `d/da sum(a·b + c) = b`, `d/db = a`, `d/dc = 1`.

# %%
(np.abs(a.grad.numpy() - b.numpy()).max(), np.abs(b.grad.numpy() - a.numpy()).max(),
 np.abs(c.grad.numpy() - 1.0).max())

# %% [markdown]
# `gradcheck` compares backprop with central differences, in float64:

# %%
x = tt.randn(4, 3, dtype=tt.float64, requires_grad=True)
w = tt.randn(3, 2, dtype=tt.float64, requires_grad=True)
ag.gradcheck(lambda x, w: (x @ w).tanh().sum(), x, w)

# %% [markdown]
# The order in which the engine visits the recorded tensors (the output first):

# %%
y = (x @ w).tanh().sum()
[t.grad_fn.name for t in ag.topological_order(y) if t.grad_fn is not None]

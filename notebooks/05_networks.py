# %% [markdown]
# # 05 networks: Sequential, losses, and learning without autograd
#
# **What you build.** `Sequential`, the `mlp` builder, the losses (`mse_loss`,
# `cross_entropy`, the BCE pair) and `numerical_gradient`, which trains XORNet before any
# autograd exists. Details: [tt-networks' README](../packages/tt-networks/README.md).
#
# **The math.** Central differences: `df/dθ ≈ (f(θ + ε) - f(θ - ε)) / 2ε`, error `O(ε²)`.
# Cross-entropy: `-log softmax(z)_y`, averaged over the batch.
#
# **The cost.** A numerical gradient needs two forward passes per parameter: `2·P` passes for
# `P` parameters, which is why module 09 (backprop, about one pass) exists.

# %%
import numpy as np
import tt_layers
import tt_networks as N
import tt_tensor as tt

tt_setup.seed_everything(0)
model = N.mlp([2, 4, 1], activation=tt_layers.Tanh)  # XORNet: Linear(2, 4), tanh, Linear(4, 1)
x = tt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = tt.tensor([[0.0], [1.0], [1.0], [0.0]])
loss = N.binary_cross_entropy_with_logits(model(x), y)
float(loss.item())

# %% [markdown]
# The graph of a two-layer MLP's loss, with the parameters named:

# %%
tt.draw_graph(loss, params=dict(model.named_parameters()))

# %% [markdown]
# XOR by numerical gradients and plain gradient descent (XORNet's settings: lr 1.0):

# %%
params = list(model.parameters())
losses = []
for step in range(300):
    loss_fn = lambda: N.binary_cross_entropy_with_logits(model(x), y)
    grads = N.numerical_gradient(loss_fn, params)
    for p, g in zip(params, grads):
        p.data -= 1.0 * np.asarray(getattr(g, "data", g))
    losses.append(float(loss_fn().item()))
if HAVE_MATPLOTLIB:
    plt.plot(losses)
    plt.xlabel("step")
    plt.ylabel("binary cross-entropy")
    plt.show()
else:
    print("loss every 50 steps:", [f"{v:.4f}" for v in losses[::50]], f"last {losses[-1]:.4f}")
(model(x).numpy() > 0).astype(int).ravel(), y.numpy().ravel()  # predictions, targets

# %% [markdown]
# # 10 optimizers: SGD, Adam, AdamW, schedules, clipping
#
# **What you build.** The update rules of `SGD` (momentum, Nesterov, weight decay), `Adam`,
# `AdamW`, the learning-rate schedulers and `clip_grad_norm_`. Details:
# [tt-optimizers' README](../packages/tt-optimizers/README.md).
#
# **The math.** Adam: `m ← β1·m + (1-β1)·g`, `v ← β2·v + (1-β2)·g²`,
# `θ ← θ - lr · m̂ / (sqrt(v̂) + ε)` with the bias corrections `m̂ = m / (1-β1^t)`,
# `v̂ = v / (1-β2^t)`.
#
# **The cost.** SGD with momentum keeps one extra copy of the parameters, Adam two: state
# memory is `k·P·4` bytes for `P` float32 parameters.

# %%
import numpy as np
import tt_optimizers as O
import tt_tensor as tt

def descend(make_optimizer, steps=100):
    """Minimise the badly scaled bowl f(x, y) = x² + 25·y²; the loss at each step."""
    point = tt.tensor([2.0, 1.0], requires_grad=True)
    optimizer = make_optimizer([point])
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (point * point * tt.tensor([1.0, 25.0])).sum()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses

runs = {"SGD lr=0.03": descend(lambda p: O.SGD(p, lr=0.03)),
        "SGD momentum": descend(lambda p: O.SGD(p, lr=0.03, momentum=0.9)),
        "Adam lr=0.1": descend(lambda p: O.Adam(p, lr=0.1))}
if HAVE_MATPLOTLIB:
    for name, losses in runs.items():
        plt.semilogy(losses, label=name)
    plt.legend()
    plt.xlabel("step")
    plt.show()
else:
    for name, losses in runs.items():
        print(f"{name:<14}", [f"{v:.2e}" for v in losses[::20]])

# %% [markdown]
# A cosine schedule, read back from the optimizer:

# %%
param = tt.zeros(1, requires_grad=True)
optimizer = O.SGD([param], lr=1.0)
schedule = O.CosineAnnealingLR(optimizer, T_max=10)
rates = []
for _ in range(11):
    rates.append(optimizer.param_groups[0]["lr"])
    optimizer.step()
    schedule.step()
expected = [0.5 * (1 + np.cos(np.pi * t / 10)) for t in range(11)]
np.abs(np.array(rates) - expected).max()

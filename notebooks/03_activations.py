# %% [markdown]
# # 03 activations: the nonlinearities
#
# **What you build.** `relu`, `sigmoid`, `tanh`, `gelu`, `softmax` and `log_softmax`, composed
# from tt-tensor's primitives so that they need no gradient code of their own. Numerical
# stability is the lesson: see [tt-activations' README](../packages/tt-activations/README.md).
#
# **The math.** `sigmoid(x) = 1 / (1 + exp(-x))`,
# `softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x)` (subtracting the max changes
# nothing mathematically and keeps `exp` from overflowing),
# `gelu(x) = x · Φ(x)` with Φ the normal CDF.
#
# **The cost.** Elementwise: one pass over the data per primitive used, so `gelu` (several
# primitives) costs several times `relu` (one `maximum`).

# %%
import numpy as np
import tt_activations as F
import tt_tensor as tt

xs = np.linspace(-4, 4, 81)
x = tt.tensor(xs)
curves = {name: getattr(F, name)(x).numpy() for name in ("relu", "sigmoid", "tanh", "gelu")}
if HAVE_MATPLOTLIB:
    for name, ys in curves.items():
        plt.plot(xs, ys, label=name)
    plt.legend()
    plt.grid(True)
    plt.show()
else:
    for i in range(0, 81, 10):
        print(f"x={xs[i]:5.1f}  " + "  ".join(f"{n}={v[i]:7.3f}" for n, v in curves.items()))

# %% [markdown]
# Softmax is stable for huge logits because of the max subtraction:

# %%
logits = tt.tensor([[1000.0, 1001.0, 1002.0]])
probs = F.softmax(logits, -1).numpy()
probs, probs.sum()

# %% [markdown]
# Compare with the formula in NumPy (this is what the contract tests do, on many shapes):

# %%
z = np.array([0.5, -1.0, 2.0])
expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
np.abs(F.softmax(tt.tensor(z), -1).numpy() - expected).max()

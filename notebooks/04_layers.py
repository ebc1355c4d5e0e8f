# %% [markdown]
# # 04 layers: Module, Parameter, Linear
#
# **What you build.** `Module` (the registry of parameters, buffers and submodules behind
# `parameters()`, `state_dict()`, `train()`/`eval()`), `Parameter`, `Linear` and the
# initialisers. Details: [tt-layers' README](../packages/tt-layers/README.md).
#
# **The math.** `Linear(in, out)` computes `y = x @ W.T + b`, with `W` of shape `(out, in)`,
# initialised uniformly in `±1/sqrt(in)` (PyTorch's default): the output's variance does not
# grow with the width `in`, and is `1/3` of the input's (a uniform's variance is `bound²/3`).
#
# **The cost.** `in·out + out` parameters, `2·batch·in·out` flops forward.

# %%
import numpy as np
import tt_layers as nn
import tt_tensor as tt

layer = nn.Linear(3, 2)
[(name, p.shape) for name, p in layer.named_parameters()]

# %%
x = tt.randn(4, 3)
expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
np.abs(layer(x).numpy() - expected).max()

# %% [markdown]
# Why the initialiser's scale matters: through a stack of layers (no activation) the spread
# shrinks by `1/sqrt(3) ≈ 0.577` per layer, the reason for the gains of `kaiming_uniform_`.

# %%
widths = [256] * 6
x = tt.randn(512, 256)
spread = []
for _ in widths:
    x = nn.Linear(256, 256)(x)
    spread.append(float(x.numpy().std()))
if HAVE_MATPLOTLIB:
    plt.plot(range(1, len(spread) + 1), spread, marker="o")
    plt.xlabel("layer")
    plt.ylabel("std of the output")
    plt.show()
else:
    print("std of the output, layer by layer:", [f"{s:.3f}" for s in spread])

# %%
tt.draw_graph(layer(tt.randn(4, 3)).sum(), params=dict(layer.named_parameters()))

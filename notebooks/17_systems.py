# %% [markdown]
# # 17 systems: profile, measure, quantize, export, serve
#
# **What you build.** The profiler (op and module times through op hooks), flop and memory
# counts, int8 dynamic quantization, checkpoint export and the HTTP server. Details:
# [tt-systems' README](../packages/tt-systems/README.md).
#
# **The math.** int8 per-channel quantization: `scale = max|w_row| / 127`,
# `q = round(w / scale)`; the error of one weight is at most `scale / 2`.
#
# **The cost.** int8 weights take a quarter of float32's bytes; the profiler adds a hook call
# per op.

# %%
import numpy as np
import tt_networks as N
import tt_systems as S
import tt_tensor as tt

tt_setup.seed_everything(0)
model = N.mlp([64, 128, 10])
with S.Profiler(model) as profiler:
    model(tt.randn(32, 64))
print(profiler.table(top=5))
# the matmul flops against 2·B·in·out for each layer
matmul = next(record for record in profiler.records if record.name == "matmul")
matmul.flops, 2 * 32 * 64 * 128 + 2 * 32 * 128 * 10

# %% [markdown]
# Bytes of the parameters and of the optimizer's state:

# %%
params = S.parameter_bytes(model)
params, 4 * (64 * 128 + 128 + 128 * 10 + 10), S.optimizer_state_bytes(params, "adam")

# %% [markdown]
# Quantized to int8, the model is about four times smaller and nearly as accurate:

# %%
small = S.quantize_dynamic(model)
x = tt.randn(8, 64)
S.model_size_bytes(model), S.model_size_bytes(small), float(
    np.abs(small(x).numpy() - model(x).numpy()).max())

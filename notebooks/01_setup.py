# %% [markdown]
# # 01 setup: know your machine and your stack
#
# **What you build.** Nothing heavy: the environment report behind `tinytorch doctor`, the
# seeding that makes every later run repeatable, and the report of which modules are the
# reference and which are your own. The contract and the details are in
# [tt-setup's README](../packages/tt-setup/README.md).
#
# **The math.** None yet; one fact matters for the whole course: NumPy's speed comes from its
# BLAS library, so the same code can be 10x faster or slower on another machine.
#
# **The cost.** A report is a few file reads: microseconds.

# %%
system_info = tt_setup.system_info()
{key: system_info[key] for key in list(system_info)[:6]}

# %% [markdown]
# Seeding makes random draws repeat: the same seed gives the same numbers.

# %%
import numpy as np

tt_setup.seed_everything(0)
first = np.random.rand(3)
tt_setup.seed_everything(0)
second = np.random.rand(3)
first, second, bool((first == second).all())

# %% [markdown]
# Every module of the course, and whether this kernel imports the reference or your own:

# %%
for record in tt_setup.module_report():
    print(f"{record.number:02d} {record.distribution:<18} {record.version:<12} {record.kind}")

# %% [markdown]
# # 11 training: the Trainer
#
# **What you build.** `Trainer`: the fit and evaluate loops, metrics, checkpoint and resume,
# early stopping, gradient clipping. Details:
# [tt-training's README](../packages/tt-training/README.md).
#
# **The math.** One epoch = one pass over the training loader: forward, loss, backward, step,
# then the mean of the loss over the validation loader.
#
# **The cost.** A checkpoint is the parameters plus the optimizer state (`3·P·4` bytes with
# Adam); it is written to a temporary name and renamed, so an interrupted save loses nothing.

# %%
import numpy as np
import tt_dataloader as D
import tt_networks as N
import tt_optimizers as O
import tt_tensor as tt
import tt_training as T

rng = np.random.default_rng(0)
points = rng.normal(size=(256, 2)).astype(np.float32)
classes = (points[:, 0] * points[:, 1] > 0).astype(np.int64)  # XOR of the signs
train = D.DataLoader(D.TensorDataset(tt.tensor(points[:192]), tt.tensor(classes[:192])),
                     batch_size=32, shuffle=True, seed=0)
val = D.DataLoader(D.TensorDataset(tt.tensor(points[192:]), tt.tensor(classes[192:])),
                   batch_size=64)
tt_setup.seed_everything(0)
model = N.mlp([2, 32, 2])
trainer = T.Trainer(model, O.Adam(model.parameters(), lr=0.03), N.cross_entropy, train, val,
                    config=T.TrainerConfig(epochs=15, progress=False))
history = trainer.fit()
history

# %% [markdown]
# Accuracy on the held-out points after training:

# %%
with tt.no_grad():
    predicted = model(tt.tensor(points[192:])).numpy().argmax(-1)
float((predicted == classes[192:]).mean())

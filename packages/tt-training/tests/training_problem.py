"""The small classification problem (and a fresh Trainer on it) the Trainer contract tests train on (test_trainer.py and
test_steps_and_monitoring.py). The folder is put on sys.path by conftest.py (for pytest's
importlib mode)."""

import numpy as np
from tt_dataloader import DataLoader, TensorDataset
from tt_layers import Linear, ReLU
from tt_networks import Sequential, cross_entropy
from tt_optimizers import Adam, StepLR
from tt_setup import seed_everything
from tt_training import Trainer, TrainerConfig


def make_data(n=96, features=6, classes=3, seed=0):
    """A small separable problem: the class is the argmax of a fixed projection."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((features, classes)), axis=1).astype(np.int64)
    return x, y


def make_trainer(tmp_path=None, n_train=64, step_size=2, loss_fn=cross_entropy, optimizer=Adam,
                 lr=0.05, **config):
    """A fresh model/optimizer/scheduler/loader, all seeded the same way every call: the first
    n_train samples in batches of 16, validation on the last 32; `config` goes to
    TrainerConfig (progress off, checkpoints in tmp_path when given)."""
    seed_everything(0)
    x, y = make_data()
    model = Sequential(Linear(6, 16), ReLU(), Linear(16, 3))
    opt = optimizer(model.parameters(), lr=lr)
    scheduler = StepLR(opt, step_size=step_size, gamma=0.5)
    train = DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=16, shuffle=True,
                       seed=7)
    val = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=32)
    config = TrainerConfig(progress=False, **config,
                           checkpoint_dir=None if tmp_path is None else str(tmp_path))
    return Trainer(model, opt, loss_fn, train, val, scheduler, config=config)

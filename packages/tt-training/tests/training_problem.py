"""The small classification problem the Trainer contract tests train on (test_trainer.py and
test_steps_and_monitoring.py). The folder is put on sys.path by conftest.py (for pytest's
importlib mode)."""

import numpy as np


def make_data(n=96, features=6, classes=3, seed=0):
    """A small separable problem: the class is the argmax of a fixed projection."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((features, classes)), axis=1).astype(np.int64)
    return x, y

"""Sample arrays for the gradchecks of test_primitive_gradients.py and test_composed_gradients.py.

Each test file makes its own `Samples(seed)`, so its arrays do not depend on which file pytest
imports first. The folder is put on sys.path by conftest.py (for pytest's importlib mode).
"""

import numpy as np


class Samples:
    """float64 sample arrays drawn from one seeded generator (`rng`)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def r(self, *shape):
        """Standard normal samples."""
        return self.rng.standard_normal(shape)

    def pos(self, *shape):
        """Samples in [0.5, 2]: safe for log, division and real powers."""
        return self.rng.uniform(0.5, 2.0, shape)

    def distinct(self, *shape, offset=0.0):
        """Multiples of 0.2 (+ offset) in random order: no ties, arrays with offsets 0 and 0.1
        never tie, and offset 0.1 has no zeros."""
        n = int(np.prod(shape, dtype=np.int64))
        return ((self.rng.permutation(n) - n // 2) * 0.2 + offset).reshape(shape)

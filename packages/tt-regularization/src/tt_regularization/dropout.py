"""Dropout (Srivastava et al. 2014): zero each activation with probability p while training.

Inverted dropout scales the survivors by 1 / (1 - p) during training, so the expected value of
every activation is unchanged and evaluation is the identity: nothing to rescale at test time.
"""

import numpy as np
from tt_layers import Module
from tt_tensor import as_tensor, from_numpy


def _check_p(owner, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: dropout probability must be in [0, 1], got {p!r}")
    return float(p)


def _generator(generator):
    """The given Generator, or one seeded from NumPy's global RNG (seed_everything)."""
    if generator is not None:
        return generator
    return np.random.default_rng(int(np.random.randint(0, 2**32, dtype=np.int64)))


def dropout(input, p=0.5, training=True, generator=None):
    """x * mask / (1 - p) with mask ~ Bernoulli(1 - p) per element; x itself when not training.

    Recorded as ONE mul, x on the left: return x * from_numpy(scaled) where scaled is an array
    of x's dtype holding 0 or 1 / (1 - p) (the scale folded into the mask), so the gradient is
    that same array. Draw the uniforms from `rng` (a NumPy Generator), one per element of x.
    p = 1 drops everything (the output is all zeros, no division by zero).
    """
    p = _check_p("dropout", p)
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    rng = _generator(generator)
    ### BEGIN SOLUTION
    keep = rng.random(x.shape, dtype=np.float32) >= p          # True with probability 1 - p
    mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))  # 0 or 1 / (1 - p)
    return x * from_numpy(mask)  # one mul: its gradient is the same mask
    ### END SOLUTION


class Dropout(Module):
    """Randomly zero elements with probability p in training mode; identity in eval mode.

    generator: a np.random.Generator for the masks (default: one seeded from NumPy's global
    RNG when the layer is made, so seed_everything makes runs repeatable).
    """

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        self.p = _check_p("Dropout", p)
        self.generator = _generator(generator)

    def forward(self, input):
        return dropout(input, self.p, self.training, self.generator)

    def extra_repr(self):
        return f"p={self.p}"

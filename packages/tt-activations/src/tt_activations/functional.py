"""The activation functions, each a composition of tt_tensor primitives.

Nothing here knows about gradients: because every line is a primitive (add, mul, div, exp, log,
tanh, where, max, sum, ...), tt-autograd differentiates these functions with no extra code.
The one exception is erf inside gelu, an op with its derivative beside it (fused.py).
Each one is written so that no intermediate overflows, even at |x| = 1000.
"""

import math

from tt_tensor import as_tensor, exp, log, tanh as _tanh, where

from .fused import Erf, GELUTanh, fast_paths_enabled

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_APPROXIMATIONS = ("none", "tanh")


def relu(x):
    """relu(x) = max(x, 0), elementwise."""
    x = as_tensor(x)
    ### BEGIN SOLUTION
    # times a 0/1 mask: the gradient at exactly 0 is 0, as in PyTorch, and one multiply is
    # cheaper than where() both forward and backward
    return x * (x.data > 0)
    ### END SOLUTION


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), elementwise.

    Stable form with z = exp(-|x|) in (0, 1]: 1 / (1 + z) for x >= 0, z / (1 + z) for x < 0.
    """
    x = as_tensor(x)
    ### BEGIN SOLUTION
    # z = exp(-|x|), never overflows; -|x| taken on the same branch as the where below, so
    # the gradient at 0 is sigmoid'(0) = 1/4 (x.abs() has gradient 0 at 0, as in PyTorch)
    z = exp(where(x.data >= 0, -x, x))
    return where(x.data >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    ### END SOLUTION


def tanh(x):
    """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), elementwise (a tt_tensor primitive)."""
    x = as_tensor(x)
    ### BEGIN SOLUTION
    return _tanh(x)
    ### END SOLUTION


def gelu(x, approximate="none"):
    """gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), elementwise.

    approximate="none" (PyTorch's default) uses erf, an op of this package accurate to float64
    (fused.py); approximate="tanh" is 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    """
    if approximate not in _GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {_GELU_APPROXIMATIONS}, "
                         f"got {approximate!r}")
    x = as_tensor(x)
    if approximate == "tanh" and fast_paths_enabled():
        # fast path (README): the same function as one op, with or without a graph (decoding
        # one token calls gelu once per block on a (1, 4C) row: one op instead of nine)
        return GELUTanh.apply(x)
    ### BEGIN SOLUTION
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1.0 + _tanh(inner))
    return 0.5 * x * (1.0 + Erf.apply(x * (1.0 / math.sqrt(2.0))))
    ### END SOLUTION


def _check_axis(name, x, axis):
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for a tensor of shape {x.shape}")


def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) along `axis`, m = max_j x_j.

    Subtracting the max changes nothing mathematically and keeps every exp in (0, 1].
    """
    x = as_tensor(x)
    _check_axis("softmax", x, axis)
    ### BEGIN SOLUTION
    # the shift is a constant (softmax is shift-invariant), so it is detached from the graph
    shifted = x - x.detach().max(axis, keepdims=True)
    e = exp(shifted)
    return e / e.sum(axis, keepdims=True)
    ### END SOLUTION


def log_softmax(x, axis=-1):
    """log_softmax(x)_i = (x_i - m) - log sum_j exp(x_j - m) along `axis`, m = max_j x_j.

    Never takes the log of a softmax that underflowed to 0: the sum is >= 1.
    """
    x = as_tensor(x)
    _check_axis("log_softmax", x, axis)
    ### BEGIN SOLUTION
    shifted = x - x.detach().max(axis, keepdims=True)
    return shifted - log(exp(shifted).sum(axis, keepdims=True))
    ### END SOLUTION

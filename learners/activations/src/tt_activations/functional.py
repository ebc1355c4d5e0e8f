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
    # (x + |x|) / 2: x where x > 0, else exactly 0; |x| taken as -x at 0, so that the
    # gradient there is 0 as in PyTorch (x.abs() has gradient 0 at 0, which would give 1/2)
    return (x + where(x.data > 0, x, -x)) * 0.5
    ### END SOLUTION


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), elementwise.

    Stable form with z = exp(-|x|) in (0, 1]: 1 / (1 + z) for x >= 0, z / (1 + z) for x < 0.
    """
    x = as_tensor(x)
    ### BEGIN SOLUTION
    # through the log domain: sigmoid(x) = exp(-softplus(-x)), and softplus never overflows
    return exp(-_softplus(-x))
    ### END SOLUTION


def tanh(x):
    """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), elementwise (a tt_tensor primitive)."""
    x = as_tensor(x)
    ### BEGIN SOLUTION
    # odd function: tanh(|x|) = (1 - e) / (1 + e) with e = exp(-2|x|) in (0, 1]
    e = exp(-2.0 * where(x.data >= 0, x, -x))  # |x| on the branch of the where below
    magnitude = (1.0 - e) / (1.0 + e)
    return where(x.data < 0, -magnitude, magnitude)
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
        u = _SQRT_2_OVER_PI * x * (1.0 + 0.044715 * x * x)
        return x * (0.5 + 0.5 * tanh(u))
    # Phi(x) = (1 + erf(x / sqrt 2)) / 2, with the package's float64-accurate erf op
    phi = 0.5 + 0.5 * Erf.apply(x * (1.0 / math.sqrt(2.0)))
    return x * phi
    ### END SOLUTION


def _softplus(z):
    """log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)): no overflow for any z."""
    return (z + z.abs()) * 0.5 + log(1.0 + exp(-z.abs()))


def _normalizer(x, axis):
    """(x - m, exp(x - m), sum_j exp(x_j - m)) along `axis`, m the detached max: the pieces
    softmax (terms / total) and log_softmax (shifted - log total) are made of."""
    shifted = x - x.detach().max(axis, keepdims=True)
    terms = exp(shifted)  # in (0, 1]: no overflow
    return shifted, terms, terms.sum(axis, keepdims=True)


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
    _, terms, total = _normalizer(x, axis)
    return terms / total
    ### END SOLUTION


def log_softmax(x, axis=-1):
    """log_softmax(x)_i = (x_i - m) - log sum_j exp(x_j - m) along `axis`, m = max_j x_j.

    Never takes the log of a softmax that underflowed to 0: the sum is >= 1.
    """
    x = as_tensor(x)
    _check_axis("log_softmax", x, axis)
    ### BEGIN SOLUTION
    shifted, _, total = _normalizer(x, axis)
    return shifted - log(total)
    ### END SOLUTION

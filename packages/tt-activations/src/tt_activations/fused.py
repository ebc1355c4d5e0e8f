"""Two ops written in NumPy with their derivatives beside them (tt_tensor.Function).

`Erf`: NumPy has no erf, and no short composition of primitives reaches float64 accuracy, so
erf is one op with its exact derivative 2/sqrt(pi) exp(-x^2). gelu's erf form composes it.

`GELUTanh`: gelu's tanh form as one graph node, the fast path `gelu` takes when a graph is
recorded. Composed, it is 9 primitives whose backward rules each pass over the (N, 4C)
activations of a transformer MLP; fused, 8 in-place passes forward and a dozen backward.
The tests check both against the composition (values and gradients). The reference takes the
fast path; a learner's own package (version `+own`) does not, so a GPT trains through the
learner's own gelu.
"""

import math

import numpy as np
from tt_tensor import Function

from ._version import __version__

def fast_paths_by_default(version):
    """Whether a build of this package starts with its fast paths on: the reference does; a
    learner's own package (a `+own` version, as `tinytorch new` writes it) does not, so
    training runs the learner's own code until they turn the fast paths on themselves."""
    return "+own" not in version


FUSED_GELU = fast_paths_by_default(__version__)  # whether gelu(approximate="tanh") takes GELUTanh
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715
_SPLIT = 134217729.0  # 2^27 + 1: splits a float64 into two halves whose products are exact
_SERIES_BELOW = 2.0   # |x| < 2: the series; above: the continued fraction of erfc
_SERIES_TERMS = 30    # with these counts both are within 4 ulps of math.erf / math.erfc
_FRACTION_TERMS = 60
_ERFC_ZERO = 27.5     # erfc(x) underflows to 0 in float64 beyond this


def _exp_neg_square(x):
    """exp(-x^2) without the rounding error of x * x: x = hi + lo with hi^2 exact."""
    hi = x * _SPLIT
    hi = hi - (hi - x)
    lo = x - hi
    return np.exp(-hi * hi) * np.exp(-lo * (2.0 * hi + lo))


def _erf_series(x):
    """erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (1 * 3 * ... * (2n+1)): no cancellation."""
    two_x2 = 2.0 * x * x
    s = np.ones_like(x)
    for n in range(_SERIES_TERMS, 0, -1):  # nested from the tail: a few ulps of rounding
        s = 1.0 + s * (two_x2 / (2 * n + 1))
    return _TWO_OVER_SQRT_PI * _exp_neg_square(x) * (x * s)


def _erfc_fraction(x):
    """erfc(x) for x >= 2: exp(-x^2) / sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...))))."""
    x = np.minimum(x, _ERFC_ZERO)
    f = x.copy()
    for k in range(_FRACTION_TERMS, 0, -1):
        f = x + (k / 2.0) / f
    return _exp_neg_square(x) / (math.sqrt(math.pi) * f)


def erf_array(a):
    """erf of a float ndarray, within a few ulps of math.erf in float64 (any shape, NaN kept)."""
    x = np.asarray(a, dtype=np.float64)
    ax = np.abs(x)
    small = ax < _SERIES_BELOW
    out = np.empty_like(x)
    out[small] = _erf_series(ax[small])
    out[~small] = 1.0 - _erfc_fraction(ax[~small])  # NaN stays NaN through the fraction
    return np.copysign(out, x).astype(np.asarray(a).dtype, copy=False)


class Erf(Function):
    """erf(x) = 2/sqrt(pi) int_0^x exp(-t^2) dt;  d erf / dx = 2/sqrt(pi) exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return erf_array(x)

    @staticmethod
    def backward(ctx, grad):
        x64 = np.asarray(ctx.x, dtype=np.float64)
        slope = _TWO_OVER_SQRT_PI * _exp_neg_square(x64)
        return ((grad * slope).astype(grad.dtype, copy=False),)


class GELUTanh(Function):
    """gelu(x) = 0.5 x (1 + t), t = tanh(sqrt(2/pi) (x + 0.044715 x^3));

    d gelu / dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    @staticmethod
    def forward(ctx, x):
        t = np.asarray(x * x)              # a 0-d array, not a scalar, so `out=` works
        t *= _SQRT_2_OVER_PI * _GELU_K
        t += _SQRT_2_OVER_PI               # sqrt(2/pi) (1 + 0.044715 x^2)
        t *= x                             # u
        np.tanh(t, out=t)                  # t = tanh(u), kept for backward
        ctx.x, ctx.t = x, t
        out = t + 1.0
        out *= x
        out *= 0.5
        return out

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.x, ctx.t
        slope = np.asarray(x * x)
        slope *= 3.0 * _SQRT_2_OVER_PI * _GELU_K
        slope += _SQRT_2_OVER_PI           # du/dx
        slope *= x
        slope *= 0.5                       # 0.5 x du/dx
        sech2 = np.asarray(t * t)
        np.subtract(1.0, sech2, out=sech2)  # 1 - t^2
        slope *= sech2
        slope += 0.5
        slope += 0.5 * t                   # + 0.5 (1 + t)
        slope *= grad
        return (slope,)

"""Two ops written in NumPy with their derivatives beside them (tt_tensor.Function).

`Erf`: NumPy has no erf, and no short composition of primitives reaches float64 accuracy, so
erf is one op with its exact derivative 2/sqrt(pi) exp(-x^2). gelu's erf form composes it.

`GELUTanh`: gelu's tanh form as one graph node, the fast path `gelu` takes when a graph is
recorded. Composed, it is 9 primitives whose backward rules each pass over the (N, 4C)
activations of a transformer MLP; fused, 8 in-place passes forward and a dozen backward.
With more than one worker thread, large inputs are cut into contiguous chunks that run at
once: NumPy releases the GIL inside these loops, so both cores work where the composition
keeps one busy. Elementwise, so chunking changes no value.
The tests check both against the composition (values and gradients). The reference starts
with the fast path on; a learner's own package (version `+own`) starts with it off, so a GPT
trains through the learner's own gelu.
`use_fast_paths(False)` makes gelu run the composition with a graph too;
`use_fast_paths(True, threads=n)` sets the worker threads (default: OMP_NUM_THREADS, else
OPENBLAS_NUM_THREADS, else 1). The switch and its threads are tt_tensor.FastPathSwitch.
"""

import math

import numpy as np
from tt_tensor import FastPathSwitch, Function

from ._version import __version__


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


_switch = FastPathSwitch("tt_activations", __version__)  # on for the reference, off for +own
_CHUNK = 1 << 16  # elements: below this per worker, starting a thread costs more than it saves
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "gelu's fused tanh form (GELUTanh when a graph is recorded)", "large inputs")


def _elementwise(fn, *arrays):
    """fn(*chunks) over matching contiguous chunks of same-shaped arrays, one per worker
    thread when they are large and C-contiguous; else fn(*arrays) once, inline."""
    if not all(a.flags.c_contiguous for a in arrays):
        fn(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]  # views: each chunk writes into the arrays
    _switch.run_chunks(lambda lo, hi: fn(*(f[lo:hi] for f in flat)), flat[0].size,
                       min_per_worker=_CHUNK)


def _gelu_forward(x, t, out):
    """t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3); out = 0.5 x (1 + t). In place."""
    np.multiply(x, x, out=t)
    t *= _SQRT_2_OVER_PI * _GELU_K
    t += _SQRT_2_OVER_PI               # sqrt(2/pi) (1 + 0.044715 x^2)
    t *= x                             # u
    np.tanh(t, out=t)                  # t = tanh(u), kept for backward
    np.add(t, 1.0, out=out)
    out *= x
    out *= 0.5


def _gelu_backward(x, t, grad, slope):
    """slope = grad * d gelu / dx, from x and t = tanh(u). In place."""
    np.multiply(x, x, out=slope)
    slope *= 3.0 * _SQRT_2_OVER_PI * _GELU_K
    slope += _SQRT_2_OVER_PI           # du/dx
    slope *= x
    slope *= 0.5                       # 0.5 x du/dx
    sech2 = np.empty_like(t)
    np.multiply(t, t, out=sech2)
    np.subtract(1.0, sech2, out=sech2)  # 1 - t^2
    slope *= sech2
    slope += 0.5
    np.multiply(t, 0.5, out=sech2)
    slope += sech2                     # + 0.5 (1 + t)
    slope *= grad


class GELUTanh(Function):
    """gelu(x) = 0.5 x (1 + t), t = tanh(sqrt(2/pi) (x + 0.044715 x^3));

    d gelu / dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    @staticmethod
    def forward(ctx, x):
        x = np.asarray(x)
        t, out = np.empty_like(x), np.empty_like(x)  # 0-d arrays too, so `out=` works
        _elementwise(_gelu_forward, x, t, out)
        ctx.x, ctx.t = x, t
        return out

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.x, ctx.t
        grad = np.asarray(grad, dtype=x.dtype)
        slope = np.empty_like(x)
        _elementwise(_gelu_backward, x, t, grad, slope)
        return (slope,)

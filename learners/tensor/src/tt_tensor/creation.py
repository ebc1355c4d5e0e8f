"""Creating tensors: from data, filled with a constant, random, ranges, and *_like forms."""

import numpy as np

from ._helpers import DEFAULT_FLOAT, to_array
from .tensor import Tensor, as_tensor, make


def _shape(args):
    """zeros(2, 3) and zeros((2, 3)) mean the same."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in args):
        raise ValueError(f"shape must be non-negative integers, got {args}")
    return tuple(int(s) for s in args)


def _leaf(array, requires_grad):
    t = make(array)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data` (floats -> float32 unless `dtype` says otherwise)."""
    array = to_array(data.data if isinstance(data, Tensor) else data, dtype)
    return _leaf(array, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with `array`, keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    return as_tensor(array)


def zeros(*shape, dtype=DEFAULT_FLOAT, requires_grad=False):
    return _leaf(np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape, dtype=DEFAULT_FLOAT, requires_grad=False):
    return _leaf(np.ones(_shape(shape), dtype=dtype), requires_grad)


def full(shape, fill_value, dtype=DEFAULT_FLOAT, requires_grad=False):
    return _leaf(np.full(_shape((shape,)), fill_value, dtype=dtype), requires_grad)


def eye(n, dtype=DEFAULT_FLOAT, requires_grad=False):
    return _leaf(np.eye(n, dtype=dtype), requires_grad)


def _rng(generator):
    """The given np.random.Generator, or NumPy's global RNG (seeded by seed_everything)."""
    return np.random if generator is None else generator


def randn(*shape, dtype=DEFAULT_FLOAT, requires_grad=False, generator=None):
    """Samples of the standard normal distribution."""
    data = _rng(generator).standard_normal(_shape(shape)).astype(dtype)
    return _leaf(data, requires_grad)


def rand(*shape, dtype=DEFAULT_FLOAT, requires_grad=False, generator=None):
    """Samples of the uniform distribution on [0, 1)."""
    data = _rng(generator).random(_shape(shape)).astype(dtype)
    return _leaf(data, requires_grad)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop); int64 for integer arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return make(np.arange(start, stop, step, dtype=dtype))


def zeros_like(x, dtype=None, requires_grad=False):
    x = as_tensor(x)
    return zeros(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    x = as_tensor(x)
    return ones(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    x = as_tensor(x)
    return full(x.shape, fill_value, dtype=dtype or x.dtype, requires_grad=requires_grad)


def randn_like(x, dtype=None, requires_grad=False, generator=None):
    x = as_tensor(x)
    return randn(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, generator=generator)


def rand_like(x, dtype=None, requires_grad=False, generator=None):
    x = as_tensor(x)
    return rand(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, generator=generator)

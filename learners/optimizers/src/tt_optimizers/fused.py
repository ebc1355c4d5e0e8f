"""Fast path: Adam's and AdamW's step over every parameter of a group at once.

Adam._update in adam.py is the lesson: one parameter at a time, about fourteen whole-array
passes each (decay, two moments, the bias-corrected step). This fast path computes the
same update with the same formulas, but

- on the worker threads: the parameters are read as one virtual flat range (each parameter
  a contiguous piece of it), cut into one contiguous chunk per worker; NumPy releases the
  GIL inside its loops, so at 2 threads both cores update parameters;
- each chunk in blocks of at most 2^15 elements (a block's p, g, m, v and scratch stay in
  the cache through the passes), which also bounds the scratch.

With one worker it does not take over: measured on TinyGPT's AdamW step at one thread, the
blocks and their bookkeeping were no faster than `_update` parameter by parameter.

Each element's arithmetic is the plain path's, in the same order, so chunks and blocks change
no value (tests/test_fast_paths.py compares both, over several steps, at 1 and 2 threads).
Its scratch (two slots per worker of at most largest-parameter / workers elements) is
allocated at the first step and reused: within the 2 x largest-parameter scratch bound the
README states, and a step after the first allocates nothing as large as a parameter.

It takes over only where the plain path would give the same values: no amsgrad, float
parameters and gradients of one dtype, all C-contiguous (else Adam._update runs, parameter by
parameter). The reference starts with it on; a learner's own package (version `+own`) starts
with it off, so training runs the learner's `_update`. The switch is tt_tensor.FastPathSwitch.
"""

import math

import numpy as np
from tt_tensor import FastPathSwitch

from ._version import __version__

_switch = FastPathSwitch("tt_optimizers", __version__)  # on for the reference, off for +own
_BLOCK = 1 << 15  # elements per pass: a block of p, g, m, v and the scratch stays in cache
_CHUNK = 1 << 15  # elements per worker below which a thread costs more than it saves
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "Adam's and AdamW's step over all parameters at once", "the parameters' elements")


def _eligible(pairs):
    """Whether every (param Tensor, grad ndarray) pair is a writeable C-contiguous float
    array of one dtype, with moments (if any yet) of that dtype and layout: then the fast
    path computes exactly what Adam._update would."""
    dtype = pairs[0][0].data.dtype
    if dtype.kind != "f":
        return False
    for param, grad in pairs:
        data = param.data
        if (data.dtype != dtype or grad.dtype != dtype or not data.flags.c_contiguous
                or not data.flags.writeable or not grad.flags.c_contiguous):
            return False
    return True


def _moments(state, param):
    """(m, v) of one parameter, allocated at its first step as Adam._update does."""
    if "step" not in state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
    return state["exp_avg"], state["exp_avg_sq"]


def _state_fits(state, param):
    """A loaded state whose moments are C-contiguous arrays of the parameter's dtype (or
    none yet): what the flat views below need."""
    return all(key not in state or (state[key].flags.c_contiguous
                                    and state[key].dtype == param.dtype)
               for key in ("exp_avg", "exp_avg_sq"))


def adam_step(optimizer, pairs, group):
    """Update every (param Tensor, grad ndarray) pair of `group` as Adam._update would and
    return True; return False, having changed nothing, where the plain path runs (one
    worker thread, amsgrad, mixed dtypes or layouts)."""
    if not pairs:
        return True
    total = sum(p.data.size for p, _ in pairs)
    workers = min(_switch.threads, total // _CHUNK)
    if workers < 2 or group["amsgrad"] or not _eligible(pairs):
        return False  # one worker: _update itself is as fast (measured), so it runs
    states = [optimizer.state[p] for p, _ in pairs]
    if not all(_state_fits(state, p.data) for state, (p, _) in zip(states, pairs)):
        return False
    pieces, total = [], 0
    for state, (p, grad) in zip(states, pairs):
        m, v = _moments(state, p.data)
        state["step"] += 1
        flat = [a.reshape(-1) for a in (p.data, grad, m, v)]  # views: C-contiguous
        pieces.append((total, _constants(optimizer, group, state["step"]), *flat))
        total += p.data.size
    largest = max(p.data.size for p, _ in pairs)
    block = max(1, min(_BLOCK, largest // workers))  # 2 slots x workers x block <= 2 largest
    dtype = pairs[0][0].data.dtype
    slots = [optimizer._scratch_flat(dtype, workers * block, slot) for slot in (0, 1)]
    bounds = np.linspace(0, total, workers + 1).astype(int)

    def work(first, last):  # the chunks first..last-1 of the flat range, one slot part each
        for i in range(first, last):
            lo, hi = bounds[i], bounds[i + 1]
            tmp = [slot[i * block:(i + 1) * block] for slot in slots]
            for start, constants, p, g, m, v in pieces:
                a, b = max(lo, start) - start, min(hi, start + p.size) - start
                for s in range(a, b, block):
                    e = min(s + block, b)
                    _adam_block(p[s:e], g[s:e], m[s:e], v[s:e],
                                tmp[0][:e - s], tmp[1][:e - s], constants)

    _switch.run_chunks(work, workers, total, _CHUNK)
    return True


def _constants(optimizer, group, t):
    """The scalars of one parameter's update at its step t, as Adam._update computes them."""
    lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
    weight_decay = group["weight_decay"]
    decay = shrink = None
    if weight_decay != 0 and optimizer.decoupled_weight_decay:
        shrink = 1 - lr * weight_decay
    elif weight_decay != 0:
        decay = weight_decay
    return (shrink, decay, beta1, beta2, math.sqrt(1 - beta2**t), eps, lr / (1 - beta1**t))


def _adam_block(p, grad, m, v, tmp0, tmp, constants):
    """Adam._update's passes over one block, in its order (the same values), in place."""
    shrink, decay, beta1, beta2, root, eps, step_size = constants
    g = grad
    if shrink is not None:
        p *= shrink
    elif decay is not None:
        g = np.multiply(p, decay, out=tmp0)
        g += grad
    m *= beta1
    m += np.multiply(g, 1 - beta1, out=tmp)
    v *= beta2
    v += np.multiply(np.square(g, out=tmp), 1 - beta2, out=tmp)
    denom = np.sqrt(v, out=tmp)
    denom /= root
    denom += eps
    step = np.divide(m, denom, out=tmp)
    step *= step_size
    p -= step

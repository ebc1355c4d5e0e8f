"""Gradient clipping: rescale all gradients together (by norm) or clamp each entry (by value)."""

import math

import numpy as np
from tt_tensor import Tensor, from_numpy, tensor


def _grads(parameters):
    """The parameters (one tensor or an iterable) that have a gradient, with its ndarray."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    pairs = []
    for p in parameters:
        if p.grad is not None:
            pairs.append((p, p.grad.data if isinstance(p.grad, Tensor) else p.grad))
    return pairs


def _scale_(p, grad, factor):
    """grad *= factor in place (or a scaled copy if autograd gave a read-only array)."""
    if isinstance(grad, np.ndarray) and grad.flags.writeable:
        grad *= factor
    else:
        p.grad = from_numpy(np.asarray(grad) * factor)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients by max_norm / (total + 1e-6) when total > max_norm; return total.

    total = ||(||g_1||, ..., ||g_n||)||  with the same p-norm (norm_type; inf = max |g|),
    i.e. the norm of all gradients concatenated into one vector. Returns a 0-d Tensor of the
    first gradient's dtype (`dtype`) holding total before clipping. Scale in place with
    _scale_(p, g, factor) (it copies a read-only gradient).
    error_if_nonfinite=True: a NaN or infinite total raises RuntimeError whose message says
    "non-finite" and names the total, before any gradient is touched. With False (PyTorch's
    default) nothing is checked: a NaN total leaves the gradients as they are (the comparison
    with max_norm is false) and an infinite one scales them by 0.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if norm_type <= 0:
        raise ValueError(f"norm_type must be positive or inf, got {norm_type}")
    pairs = _grads(parameters)
    if not pairs:
        return tensor(0.0)
    dtype = pairs[0][1].dtype
    ### BEGIN SOLUTION
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for _, g in pairs)
    else:
        norms = [np.linalg.norm(g.ravel(), ord=norm_type) for _, g in pairs]
        total = float(np.linalg.norm(np.array(norms, dtype=np.float64), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite ({total}), so it cannot be clipped")
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1.0:
        for p, g in pairs:
            _scale_(p, g, clip_coef)
    return tensor(total, dtype=dtype)  # the norm before clipping
    ### END SOLUTION


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_value must be non-negative, got {clip_value}")
    ### BEGIN SOLUTION
    for p, g in _grads(parameters):
        if isinstance(g, np.ndarray) and g.flags.writeable:
            np.clip(g, -clip_value, clip_value, out=g)
        else:
            p.grad = from_numpy(np.clip(g, -clip_value, clip_value))
    ### END SOLUTION

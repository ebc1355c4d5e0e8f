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
    i.e. the norm of all gradients concatenated into one vector. Returns a 0-d Tensor.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if norm_type <= 0:
        raise ValueError(f"norm_type must be positive or inf, got {norm_type}")
    pairs = _grads(parameters)
    if not pairs:
        return tensor(0.0)
    dtype = pairs[0][1].dtype
    ### BEGIN SOLUTION
    def norm(g):  # the p-norm of one gradient, flattened (0 for an empty one)
        return float(np.linalg.norm(g.ravel(), ord=norm_type)) if g.size else 0.0

    norms = np.array([norm(g) for _, g in pairs])
    total = float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite ({total}), so it cannot be clipped. Set "
                           f"error_if_nonfinite=False to clip anyway")
    if total > max_norm:
        factor = max_norm / (total + 1e-6)
        for p, g in pairs:
            _scale_(p, g, factor)
    ### END SOLUTION
    return tensor(total, dtype=dtype)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_value must be non-negative, got {clip_value}")
    ### BEGIN SOLUTION
    for p, grad in _grads(parameters):
        if isinstance(grad, np.ndarray) and grad.flags.writeable:
            np.clip(grad, -clip_value, clip_value, out=grad)
        else:  # a read-only array from autograd: replace it
            p.grad = from_numpy(np.clip(np.asarray(grad), -clip_value, clip_value))
    ### END SOLUTION

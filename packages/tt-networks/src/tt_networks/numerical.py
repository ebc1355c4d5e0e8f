"""Gradients by central differences: the slow, obviously correct reference.

For each of the P numbers in the parameters, nudge it by +eps and -eps and evaluate the loss
twice: 2 P forward passes per gradient. Backpropagation (tt-autograd, module 09) gets the same
numbers for about the cost of one forward and one backward pass.
"""

import numpy as np
from tqdm.auto import tqdm
from tt_tensor import Tensor, no_grad


def _scalar(value):
    if isinstance(value, Tensor):
        if value.data.size != 1:
            raise ValueError(f"numerical_gradient: fn() must return a scalar, got a tensor of "
                             f"shape {value.shape}")
        return float(value.data.reshape(()))
    return float(value)


def _check_params(params):
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor) or p.data.dtype.kind != "f":
            what = p.dtype if isinstance(p, Tensor) else type(p).__name__
            raise TypeError(f"numerical_gradient: params[{i}] must be a float Tensor, got {what}")
        if not p.data.flags.writeable:
            raise ValueError(f"numerical_gradient: params[{i}] (shape {p.shape}) is a "
                             "read-only view and cannot be nudged")
    return params


def numerical_gradient(fn, params, eps=1e-3, progress=False):
    """d fn() / d p for every p in `params`, by central differences, one element at a time:
    (fn() at p + eps - fn() at p - eps) / (upper - lower), where upper and lower are the two
    perturbed values as actually stored in the param's dtype (2 eps in exact arithmetic).

    fn() takes no arguments and returns a scalar Tensor (or number) computed from the current
    values of the params. Returns one ndarray per param (same shape and dtype); the params are
    left exactly as they were, even when fn raises. Perturb each element in place (fn sees the
    params, not arguments), without recording a graph (no_grad). In float32 the result has an
    error of about 1e-7 * |fn| / eps. progress=True shows a tqdm bar with one step per element
    (two evaluations of fn each).
    """
    params = _check_params(params)
    ### BEGIN SOLUTION
    grads = []
    total = sum(p.data.size for p in params)
    bar = tqdm(total=total, desc="numerical gradient", leave=False, disable=not progress)
    with no_grad(), bar:  # the graph is not needed: only the values of fn()
        for p in params:
            data = p.data  # perturbed in place, so fn() sees the change
            grad = np.zeros(data.shape, dtype=np.float64)
            for index in np.ndindex(data.shape):
                original = data[index]
                try:
                    data[index] = original + eps
                    upper, f_plus = float(data[index]), _scalar(fn())
                    data[index] = original - eps
                    lower, f_minus = float(data[index]), _scalar(fn())
                finally:
                    data[index] = original
                grad[index] = (f_plus - f_minus) / (upper - lower)
                bar.update(1)
            grads.append(grad.astype(data.dtype))
    return grads
    ### END SOLUTION

"""gradcheck: compare the engine's gradients with central differences, in float64."""

import numpy as np
import tt_networks

from .engine import run_backward


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check d fn(*inputs) / d input for every input that requires grad.

    A random cotangent v turns any output into the scalar sum(fn(*inputs) * v), so one backward
    pass and central differences (f(x + eps) - f(x - eps)) / 2 eps give comparable gradients.
    Inputs must be float64 tensors. Raises AssertionError naming the input and element that
    differ; returns True otherwise.
    """
    targets = [t for t in inputs if getattr(t, "requires_grad", False)]
    if not targets:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i, t in enumerate(targets):
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {t.dtype}; central differences need float64")
    out = fn(*inputs)
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    found = run_backward(out, cotangent, inputs=targets)
    analytic = [found.get(id(t), np.zeros(t.shape)) for t in targets]
    numeric = tt_networks.numerical_gradient(lambda: float(np.sum(fn(*inputs).data * cotangent)), targets, eps=eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a = np.broadcast_to(a, n.shape)
        bad = ~np.isclose(a, n, atol=atol, rtol=rtol)
        if bad.any():
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            raise AssertionError(
                f"gradcheck: input {i} of shape {n.shape} differs at {where}: "
                f"analytic {a[where]:.6g} vs numerical {n[where]:.6g} "
                f"({int(bad.sum())} of {n.size} elements differ)"
            )
    return True

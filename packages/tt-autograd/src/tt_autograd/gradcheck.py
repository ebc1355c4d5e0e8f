"""gradcheck: compare the engine's gradients with central differences, in float64."""

import numpy as np
import tt_networks
from tt_tensor import no_grad

from .engine import run_backward


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check d fn(*inputs) / d input for every input that requires grad.

    A random cotangent v turns any output into the scalar sum(fn(*inputs) * v), so one backward
    pass and central differences (f(x + eps) - f(x - eps)) / 2 eps give comparable gradients.
    Inputs must be float64 tensors. Raises AssertionError naming the input (its position in
    `inputs`) and element that differ; returns True otherwise.
    """
    positions = [i for i, t in enumerate(inputs) if getattr(t, "requires_grad", False)]
    if not positions:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in positions:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; "
                            "central differences need float64")
    targets = [inputs[i] for i in positions]
    out = fn(*inputs)
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    found = run_backward(out, cotangent, inputs=targets)
    analytic = [found.get(id(t), np.zeros(t.shape)) for t in targets]

    def objective():
        with no_grad():  # the numerical side needs values only, not graphs
            return float(np.sum(fn(*inputs).data * cotangent))

    numeric = tt_networks.numerical_gradient(objective, targets, eps=eps)
    for i, a, n in zip(positions, analytic, numeric):
        if a.shape != n.shape:  # never broadcast: a wrong-shaped gradient is a wrong gradient
            raise AssertionError(f"gradcheck: input {i} has shape {n.shape} but its analytic "
                                 f"gradient has shape {a.shape}")
        bad = ~np.isclose(a, n, atol=atol, rtol=rtol)
        if bad.any():
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            raise AssertionError(
                f"gradcheck: input {i} of shape {n.shape} differs at {where}: "
                f"analytic {a[where]:.6g} vs numerical {n[where]:.6g} "
                f"({int(bad.sum())} of {n.size} elements differ)"
            )
    return True

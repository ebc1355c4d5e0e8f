"""gradcheck: the engine's gradients against central differences, in float64 (my own).

The output is projected on a random direction v, f(inputs) = sum(fn(inputs) * v), so any
output shape gives one scalar; `grad` gives df/dx in one backward pass and each entry is then
checked against (f(x + eps e_k) - f(x - eps e_k)) / (2 eps), nudging one entry at a time.
"""

import numpy as np
from tt_tensor import no_grad

from .engine import grad


def _checked_positions(inputs):
    positions = [i for i, t in enumerate(inputs) if getattr(t, "requires_grad", False)]
    if not positions:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in positions:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; central differences "
                            "need float64 inputs")
    return positions


def _central_differences(objective, tensor, eps):
    """d objective / d tensor, one entry at a time, restoring every entry it nudges."""
    values = tensor.data
    slope = np.zeros(values.shape)
    for k in np.ndindex(*values.shape):
        kept = values[k]
        values[k] = kept + eps
        up = objective()
        values[k] = kept - eps
        down = objective()
        values[k] = kept
        slope[k] = (up - down) / (2.0 * eps)
    return slope


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check d fn(*inputs) / d input for every input that requires grad.

    Raises AssertionError naming the input (its position in `inputs`), its shape and the
    first entry that differs; returns True when all agree.
    """
    positions = _checked_positions(inputs)
    out = fn(*inputs)
    direction = np.random.default_rng(seed).standard_normal(out.shape)
    found = grad(out, [inputs[i] for i in positions], grad_output=direction)

    def objective():
        with no_grad():
            return float((fn(*inputs).data * direction).sum())

    for i, analytic in zip(positions, found):
        tensor = inputs[i]
        analytic = np.zeros(tensor.shape) if analytic is None else analytic.data
        numeric = _central_differences(objective, tensor, eps)
        if analytic.shape != numeric.shape:
            raise AssertionError(f"gradcheck: input {i} of shape {numeric.shape} got an "
                                 f"analytic gradient of shape {analytic.shape}")
        wrong = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
        if wrong.any():
            k = tuple(int(j) for j in np.argwhere(wrong)[0])
            raise AssertionError(
                f"gradcheck: input {i} of shape {numeric.shape} differs at {k}: analytic "
                f"{analytic[k]:.6g}, numerical {numeric[k]:.6g} "
                f"({int(wrong.sum())} of {wrong.size} entries differ)")
    return True

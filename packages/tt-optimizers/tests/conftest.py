"""Shared helper of the optimizer contract tests."""

import pytest
import tt_tensor as tt


def _run(opt_factory, p0, grads):
    """Run the optimizer on one float64 parameter; the parameter value after each step."""
    p = tt.tensor(p0, dtype=tt.float64, requires_grad=True)
    opt = opt_factory([p])
    history = []
    for g in grads:
        p.grad = tt.tensor(g, dtype=tt.float64)
        opt.step()
        history.append(p.data.copy())
    return history


@pytest.fixture
def run():
    """`run(opt_factory, p0, grads)`: the optimizer's steps on one float64 parameter."""
    return _run

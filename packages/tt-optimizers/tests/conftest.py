"""Shared helpers of the optimizer contract tests."""

import pytest
import tt_tensor as tt

import tt_optimizers


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


@pytest.fixture(autouse=True)
def plain_updates(request):
    """The contract tests check the lesson (each optimizer's `_update`, your code): Adam's
    fast path is off for them; test_fast_paths.py sets it itself and compares the two."""
    switch = getattr(tt_optimizers, "use_fast_paths", None)  # a module may have none
    keep = switch is None or request.module.__name__.endswith("test_fast_paths")
    before = None if keep else switch(False)
    yield
    if before is not None:
        switch(before)

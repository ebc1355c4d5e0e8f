"""The fused cross-entropy (fused.py) equals the composition in losses.py: values, and its
gradient against central differences of the composition."""

import numpy as np
import pytest
from tt_tensor import tensor

import tt_networks as N


@pytest.fixture(autouse=True)
def restore_setting():
    before = N.fast_paths_enabled()
    yield
    N.use_fast_paths(before, threads=None)


def loss_of(z, y, fast, **options):
    N.use_fast_paths(fast)
    return N.cross_entropy(tensor(z, dtype=z.dtype, requires_grad=True), y, **options)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_fused_cross_entropy_equals_the_composition(dtype, rtol, reduction, label_smoothing):
    z = (np.random.default_rng(1).standard_normal((9, 5)) * 4).astype(dtype)
    y = np.random.default_rng(2).integers(0, 5, 9)
    options = dict(reduction=reduction, label_smoothing=label_smoothing)
    fast, plain = loss_of(z, y, True, **options), loss_of(z, y, False, **options)
    assert fast.grad_fn.name == "CrossEntropyRows" and plain.grad_fn.name != "CrossEntropyRows"
    assert fast.shape == plain.shape and fast.dtype == plain.dtype == dtype
    np.testing.assert_allclose(fast.data, plain.data, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_fused_gradient_equals_central_differences_of_the_composition(reduction,
                                                                      label_smoothing):
    z = np.random.default_rng(3).standard_normal((6, 4)) * 2
    y = np.array([0, 3, 3, 1, 2, 0])
    upstream = np.random.default_rng(4).standard_normal(6 if reduction == "none" else ())
    options = dict(reduction=reduction, label_smoothing=label_smoothing)
    fast = loss_of(z, y, True, **options)
    (analytic,) = fast.grad_fn.op.backward(fast.grad_fn.ctx, upstream)
    N.use_fast_paths(False)
    param = tensor(z.copy(), dtype=np.float64)
    (numeric,) = N.numerical_gradient(
        lambda: (N.cross_entropy(param, y, **options) * tensor(upstream)).sum(), [param],
        eps=1e-6)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_stable_for_large_logits_and_other_shapes_take_the_composition():
    N.use_fast_paths(True)
    z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    loss = N.cross_entropy(tensor(z, requires_grad=True), np.array([0, 2]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 1000.0])
    unbatched = N.cross_entropy(tensor(np.ones(3), requires_grad=True), 1)
    assert unbatched.grad_fn.name != "CrossEntropyRows"  # (C,): the composition


def test_the_switch_returns_the_previous_setting_and_checks_threads():
    N.use_fast_paths(True)
    assert N.use_fast_paths(False) is True and not N.fast_paths_enabled()
    assert N.use_fast_paths(True, threads=2) is False and N.fast_paths_enabled()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads"):
            N.use_fast_paths(True, threads=bad)


def test_the_fast_paths_start_on_only_in_the_reference_build():
    # A learner's own package (version +own) starts on its composition, so training runs
    # the learner's cross_entropy; the reference starts on its fast path.
    own = "+own" in N.__version__
    assert N.fast_paths_enabled() is not own
    z = tensor(np.zeros((2, 3)), requires_grad=True)
    assert (N.cross_entropy(z, np.array([0, 2])).grad_fn.name == "CrossEntropyRows") is not own

"""Gradient clipping against NumPy norms."""

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import clip_grad_norm_, clip_grad_value_


def params_with_grads(grads):
    params = []
    for g in grads:
        p = tt.zeros(*np.shape(g), dtype=tt.float64, requires_grad=True)
        p.grad = None if g is None else tt.tensor(g, dtype=tt.float64)
        params.append(p)
    return params


def grads_of(params):
    return [p.grad.data.copy() for p in params if p.grad is not None]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_total_norm_is_the_norm_of_all_gradients_concatenated(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 2, 2))]
    params = params_with_grads(grads)
    flat = np.concatenate([g.ravel() for g in grads])
    want = np.linalg.norm(flat, ord=norm_type)
    total = clip_grad_norm_(params, max_norm=1e9, norm_type=norm_type)
    assert isinstance(total, tt.Tensor) and total.shape == ()
    assert total.item() == pytest.approx(want, rel=1e-12)
    for got, g in zip(grads_of(params), grads):  # below max_norm: untouched
        np.testing.assert_array_equal(got, g)


def test_gradients_above_max_norm_are_scaled_in_place():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((4, 4)) * 3, rng.standard_normal(6)]
    params = params_with_grads(grads + [None])
    arrays = [p.grad.data for p in params[:2]]
    total = np.sqrt(sum((g**2).sum() for g in grads))
    returned = clip_grad_norm_(iter(params), max_norm=0.5)
    assert returned.item() == pytest.approx(total, rel=1e-12)
    for p, a, g in zip(params, arrays, grads):
        assert p.grad.data is a
        np.testing.assert_allclose(p.grad.data, g * 0.5 / (total + 1e-6), rtol=1e-12)
    new_total = np.sqrt(sum((p.grad.data**2).sum() for p in params[:2]))
    assert new_total == pytest.approx(0.5, rel=1e-5)
    assert params[2].grad is None


def test_single_tensor_and_no_gradients():
    (p,) = params_with_grads([np.array([3.0, 4.0])])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.data, np.array([3.0, 4.0]) / (5.0 + 1e-6), rtol=1e-12)
    assert clip_grad_norm_(params_with_grads([None]), 1.0).item() == 0.0


def test_read_only_gradient_is_replaced_by_a_scaled_copy():
    p = tt.zeros(4, dtype=tt.float64, requires_grad=True)
    p.grad = tt.from_numpy(np.broadcast_to(np.float64(2.0), (4,)))
    clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(p.grad.data, np.full(4, 2.0 / (4.0 + 1e-6)), rtol=1e-12)


def test_non_finite_norm_can_raise():
    params = params_with_grads([np.array([1.0, np.nan])])
    assert np.isnan(clip_grad_norm_(params, 1.0).item())
    params = params_with_grads([np.array([1.0, np.nan])])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_entry_in_place():
    g = np.array([[-3.0, 0.2], [0.9, 7.0]])
    params = params_with_grads([g])
    array = params[0].grad.data
    clip_grad_value_(params, 0.5)
    assert params[0].grad.data is array
    np.testing.assert_array_equal(array, np.clip(g, -0.5, 0.5))


def test_bad_clip_arguments():
    params = params_with_grads([np.ones(2)])
    with pytest.raises(ValueError, match="norm_type must be positive or inf, got -1.0"):
        clip_grad_norm_(params, 1.0, norm_type=-1)
    with pytest.raises(ValueError, match="clip_value must be non-negative, got -0.1"):
        clip_grad_value_(params, -0.1)

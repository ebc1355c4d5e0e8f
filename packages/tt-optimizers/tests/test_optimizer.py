"""The Optimizer base: parameter groups, zero_grad, skipping, closures, bad input."""

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import SGD, Adam, AdamW, Optimizer


def param(values, dtype=tt.float64):
    return tt.tensor(values, dtype=dtype, requires_grad=True)


def test_param_groups_use_their_own_lr_and_fall_back_to_defaults():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    assert opt.param_groups[1]["params"] == [b]  # a single tensor becomes a list
    a.grad, b.grad = tt.tensor([1.0, 1.0], dtype=tt.float64), tt.tensor([2.0], dtype=tt.float64)
    opt.step()
    np.testing.assert_allclose(a.data, [1.0 - 0.1, 2.0 - 0.1], rtol=1e-15)
    np.testing.assert_allclose(b.data, [3.0 - 0.5 * 2.0], rtol=1e-15)


def test_changing_a_groups_lr_changes_the_next_step():
    p = param([0.0])
    opt = SGD([p], lr=1.0)
    p.grad = tt.tensor([1.0], dtype=tt.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 0.25
    opt.step()
    np.testing.assert_allclose(p.data, [-1.25], rtol=1e-15)


def test_add_param_group_fills_defaults_and_steps_the_new_group():
    a, b = param([1.0]), param([1.0])
    opt = Adam([a], lr=0.1, betas=(0.8, 0.9))
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)
    b.grad = tt.tensor([4.0], dtype=tt.float64)
    opt.step()
    np.testing.assert_allclose(b.data, [1.0 - 0.2 * 4.0 / (4.0 + 1e-8)], rtol=1e-12)
    np.testing.assert_array_equal(a.data, [1.0])


def test_parameters_without_grad_are_skipped_and_get_no_state():
    a, b = param([1.0, 2.0]), param([5.0])
    opt = Adam([a, b], lr=0.1)
    a.grad = tt.tensor([1.0, -1.0], dtype=tt.float64)
    opt.step()
    np.testing.assert_array_equal(b.data, [5.0])
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_zero_grad_sets_none_by_default_or_fills_zeros():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([a, b], lr=0.1)
    a.grad = tt.tensor([1.0, 2.0], dtype=tt.float64)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    a.grad = tt.tensor([1.0, 2.0], dtype=tt.float64)
    grad_array = a.grad.data
    opt.zero_grad(set_to_none=False)
    assert a.grad.data is grad_array
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])


def test_zero_grad_replaces_a_read_only_gradient():
    p = param([1.0, 2.0, 3.0])
    opt = SGD([p])
    p.grad = tt.from_numpy(np.broadcast_to(np.float64(2.0), (3,)))  # not writeable
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, np.zeros(3))


def test_step_returns_the_closure_loss():
    p = param([2.0])
    opt = SGD([p], lr=0.1)

    def closure():
        p.grad = tt.tensor(2 * p.data, dtype=tt.float64)  # d/dp p^2
        return float(p.data[0] ** 2)

    assert opt.step(closure) == 4.0
    np.testing.assert_allclose(p.data, [2.0 - 0.1 * 4.0], rtol=1e-15)


def test_gradient_shape_mismatch_is_named():
    p = param(np.ones((2, 3)))
    opt = SGD([p])
    p.grad = tt.ones(3, 2, dtype=tt.float64)
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        opt.step()


def test_base_optimizer_needs_an_update_rule():
    p = param([1.0])
    opt = Optimizer([p], dict(lr=0.1))
    p.grad = tt.ones(1, dtype=tt.float64)
    with pytest.raises(NotImplementedError, match="Optimizer"):
        opt.step()


def test_repr_lists_groups_and_options():
    text = repr(SGD([param([1.0])], lr=0.3, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.3" in text


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_empty_parameter_list(cls):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        cls([])
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        cls(iter(()))


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_negative_lr_in_a_group_is_refused(cls):
    a, b = param([1.0]), param([1.0])
    with pytest.raises(ValueError, match="Invalid learning rate: -2"):
        cls([{"params": [a]}, {"params": [b], "lr": -2}])


def test_single_tensor_instead_of_iterable():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(param([1.0]))


def test_non_tensor_parameter_is_named():
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray"):
        SGD([param([1.0]), np.ones(2)])


def test_non_leaf_and_integer_parameters_are_refused():
    p = param([1.0])
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2])
    with pytest.raises(TypeError, match="int64"):
        SGD([tt.tensor([1, 2])])


def test_parameter_in_two_groups_or_twice_in_one():
    p, q = param([1.0]), param([1.0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [q, p]}])
    with pytest.raises(ValueError, match="twice"):
        SGD([p, q, p])
    with pytest.raises(TypeError, match="ordered collections"):
        SGD([{"params": {p, q}}])

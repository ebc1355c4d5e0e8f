"""Integration: gradients from a real backward pass (tt_autograd) drive the optimizers."""

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import SGD, AdamW, StepLR, clip_grad_norm_


def regression_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 3))
    w_true = np.array([[1.5], [-2.0], [0.5]])
    return x, x @ w_true


def loss_of(w, x, y):
    diff = tt.matmul(tt.tensor(x, dtype=tt.float64), w) - tt.tensor(y, dtype=tt.float64)
    return (diff * diff).mean()


def test_backward_then_sgd_step_matches_the_numpy_gradient():
    x, y = regression_problem()
    w0 = np.zeros((3, 1))
    w = tt.tensor(w0, dtype=tt.float64, requires_grad=True)
    opt = SGD([w], lr=0.1)
    loss_of(w, x, y).backward()
    grad = 2 * x.T @ (x @ w0 - y) / len(x)  # d/dw mean((xw - y)^2)
    np.testing.assert_allclose(w.grad.data, grad, rtol=1e-10)
    opt.step()
    np.testing.assert_allclose(w.data, w0 - 0.1 * grad, rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: AdamW(ps, lr=0.1, weight_decay=0.0),
])
def test_training_loop_fits_a_linear_model(make):
    x, y = regression_problem(1)
    w = tt.zeros(3, 1, dtype=tt.float64, requires_grad=True)
    opt = make([w])
    sched = StepLR(opt, step_size=100, gamma=0.5)
    data = w.data
    for _ in range(300):
        opt.zero_grad()
        loss = loss_of(w, x, y)
        loss.backward()
        clip_grad_norm_([w], max_norm=10.0)
        opt.step()
        sched.step()
    assert w.data is data
    np.testing.assert_allclose(w.data, np.array([[1.5], [-2.0], [0.5]]), atol=1e-3)

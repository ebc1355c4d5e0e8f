"""SGD against its update rule written out in NumPy, step by step."""

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import SGD


def sgd_reference(p0, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False):
    """PyTorch's SGD algorithm box, one array per step."""
    p, buf, history = p0.copy(), None, []
    for grad in grads:
        g = grad + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        history.append(p.copy())
    return history


CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.02, momentum=0.9, dampening=0.1, weight_decay=0.05),
    dict(lr=0.02, momentum=0.7, weight_decay=0.05, nesterov=True),
]


def config_id(config):
    return ",".join(f"{k}={v}" for k, v in config.items())


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_sgd_matches_formula_for_several_steps(config, run):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(6)]
    got = run(lambda params: SGD(params, **config), p0, grads)
    want = sgd_reference(p0, grads, **config)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


def test_plain_sgd_first_step_is_p_minus_lr_g(run):
    p0, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, -1.0])
    (after,) = run(lambda params: SGD(params, lr=0.1), p0, [g])
    np.testing.assert_allclose(after, p0 - 0.1 * g, rtol=1e-15)


def test_first_momentum_step_is_not_dampened(run):
    # PyTorch: the buffer starts as the gradient itself, dampening applies from step 2 on
    p0, g = np.zeros(2), np.array([1.0, 2.0])
    after = run(lambda params: SGD(params, lr=1.0, momentum=0.9, dampening=0.5), p0, [g, g])
    np.testing.assert_allclose(after[0], -g, rtol=1e-15)
    np.testing.assert_allclose(after[1], -g - (0.9 * g + 0.5 * g), rtol=1e-15)


def test_default_lr_is_pytorch_2_default():
    p = tt.zeros(2, requires_grad=True)
    assert SGD([p]).param_groups[0]["lr"] == 1e-3


def test_float32_parameter_stays_float32():
    p = tt.tensor(np.ones(5), requires_grad=True)
    opt = SGD([p], lr=0.5, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        p.grad = tt.tensor(np.full(5, 2.0))
        opt.step()
    assert p.dtype == np.float32
    assert opt.state[p]["momentum_buffer"].dtype == np.float32
    want = sgd_reference(np.ones(5), [np.full(5, 2.0)] * 3, lr=0.5, momentum=0.9,
                         weight_decay=0.1)[-1]
    np.testing.assert_allclose(p.data, want, rtol=1e-6)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (dict(weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening=0.1"),
])
def test_bad_hyperparameters_raise_naming_the_value(kwargs, fragment):
    p = tt.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        SGD([p], **kwargs)

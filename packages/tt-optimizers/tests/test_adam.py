"""Adam and AdamW against their update rules written out in NumPy, step by step."""

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import Adam, AdamW


def adam_reference(p0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, decoupled=False):
    """Adam (L2 decay added to g) or AdamW (decoupled: p *= 1 - lr*wd first)."""
    beta1, beta2 = betas
    p, m, v, v_max = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
    history = []
    for t, grad in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
            g = grad
        else:
            g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p.copy())
    return history


def problem(seed=0, steps=8):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal((4, 3))
    # grads of varying scale so that the bias correction and eps matter
    grads = [rng.standard_normal((4, 3)) * 10.0 ** rng.integers(-4, 2) for _ in range(steps)]
    return p0, grads


ADAM_CONFIGS = [
    dict(lr=1e-2),
    dict(lr=1e-1, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=1e-2, weight_decay=0.1),
    dict(lr=1e-2, amsgrad=True),
    dict(lr=3e-2, betas=(0.5, 0.9), weight_decay=0.05, amsgrad=True),
]


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=str)
def test_adam_matches_formula_for_several_steps(config, run):
    p0, grads = problem()
    got = run(lambda params: Adam(params, **config), p0, grads)
    want = adam_reference(p0, grads, **config)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13, err_msg=f"step {step}")


@pytest.mark.parametrize("config", [
    dict(lr=1e-2),
    dict(lr=1e-1, weight_decay=0.1),
    dict(lr=1e-2, betas=(0.7, 0.95), weight_decay=0.3, amsgrad=True),
], ids=str)
def test_adamw_matches_decoupled_formula(config, run):
    p0, grads = problem(seed=1)
    got = run(lambda params: AdamW(params, **config), p0, grads)
    options = {"weight_decay": 1e-2, **config}  # AdamW's default decay, unless overridden
    want = adam_reference(p0, grads, decoupled=True, **options)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13, err_msg=f"step {step}")


def test_adamw_decay_differs_from_adam_l2_decay(run):
    p0, grads = problem(seed=2, steps=3)
    adam = run(lambda params: Adam(params, lr=1e-2, weight_decay=0.1), p0, grads)[-1]
    adamw = run(lambda params: AdamW(params, lr=1e-2, weight_decay=0.1), p0, grads)[-1]
    assert not np.allclose(adam, adamw, rtol=1e-6)


def test_first_adam_step_moves_each_entry_by_about_lr(run):
    # after bias correction, step 1 is lr * g / (|g| + eps): a sign step of size lr
    p0, g = np.zeros(4), np.array([3.0, -0.2, 1e-3, -50.0])
    (after,) = run(lambda params: Adam(params, lr=0.01), p0, [g])
    np.testing.assert_allclose(after, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_defaults_match_pytorch():
    p = tt.zeros(2, requires_grad=True)
    adam, adamw = Adam([p]).defaults, AdamW([tt.zeros(2, requires_grad=True)]).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"]) == (
        1e-3, (0.9, 0.999), 1e-8, 0)
    assert (adamw["lr"], adamw["betas"], adamw["eps"], adamw["weight_decay"]) == (
        1e-3, (0.9, 0.999), 1e-8, 1e-2)


def test_state_holds_step_and_two_moments():
    p = tt.tensor(np.ones(6), requires_grad=True)
    opt = Adam([p])
    for _ in range(3):
        p.grad = tt.ones(6)
        opt.step()
    state = opt.state[p]
    assert state["step"] == 3
    assert state["exp_avg"].shape == state["exp_avg_sq"].shape == (6,)
    assert state["exp_avg"].dtype == np.float32
    assert "max_exp_avg_sq" not in state


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("kwargs, fragment", [
    (dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
def test_bad_hyperparameters_raise_naming_the_value(cls, kwargs, fragment):
    p = tt.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        cls([p], **kwargs)

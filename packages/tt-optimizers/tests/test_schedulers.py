"""Learning-rate schedulers against their closed forms, over many steps."""

import math

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import (
    SGD, Adam, CosineAnnealingLR, LambdaLR, LinearLR, OneCycleLR, SequentialLR, StepLR,
)


def optimizer(lrs=(0.1,), cls=SGD, **kwargs):
    groups = [{"params": [tt.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, **kwargs)


def lr_trace(scheduler, steps):
    """The lr of each group at steps 0..steps-1 (step 0 is set by the constructor)."""
    trace = [scheduler.get_last_lr()]
    for _ in range(steps - 1):
        scheduler.optimizer.step()
        scheduler.step()
        trace.append(scheduler.get_last_lr())
    return np.array(trace)  # (steps, groups)


def test_step_lr():
    opt = optimizer((0.1, 0.02))
    got = lr_trace(StepLR(opt, step_size=7, gamma=0.5), 50)
    t = np.arange(50)[:, None]
    np.testing.assert_allclose(got, np.array([[0.1, 0.02]]) * 0.5 ** (t // 7), rtol=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert [g["lr"] for g in opt.param_groups] == list(got[-1])


def test_cosine_annealing_lr_over_more_than_one_period():
    got = lr_trace(CosineAnnealingLR(optimizer((0.5,)), T_max=30, eta_min=0.01), 75)
    t = np.arange(75)
    want = 0.01 + (0.5 - 0.01) * (1 + np.cos(np.pi * t / 30)) / 2
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12)
    assert got[30, 0] == pytest.approx(0.01) and got[60, 0] == pytest.approx(0.5)


def test_linear_lr_warmup_then_flat():
    got = lr_trace(LinearLR(optimizer((0.3,)), start_factor=0.1, total_iters=8), 20)
    t = np.arange(20)
    want = 0.3 * (0.1 + (1.0 - 0.1) * np.minimum(t, 8) / 8)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12)
    assert got[0, 0] == pytest.approx(0.03) and got[-1, 0] == pytest.approx(0.3)


def test_linear_lr_defaults_are_pytorchs():
    got = lr_trace(LinearLR(optimizer((0.9,))), 7)[:, 0]
    np.testing.assert_allclose(got, 0.9 * (1 / 3 + (2 / 3) * np.minimum(np.arange(7), 5) / 5),
                               rtol=1e-12)


def test_lambda_lr_one_function_per_group():
    opt = optimizer((1.0, 0.5))
    got = lr_trace(LambdaLR(opt, [lambda e: 0.9**e, lambda e: 1 / (1 + e)]), 30)
    t = np.arange(30)
    np.testing.assert_allclose(got, np.stack([0.9**t, 0.5 / (1 + t)], axis=1), rtol=1e-12)


def test_sequential_warmup_then_cosine():
    opt = optimizer((0.4,))
    warm = LinearLR(opt, start_factor=0.25, total_iters=5)
    cosine = CosineAnnealingLR(opt, T_max=20)
    got = lr_trace(SequentialLR(opt, [warm, cosine], milestones=[5]), 25)[:, 0]
    t = np.arange(25)
    want = np.where(t < 5, 0.4 * (0.25 + 0.75 * t / 5),
                    0.4 * (1 + np.cos(np.pi * (t - 5) / 20)) / 2)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def one_cycle_closed_form(t, total, max_lr, pct, div, final_div, anneal):
    initial, peak_step = max_lr / div, pct * total - 1
    minimum = initial / final_div
    if t <= peak_step:
        start, end, frac = initial, max_lr, t / peak_step
    else:
        start, end, frac = max_lr, minimum, (t - peak_step) / (total - 1 - peak_step)
    if anneal == "cos":
        return end + (start - end) * (1 + math.cos(math.pi * frac)) / 2
    return start + (end - start) * frac


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_phases(anneal):
    total, max_lr = 100, 0.8
    sched = OneCycleLR(optimizer((0.1,)), max_lr=max_lr, total_steps=total,
                       anneal_strategy=anneal)
    got = lr_trace(sched, total)[:, 0]
    want = [one_cycle_closed_form(t, total, max_lr, 0.3, 25.0, 1e4, anneal)
            for t in range(total)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[0] == pytest.approx(max_lr / 25.0)           # starts at max_lr / div_factor
    assert got.argmax() == 29 and got[29] == pytest.approx(max_lr)  # peak at pct_start
    assert got[-1] == pytest.approx(max_lr / 25.0 / 1e4)     # ends at initial / final_div


def test_one_cycle_cycles_momentum_inversely():
    sched = OneCycleLR(optimizer((0.1,), momentum=0.9), max_lr=1.0, epochs=4,
                       steps_per_epoch=10)
    momenta = []
    for t in range(40):
        momenta.append(sched.optimizer.param_groups[0]["momentum"])
        if t < 39:
            sched.step()
    assert momenta[0] == pytest.approx(0.95) and momenta[-1] == pytest.approx(0.95)
    assert np.argmin(momenta) == 11 and momenta[11] == pytest.approx(0.85)  # 0.3 * 40 - 1


def test_one_cycle_cycles_adam_beta1_and_keeps_beta2():
    opt = optimizer((0.1,), cls=Adam, betas=(0.9, 0.99))
    OneCycleLR(opt, max_lr=0.01, total_steps=10, base_momentum=0.8, max_momentum=0.9)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)


def test_one_cycle_three_phase_is_symmetric_then_anneals():
    total = 50
    got = lr_trace(OneCycleLR(optimizer(), max_lr=1.0, total_steps=total, three_phase=True,
                              anneal_strategy="linear"), total)[:, 0]
    initial = 1.0 / 25
    np.testing.assert_allclose(got[:15], initial + (1 - initial) * np.arange(15) / 14, rtol=1e-12)
    np.testing.assert_allclose(got[14:29], got[14::-1], rtol=1e-12)   # mirror of phase 1
    np.testing.assert_allclose(got[28:], initial + (initial / 1e4 - initial) * np.arange(22) / 21,
                               rtol=1e-12)


def test_one_cycle_refuses_stepping_past_total_steps():
    sched = OneCycleLR(optimizer(), max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times.*total steps is 3"):
        sched.step()


# --- saving and resuming ----------------------------------------------------------------------
def make_schedulers():
    """Fresh (optimizer, scheduler) pairs for each scheduler type."""
    def seq(opt):
        return SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=4),
                                  StepLR(opt, step_size=3, gamma=0.7)], milestones=[4])
    return {
        "step": lambda opt: StepLR(opt, step_size=3, gamma=0.5),
        "cosine": lambda opt: CosineAnnealingLR(opt, T_max=17, eta_min=1e-4),
        "linear": lambda opt: LinearLR(opt, start_factor=0.2, total_iters=10),
        "lambda": lambda opt: LambdaLR(opt, lambda e: 0.95**e),
        "sequential": seq,
        "one-cycle": lambda opt: OneCycleLR(opt, max_lr=[0.5, 0.3], total_steps=30),
    }


def train(opt, sched, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = tt.tensor(rng.standard_normal(p.shape))
        opt.step()
        sched.step()


@pytest.mark.parametrize("name", make_schedulers())
def test_scheduler_state_dict_round_trip_is_bit_for_bit(name):
    factory = make_schedulers()[name]

    def setup(values):
        params = [tt.tensor(v, requires_grad=True) for v in values]
        opt = SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1,
                  momentum=0.9)
        return params, opt, factory(opt)

    rng = np.random.default_rng(0)
    params, opt, sched = setup([rng.standard_normal(4), rng.standard_normal((2, 3))])
    train(opt, sched, params, 8, seed=1)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    values, lr_at_save = [p.data.copy() for p in params], sched.get_last_lr()
    train(opt, sched, params, 12, seed=2)

    fresh, opt2, sched2 = setup(values)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.last_epoch == 8 and sched2.get_last_lr() == lr_at_save
    train(opt2, sched2, fresh, 12, seed=2)
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    for a, b in zip(params, fresh):
        np.testing.assert_array_equal(a.data, b.data)


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match=r"initial_lr.*param_groups\[0\]"):
        StepLR(optimizer(), step_size=2, last_epoch=5)


def test_resuming_with_last_epoch_continues_the_closed_form():
    opt = optimizer((0.2,))
    for group in opt.param_groups:
        group["initial_lr"] = 0.2
    sched = StepLR(opt, step_size=2, gamma=0.5, last_epoch=5)
    assert sched.last_epoch == 6 and sched.get_last_lr() == [0.2 * 0.5**3]


@pytest.mark.parametrize("make, fragment", [
    (lambda o: StepLR(o, step_size=0), "step_size must be a positive integer"),
    (lambda o: CosineAnnealingLR(o, T_max=0), "T_max must be positive"),
    (lambda o: LinearLR(o, start_factor=0), "start_factor=0"),
    (lambda o: LinearLR(o, end_factor=1.5), "end_factor=1.5"),
    (lambda o: LambdaLR(o, [lambda e: 1, lambda e: 1]), "Expected 1 lr_lambdas, but got 2"),
    (lambda o: OneCycleLR(o, max_lr=1.0), "total_steps OR"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=-3), "total_steps, but got -3"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.2), "got 1.2"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"), "'exp'"),
    (lambda o: OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=9), "got 2 values for 1 groups"),
    (lambda o: SequentialLR(o, [StepLR(o, 2)], milestones=[3]), "1 milestones and 1 schedulers"),
])
def test_bad_scheduler_arguments(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make(optimizer())


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        StepLR([], step_size=1)


def test_sequential_refuses_a_scheduler_of_another_optimizer():
    a, b = optimizer(), optimizer()
    with pytest.raises(ValueError, match=r"schedulers\[1\] \(StepLR\)"):
        SequentialLR(a, [StepLR(a, 2), StepLR(b, 2)], milestones=[3])


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    opt = optimizer()
    del opt.defaults["momentum"]  # like an optimizer that has no momentum option at all
    with pytest.raises(ValueError, match="momentum or beta1"):
        OneCycleLR(opt, max_lr=1.0, total_steps=5)

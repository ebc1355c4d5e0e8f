"""state_dict round trips resume bit for bit; updates are in place and allocate nothing large."""

import tracemalloc

import numpy as np
import pytest
import tt_tensor as tt
from tt_optimizers import SGD, Adam, AdamW

FACTORIES = {
    "sgd-momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd-nesterov": lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=1e-2, weight_decay=0.01),
    "adam-amsgrad": lambda ps: Adam(ps, lr=1e-2, amsgrad=True),
    "adamw": lambda ps: AdamW(ps, lr=1e-2),
}


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return [tt.tensor(rng.standard_normal((4, 5)), requires_grad=True),
            tt.tensor(rng.standard_normal(7), requires_grad=True),
            tt.tensor(rng.standard_normal(3), requires_grad=True)]


def grad_stream(seed, steps, params):
    """Fixed gradients per step; the last parameter gets no gradient on even steps."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(p.shape) if (i != 2 or t % 2) else None
             for i, p in enumerate(params)] for t in range(steps)]


def run_steps(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else tt.tensor(g)
        opt.step()


def two_groups(factory, params):
    return factory([{"params": params[:2]}, {"params": params[2:], "lr": 0.2}])


@pytest.mark.parametrize("name", FACTORIES)
def test_state_dict_round_trip_resumes_bit_for_bit(name):
    factory = FACTORIES[name]
    params = make_params()
    first, rest = grad_stream(1, 5, params), grad_stream(2, 6, params)
    opt = two_groups(factory, params)
    run_steps(opt, params, first)
    saved = opt.state_dict()
    saved_values = [p.data.copy() for p in params]
    run_steps(opt, params, rest)

    fresh = [tt.tensor(v, requires_grad=True) for v in saved_values]
    resumed = two_groups(factory, fresh)
    resumed.load_state_dict(saved)
    run_steps(resumed, fresh, rest)
    for i, (a, b) in enumerate(zip(params, fresh)):
        np.testing.assert_array_equal(a.data, b.data, err_msg=f"parameter {i}")
    for p, q in zip(params, fresh):
        assert opt.state[p].keys() == resumed.state[q].keys()


def test_state_dict_layout_is_pytorchs():
    params = make_params()
    opt = two_groups(FACTORIES["adam"], params)
    run_steps(opt, params, grad_stream(3, 2, params))
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.2
    assert set(sd["state"]) == {0, 1, 2}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_state_dict_copies_arrays():
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9)
    run_steps(opt, params, grad_stream(4, 2, params))
    sd = opt.state_dict()
    saved = sd["state"][0]["momentum_buffer"].copy()
    run_steps(opt, params, grad_stream(5, 2, params))
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], saved)
    assert sd["state"][0]["momentum_buffer"] is not opt.state[params[0]]["momentum_buffer"]
    sd["param_groups"][0]["lr"] = 99.0
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_rejects_other_group_layouts_and_changes_nothing():
    params = make_params()
    opt = two_groups(FACTORIES["adam"], params)
    run_steps(opt, params, grad_stream(6, 2, params))
    sd = opt.state_dict()
    other = Adam(make_params(1), lr=1e-2)
    with pytest.raises(ValueError, match="has 2 parameter groups, this optimizer has 1"):
        other.load_state_dict(sd)
    smaller = Adam([{"params": make_params(1)[:1]}, {"params": make_params(1)[2:]}])
    with pytest.raises(ValueError, match="group 0 has 2 parameters.*group 0 has 1"):
        smaller.load_state_dict(sd)
    reshaped = [tt.zeros(5, 4, requires_grad=True)] + make_params(1)[1:]
    target = two_groups(FACTORIES["adam"], reshaped)
    lr_before = [g["lr"] for g in target.param_groups]
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(4, 5\).*\(5, 4\)"):
        target.load_state_dict(sd)
    assert len(target.state) == 0 and [g["lr"] for g in target.param_groups] == lr_before


# --- in place ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FACTORIES)
def test_step_updates_the_same_arrays_in_place(name):
    params = make_params()
    arrays = [p.data for p in params]
    opt = FACTORIES[name](params)
    run_steps(opt, params, grad_stream(7, 1, params))
    state_arrays = {(i, k): v for i, p in enumerate(params) for k, v in opt.state[p].items()
                    if isinstance(v, np.ndarray)}
    assert state_arrays, "the optimizer keeps per-parameter arrays"
    run_steps(opt, params, grad_stream(8, 4, params))
    assert all(p.data is a for p, a in zip(params, arrays))
    for (i, k), v in state_arrays.items():
        assert opt.state[params[i]][k] is v, f"state {k!r} of parameter {i} was reallocated"


def test_tracemalloc_sees_numpy_allocations():
    # guard for the test below: a real temporary of a parameter's size must show up
    x = np.ones(1 << 16, dtype=np.float32)
    tracemalloc.start()
    y = x * 2.0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert y.nbytes <= peak


@pytest.mark.parametrize("name", FACTORIES)
def test_a_step_after_warmup_allocates_nothing_large(name):
    rng = np.random.default_rng(9)
    params = [tt.tensor(rng.standard_normal(1 << 16), requires_grad=True),
              tt.tensor(rng.standard_normal((100, 10)), requires_grad=True)]
    opt = FACTORIES[name](params)
    for p in params:
        p.grad = tt.tensor(rng.standard_normal(p.shape))
    opt.step()  # warmup: state and scratch buffers are allocated here, once
    tracemalloc.start()
    opt.step()
    opt.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < params[0].data.nbytes / 16, f"a step allocated {peak} bytes"


# --- the user's gradients are read, never written -------------------------------------------
UNTOUCHED = {**FACTORIES,
             "sgd-plain": lambda ps: SGD(ps, lr=0.05),
             "sgd-momentum-only": lambda ps: SGD(ps, lr=0.05, momentum=0.9),
             "sgd-decay": lambda ps: SGD(ps, lr=0.05, weight_decay=0.1),
             "adamw-decay": lambda ps: AdamW(ps, lr=1e-2, weight_decay=0.1)}


def gradients_changed_by_steps(factory, steps=4):
    """Run `steps` steps with fresh gradient arrays; name every array a step wrote into."""
    params = make_params()
    opt = factory(params)
    given = []  # (step, parameter index, the array handed over, a copy of its values)
    for t, step_grads in enumerate(grad_stream(3, steps, params)):
        for i, (p, g) in enumerate(zip(params, step_grads)):
            p.grad = None if g is None else tt.tensor(g)
            if g is not None:
                given.append((t, i, p.grad.data, p.grad.data.copy()))
        opt.step()
    return [f"step {t} parameter {i}" for t, i, array, values in given
            if not np.array_equal(array, values)]


@pytest.mark.parametrize("name", UNTOUCHED)
def test_step_never_modifies_the_users_gradients(name):
    # later steps included: a momentum buffer that IS the first gradient is written by step 2
    assert gradients_changed_by_steps(UNTOUCHED[name]) == []


class _SGDKeepingTheGradient(SGD):
    """A broken SGD: the first gradient itself becomes the momentum buffer."""

    def _update(self, param, grad, state, group):
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = grad  # no copy: the bug
        else:
            buf *= group["momentum"]
            buf += grad
        param -= group["lr"] * buf


class _AdamDecayingIntoTheGradient(Adam):
    """A broken Adam: L2 decay added into the user's gradient array."""

    def _update(self, param, grad, state, group):
        grad += group["weight_decay"] * param  # the bug
        super()._update(param, grad, state, group)


@pytest.mark.parametrize("broken", [
    lambda ps: _SGDKeepingTheGradient(ps, lr=0.05, momentum=0.9),
    lambda ps: _AdamDecayingIntoTheGradient(ps, lr=1e-2, weight_decay=0.01),
])
def test_the_gradient_check_catches_optimizers_that_write_into_them(broken):
    assert gradients_changed_by_steps(broken) != []

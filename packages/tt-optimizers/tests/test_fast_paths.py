"""Adam's and AdamW's fast path (fused.py: every parameter of a group at once, in blocks on
worker threads) equals Adam._update run parameter by parameter, over several steps."""

import tracemalloc

import numpy as np
import pytest
import tt_tensor as tt

import tt_optimizers
from tt_optimizers import Adam, AdamW, fast_paths_enabled, use_fast_paths


@pytest.fixture(autouse=True)
def restore_setting():
    before = fast_paths_enabled()
    yield
    use_fast_paths(before, threads=None)


FACTORIES = {
    "adamw": lambda ps: AdamW(ps, lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1),
    "adamw-groups": lambda ps: AdamW([{"params": ps[:2]}, {"params": ps[2:],
                                                            "weight_decay": 0.0}], lr=3e-3),
    "adam-l2": lambda ps: Adam(ps, lr=1e-2, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=1e-2),
}
# sizes: one parameter larger than a block (2^15) and a worker's share, small ones around it
SHAPES = [(300, 250), (7,), (64, 128), (3, 5), (40000,)]


def run(factory, dtype, fast, threads, steps=4):
    """Parameters and moments after `steps` steps of fixed gradients (the third parameter
    has none on even steps)."""
    use_fast_paths(fast, threads=threads)
    rng = np.random.default_rng(0)
    params = [tt.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True)
              for s in SHAPES]
    opt = factory(params)
    for t in range(steps):
        for i, p in enumerate(params):
            g = rng.standard_normal(p.shape).astype(dtype)
            p.grad = None if (i == 2 and t % 2 == 0) else tt.tensor(g, dtype=dtype)
        opt.step()
    moments = [opt.state[p][key] for p in params for key in ("exp_avg", "exp_avg_sq")]
    return [p.data for p in params] + moments, [opt.state[p]["step"] for p in params]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("name", FACTORIES)
def test_fast_step_equals_the_plain_update(name, dtype, rtol, threads):
    plain, plain_steps = run(FACTORIES[name], dtype, fast=False, threads=1)
    fast, fast_steps = run(FACTORIES[name], dtype, fast=True, threads=threads)
    assert fast_steps == plain_steps == [4, 4, 2, 4, 4]
    for a, b in zip(fast, plain):
        assert a.dtype == b.dtype == dtype and a.flags.c_contiguous
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)


def test_amsgrad_and_mixed_dtypes_take_the_plain_update():
    # the fast path leaves these to _update (nothing changed, then the plain path runs)
    for make in (lambda ps: Adam(ps, lr=1e-2, amsgrad=True), lambda ps: AdamW(ps, lr=1e-2)):
        results = []
        for fast in (False, True):
            use_fast_paths(fast, threads=2)
            params = [tt.tensor(np.linspace(-1, 1, 40000), dtype=tt.float64, requires_grad=True),
                      tt.tensor(np.linspace(0, 1, 9), dtype=tt.float32, requires_grad=True)]
            opt = make(params)
            for p in params:
                p.grad = tt.tensor(np.cos(p.data * 3), dtype=p.dtype)
            opt.step()
            opt.step()
            results.append([p.data for p in params])
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_fast_step_with_workers_allocates_nothing_large_and_stays_in_the_scratch_bound():
    use_fast_paths(True, threads=2)
    rng = np.random.default_rng(1)
    params = [tt.tensor(rng.standard_normal(1 << 17), requires_grad=True),
              tt.tensor(rng.standard_normal((300, 100)), requires_grad=True)]
    opt = AdamW(params, lr=1e-3)
    for p in params:
        p.grad = tt.tensor(rng.standard_normal(p.shape))
    opt.step()  # warm-up: moments, scratch and worker threads start here
    tracemalloc.start()
    opt.step()
    opt.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    largest = params[0].data.nbytes
    assert peak < largest / 16, f"a step allocated {peak} bytes"
    scratch = sum(buffer.nbytes for buffer in opt._scratch_buffers.values())
    assert scratch <= 2 * largest  # the README's bound: two slots as large as the largest


def test_a_wrong_gradient_shape_is_refused_before_any_parameter_changes():
    use_fast_paths(True)
    params = [tt.tensor(np.ones(4), requires_grad=True), tt.tensor(np.ones(3), requires_grad=True)]
    opt = AdamW(params, lr=0.1)
    params[0].grad = tt.tensor(np.ones(4))
    params[1].grad = tt.tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\).*parameter of shape \(3,\)"):
        opt.step()
    assert np.all(params[0].data == 1.0) and len(opt.state) == 0


def test_bad_thread_counts_are_refused():
    for bad in (0, -2, 2.0, True):
        with pytest.raises(ValueError, match="threads"):
            use_fast_paths(True, threads=bad)


def test_the_fast_paths_start_on_only_in_the_reference_build():
    # A learner's own package (version +own) starts on its _update, so training runs the
    # learner's code; the reference starts on its fast path.
    own = "+own" in tt_optimizers.__version__
    assert fast_paths_enabled() is not own

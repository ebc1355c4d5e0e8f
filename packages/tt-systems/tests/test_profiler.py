"""The Profiler: records, totals, tables, module attribution, and hooks gone after exit."""

import re
import threading

import numpy as np
import pytest
from tt_layers import Linear, ReLU
from tt_networks import Sequential, cross_entropy
from tt_systems import Profiler
from tt_tensor import hooks_active, randn, tensor


def small_step(model, x, y):
    cross_entropy(model(x), y).backward()


@pytest.fixture
def mlp_profile():
    np.random.seed(0)
    model = Sequential(Linear(20, 16), ReLU(), Linear(16, 4))
    x, y = randn(8, 20), tensor(np.random.randint(0, 4, 8))
    with Profiler(model) as prof:
        small_step(model, x, y)
    return model, prof


def rows_of(table):
    """The data rows of a rendered op table: [name, phase?, calls, ms, %, MFLOP, GFLOP/s, MB]."""
    return [line.split() for line in table.splitlines()[2:]]


def test_records_add_up_to_the_summary(mlp_profile):
    _, prof = mlp_profile
    s = prof.summary()
    for field in ("calls", "seconds", "flops", "bytes"):
        fwd = sum(getattr(r, field) for r in prof.records if r.phase == "forward")
        bwd = sum(getattr(r, field) for r in prof.records if r.phase == "backward")
        assert s["forward"][field] == pytest.approx(fwd)
        assert s["backward"][field] == pytest.approx(bwd)
        assert s["total"][field] == pytest.approx(fwd + bwd)
    assert s["forward"]["calls"] > 0 and s["backward"]["calls"] > 0
    assert 0 < s["total"]["seconds"] <= s["wall_seconds"]


@pytest.mark.parametrize("top", [None, 3])
def test_table_rows_sum_to_the_totals_row(mlp_profile, top):
    _, prof = mlp_profile
    rows = rows_of(prof.table(top=top))
    *body, total = rows
    assert total[0] == "total"
    n_records = len(prof.records)
    assert len(body) == (n_records if top is None else top + 1)    # + the "(N more)" row
    calls = [int(r[-6]) for r in body]
    assert sum(calls) == int(total[-6]) == prof.summary()["total"]["calls"]
    ms = [float(r[-5]) for r in body]
    assert sum(ms) == pytest.approx(float(total[-5]), abs=1e-3 * len(body))
    mflop = [float(r[-3]) for r in body]
    assert sum(mflop) == pytest.approx(prof.summary()["total"]["flops"] / 1e6,
                                       abs=1e-3 * len(body))


def test_table_sorts_by_the_requested_column(mlp_profile):
    _, prof = mlp_profile
    body = rows_of(prof.table(sort_by="flops", top=None))[:-1]
    mflop = [float(r[-3]) for r in body]
    assert mflop == sorted(mflop, reverse=True)
    assert re.match(r"matmul\s+(forward|backward)", prof.table(sort_by="flops").splitlines()[2])


@pytest.mark.parametrize("kwargs", [{"sort_by": "speed"}, {"top": 0}, {"by": "layer"},
                                    {"phase": "both"}])
def test_table_rejects_bad_arguments(mlp_profile, kwargs):
    _, prof = mlp_profile
    with pytest.raises(ValueError, match=list(kwargs)[0]):
        prof.table(**kwargs)


def test_module_records_are_inclusive_and_named_by_path(mlp_profile):
    model, prof = mlp_profile
    records = {r.name: r for r in prof.module_records}
    assert set(records) == {"Sequential", "0", "1", "2"}
    children = [records[k] for k in ("0", "1", "2")]
    root = records["Sequential"]
    assert root.flops == sum(r.flops for r in children)
    assert root.bytes == sum(r.bytes for r in children)
    assert records["0"].type == "Linear" and records["0"].calls == 1
    assert root.seconds >= max(r.seconds for r in children)
    # every backward op of the model was recorded by one of its layers' forwards
    layer_bwd = sum(r.backward_flops for r in children)
    assert root.backward_flops == layer_bwd > 0
    assert "(inclusive" in prof.table(by="module")


def test_phase_filter_keeps_one_phase(mlp_profile):
    _, prof = mlp_profile
    body = rows_of(prof.table(phase="backward", top=None))[:-1]
    assert body and all(r[1] == "backward" for r in body)


def test_hooks_are_removed_on_exit_so_nothing_more_is_recorded():
    layer = Linear(4, 3)
    with Profiler(layer) as prof:
        assert hooks_active()
        layer(randn(2, 4))
    assert not hooks_active()
    before = prof.summary()
    modules_before = [(r.name, r.calls) for r in prof.module_records]
    layer(randn(2, 4))                                 # outside: must not be recorded
    assert prof.summary() == before
    assert [(r.name, r.calls) for r in prof.module_records] == modules_before


def test_hooks_are_removed_even_when_the_block_raises():
    with pytest.raises(ValueError):
        with Profiler():
            Linear(4, 3)(randn(2, 5))                  # wrong input size
    assert not hooks_active()


def test_a_profiler_cannot_be_entered_twice():
    prof = Profiler()
    with prof:
        with pytest.raises(RuntimeError, match="already running"):
            prof.__enter__()


def test_other_threads_are_not_recorded():
    layer = Linear(4, 3)
    seen = []
    with Profiler() as prof:
        # the profiler's hooks are not even registered for the other thread: its ops run free
        worker = threading.Thread(target=lambda: seen.append((hooks_active(), layer(randn(2, 4)))))
        worker.start()
        worker.join(timeout=10)
        assert hooks_active()
    assert prof.summary()["total"]["calls"] == 0
    assert len(seen) == 1 and seen[0][0] is False


def test_two_threads_profiling_at_once_record_only_their_own_ops():
    """Hooks are per thread: each profiler sees its own thread's forward ops and modules."""
    barrier = threading.Barrier(2, timeout=30)
    profiles = {}

    def work(name, layers, calls):
        model = Sequential(*layers)
        with Profiler(model) as prof:
            barrier.wait()  # both profilers are running before either thread computes
            for _ in range(calls):
                model(randn(2, 4))
            barrier.wait()
        profiles[name] = prof

    threads = [threading.Thread(target=work, args=("relu", [Linear(4, 4), ReLU()], 7)),
               threading.Thread(target=work, args=("linear", [Linear(4, 3)], 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ops = {name: {r.name: r.calls for r in prof.records} for name, prof in profiles.items()}
    linear = {"matmul": 1, "permute": 1, "add": 1}  # x @ W.T + b
    with Profiler() as alone:
        ReLU()(randn(2, 4))
    relu = {r.name: r.calls for r in alone.records}
    assert ops["linear"] == {op: 5 * n for op, n in linear.items()}
    assert ops["relu"] == {op: 7 * (linear.get(op, 0) + relu.get(op, 0))
                           for op in set(linear) | set(relu)}
    modules = {name: {r.name: r.calls for r in prof.module_records}
               for name, prof in profiles.items()}
    assert modules["linear"] == {"Sequential": 5, "0": 5}
    assert modules["relu"] == {"Sequential": 7, "0": 7, "1": 7}


def test_without_a_model_modules_go_by_class_name():
    layers = Sequential(Linear(4, 4), Linear(4, 2))
    with Profiler() as prof:
        layers(randn(3, 4))
    records = {r.name: r for r in prof.module_records}
    assert records["Linear"].calls == 2
    assert records["Sequential"].calls == 1

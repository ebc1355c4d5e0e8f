"""Given code: `FastPathSwitch`, the switch behind every package's `use_fast_paths` and
`fast_paths_enabled`: its default by version, on/off, the thread count and its checks, and
the worker pool (lazy, reused, shut down)."""

import inspect
import os
import re
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import tt_tensor as tt


def names_alive(prefix):
    """Names of the live threads whose name starts with `prefix`."""
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(prefix))


@pytest.fixture
def switch(request):
    made = tt.FastPathSwitch(f"tt_test_{request.node.name[:20]}", "0.3.0")
    yield made
    made.shutdown()


@pytest.mark.parametrize("version, on", [("0.3.0", True), ("1.2.10", True),
                                         ("0.3.0+own", False), ("0.1.0+own.2", False)])
def test_the_reference_starts_on_and_an_own_build_off(version, on):
    assert tt.FastPathSwitch.on_by_default(version) is on
    assert tt.FastPathSwitch("tt_x", version).enabled is on


def test_use_switches_and_returns_the_previous_setting(switch):
    assert switch.use(False) is True and switch.enabled is False
    assert switch.use(False) is False and switch.enabled is False
    assert switch.use() is False and switch.enabled is True       # enabled=True by default
    assert switch.use(0) is True and switch.enabled is False       # any value, as a bool


@pytest.mark.parametrize("bad", [0, -3, 2.0, 1.5, True, False, "2"])
def test_a_bad_thread_count_is_refused_by_name_and_changes_nothing(switch, bad):
    switch.use(True, threads=2)
    with pytest.raises(ValueError, match=re.escape(f"threads must be a positive int, got {bad!r}")):
        switch.use(False, threads=bad)
    assert switch.enabled is True and switch.threads == 2


def test_threads_come_from_use_else_the_environment(switch, monkeypatch):
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    assert switch.threads == 1
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert switch.threads == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "5")                    # OMP first
    assert switch.threads == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "0")                    # not positive: skipped
    assert switch.threads == 3
    switch.use(True, threads=2)
    assert switch.threads == 2
    switch.use(True, threads=None)
    assert switch.threads == 3


def test_chunks_cover_the_range_once_in_order(switch):
    switch.use(True, threads=3)
    for n in (1, 2, 3, 7, 100):
        seen = []
        switch.run_chunks(lambda lo, hi: seen.append((lo, hi)), n)
        seen.sort()
        assert seen[0][0] == 0 and seen[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(seen, seen[1:]))  # contiguous, no overlap
        assert len(seen) == min(3, n) and all(hi > lo for lo, hi in seen)


def test_workers_are_limited_by_size_per_worker(switch):
    switch.use(True, threads=4)
    for size, workers in [(99, 1), (100, 1), (200, 2), (350, 3), (10_000, 4)]:
        seen = []
        switch.run_chunks(lambda lo, hi: seen.append((lo, hi)), 8, size=size, min_per_worker=100)
        assert len(seen) == workers


def test_chunks_run_on_the_workers_and_give_the_same_result(switch):
    x = np.random.default_rng(0).standard_normal(10_001)
    out = np.empty_like(x)

    def work(lo, hi):
        np.exp(x[lo:hi], out=out[lo:hi])

    switch.use(True, threads=3)
    switch.run_chunks(work, x.size)
    np.testing.assert_array_equal(out, np.exp(x))


def test_no_thread_starts_before_work_needs_two(switch):
    assert names_alive(switch.name) == []
    switch.use(True, threads=4)
    switch.run_chunks(lambda lo, hi: None, 1)                  # one chunk: inline
    switch.run_chunks(lambda lo, hi: None, 50, min_per_worker=50)
    assert names_alive(switch.name) == []
    inline = []
    switch.run_chunks(lambda lo, hi: inline.append(threading.get_ident()), 1)
    assert inline == [threading.get_ident()]


def test_the_pool_is_reused_and_shut_down(switch):
    switch.use(True, threads=3)
    ran, gate = [], threading.Barrier(3, timeout=10)

    def work(lo, hi):
        gate.wait()                                            # all three chunks at once
        ran.append((lo, threading.current_thread().name))

    switch.run_chunks(work, 3)
    me = threading.current_thread().name
    assert dict(ran)[0] == me                                  # the first chunk: the caller's
    pool = {name for _, name in ran} - {me}
    assert len(pool) == 2 and all(name.startswith(switch.name) for name in pool)
    ran.clear()
    switch.run_chunks(work, 3)
    assert {name for _, name in ran} - {me} == pool            # the same two threads
    switch.shutdown()
    assert names_alive(switch.name) == []
    ran.clear()
    switch.run_chunks(work, 3)                                 # usable again: a new pool
    assert len({name for _, name in ran}) == 3


def test_a_new_thread_count_replaces_the_pool(switch):
    switch.use(True, threads=2)
    switch.run_chunks(lambda lo, hi: None, 2)
    assert len(names_alive(switch.name)) <= 1                  # the caller is the other
    switch.use(True, threads=3)
    ran, gate = set(), threading.Barrier(3, timeout=10)

    def work(lo, hi):
        gate.wait()
        ran.add(threading.current_thread().name)

    switch.run_chunks(work, 3)
    assert len(ran) == 3
    switch.shutdown()  # waits for the new pool's threads; the old pool's were let go unwaited
    deadline = time.monotonic() + 10
    while names_alive(switch.name) and time.monotonic() < deadline:
        time.sleep(0.01)  # a busy machine may take a moment to end them
    assert names_alive(switch.name) == []


def test_a_worker_error_is_raised_to_the_caller(switch):
    switch.use(True, threads=2)

    def work(lo, hi):
        if lo > 0:
            raise KeyError(f"chunk {lo}:{hi}")

    with pytest.raises(KeyError, match="chunk 2:4"):
        switch.run_chunks(work, 4)
    finished = []

    def slow_then_fail(lo, hi):
        if lo == 0:
            raise KeyError("first chunk")
        time.sleep(0.2)
        finished.append(lo)

    with pytest.raises(KeyError, match="first chunk"):  # raised on the calling thread
        switch.run_chunks(slow_then_fail, 4)
    assert finished == [2]  # the other chunk ended before the error reached the caller


def test_a_forked_child_starts_its_own_pool(switch):
    switch.use(True, threads=2)
    gate = threading.Barrier(2, timeout=10)
    switch.run_chunks(lambda lo, hi: gate.wait(), 2)           # the parent's two threads
    with warnings.catch_warnings():  # 3.12+ warns on fork with threads alive: that is the case
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: the parent's threads are not here; a hang would be the bug
        out = np.zeros(4)
        try:
            switch.run_chunks(lambda lo, hi: out.__setitem__(slice(lo, hi), 1.0), 4)
            os._exit(0 if out.sum() == 4.0 else 1)
        except BaseException:
            os._exit(2)
    for _ in range(200):                                       # 10 s, then it hangs
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("a forked child's run_chunks hung on its parent's pool")
    assert os.waitstatus_to_exitcode(status) == 0


def test_functions_are_the_package_switch_with_its_signature_and_docs(switch):
    use_fast_paths, fast_paths_enabled = switch.functions("the fused op", "its rows")
    assert str(inspect.signature(use_fast_paths)) == "(enabled=True, threads=None)"
    assert str(inspect.signature(fast_paths_enabled)) == "()"
    assert use_fast_paths(False) is True and fast_paths_enabled() is False
    assert switch.enabled is False                              # one state, not a copy
    assert use_fast_paths(threads=3) is False and fast_paths_enabled() is True
    assert switch.threads == 3
    with pytest.raises(ValueError, match="got -1"):
        use_fast_paths(True, threads=-1)
    assert "the fused op" in use_fast_paths.__doc__ and "its rows" in use_fast_paths.__doc__
    assert "the fused op" in fast_paths_enabled.__doc__
    for function, name in [(use_fast_paths, "use_fast_paths"),
                           (fast_paths_enabled, "fast_paths_enabled")]:
        assert (function.__module__, function.__qualname__) == (switch.name, name)


def test_functions_say_when_the_threads_are_unused(switch):
    use_fast_paths, _ = switch.functions("the fused loss")
    assert "unused" in use_fast_paths.__doc__
    assert use_fast_paths(True, threads=2) is True and switch.threads == 2  # still checked


def _package_with_a_switch(name, version="1.0"):
    """A stand-in for a package with fast paths: a module object holding its two functions."""
    import types

    module = types.ModuleType(name)
    module.use_fast_paths, module.fast_paths_enabled = tt.FastPathSwitch(
        name, version).functions(f"{name}'s fused ops")
    return module


def test_fast_paths_off_turns_each_switch_off_and_back_whatever_the_block_raises():
    on, off = _package_with_a_switch("tt_a"), _package_with_a_switch("tt_b", "1.0+own")
    assert (on.fast_paths_enabled(), off.fast_paths_enabled()) == (True, False)
    with tt.fast_paths_off(on, off):
        assert (on.fast_paths_enabled(), off.fast_paths_enabled()) == (False, False)
    assert (on.fast_paths_enabled(), off.fast_paths_enabled()) == (True, False)
    with pytest.raises(KeyError, match="inside"):
        with tt.fast_paths_off(on):
            raise KeyError("inside")
    assert on.fast_paths_enabled() is True


def test_fast_paths_off_leaves_a_module_without_a_switch_alone():
    import types

    plain = types.ModuleType("tt_own")  # a learner's build with no fast paths at all
    with tt.fast_paths_off(plain):
        assert not hasattr(plain, "use_fast_paths")

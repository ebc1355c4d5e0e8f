"""Task 8: observing ops (add_op_hook) and the fused-op extension point (Function)."""

import threading

import numpy as np
import pytest

import tt_tensor as tt


@pytest.fixture
def events():
    """Every OpEvent reported while the test runs; the hook is removed afterwards."""
    seen = []
    handle = tt.add_op_hook(seen.append)
    yield seen
    handle.remove()


# --- op hooks --------------------------------------------------------------------------------
def test_hook_sees_each_primitive_with_its_tensors(events):
    x, y = tt.randn(2, 3), tt.randn(2, 3)
    out = x + y
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, tt.OpEvent)
    assert (event.op, event.phase) == ("add", "forward")
    assert event.inputs[0] is x and event.inputs[1] is y
    assert event.output is out
    assert isinstance(event.seconds, float) and event.seconds >= 0.0


def test_hook_sees_composed_ops_as_their_primitives(events):
    x = tt.randn(4, 5)
    out = x.mean()
    assert [e.op for e in events] == ["sum", "div"]
    assert events[0].inputs[0] is x and events[-1].output is out


def test_hook_sees_ops_without_grad_too(events):
    with tt.no_grad():
        tt.exp(tt.randn(3, requires_grad=True))
    assert [e.op for e in events] == ["exp"]


def test_removed_hook_sees_nothing():
    seen = []
    handle = tt.add_op_hook(seen.append)
    assert tt.hooks_active()
    tt.randn(2) * 2.0
    handle.remove()
    tt.randn(2) * 2.0
    assert [e.op for e in seen] == ["mul"]
    assert not tt.hooks_active()
    handle.remove()  # removing twice is harmless


def test_hook_handle_as_context_manager():
    seen = []
    with tt.add_op_hook(seen.append):
        tt.ones(2).sum()
    tt.ones(2).sum()
    assert [e.op for e in seen] == ["sum"]
    assert not tt.hooks_active()


def test_context_hooks_registry_counts_and_keeps_contexts_apart():
    op_hooks = tt.hooks_active()
    hooks = tt.ContextHooks("test_registry")
    first = hooks.add(min)
    assert isinstance(first, tt.HookHandle) and hooks.get() == (min,)
    seen = []
    worker = threading.Thread(target=lambda: seen.append((hooks.get(), hooks.registered)))
    worker.start()
    worker.join()
    assert seen == [((), 1)]  # a new thread has none of this thread's hooks; the count is global
    with hooks.add(max):
        assert hooks.get() == (min, max) and hooks.registered == 2
    first.remove()
    first.remove()  # removing twice is harmless
    assert hooks.get() == () and hooks.registered == 0
    assert tt.hooks_active() == op_hooks  # a registry of its own: op hooks are untouched


def test_no_hook_no_events():
    assert not tt.hooks_active()


def test_two_hooks_both_see_every_op():
    first, second = [], []
    with tt.add_op_hook(first.append), tt.add_op_hook(second.append):
        tt.ones(2, 2) @ tt.ones(2, 2)
    assert [e.op for e in first] == [e.op for e in second] == ["matmul"]


def test_add_op_hook_needs_a_callable():
    with pytest.raises(TypeError, match="callable"):
        tt.add_op_hook("not a function")


def test_event_inputs_are_tensors(events):
    x = tt.randn(2, 3)
    x.sum(1)
    x * 2.0
    tt.cat([x, x])
    x.reshape(3, 2)
    assert [e.op for e in events] == ["sum", "mul", "concatenate", "reshape"]
    for event in events:
        assert all(isinstance(t, tt.Tensor) for t in event.inputs), (event.op, event.inputs)
        assert any(t is x for t in event.inputs), event.op


# --- the Function extension point -------------------------------------------------------------
class Square(tt.Function):
    """A fused x * x: forward saves its input for backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return a * a

    @staticmethod
    def backward(ctx, grad):
        return (2.0 * ctx.a * grad,)


class Scale(tt.Function):
    """x * factor, with the factor as a keyword attribute."""

    @staticmethod
    def forward(ctx, a, factor=1.0):
        ctx.factor = factor
        return a * factor

    @staticmethod
    def backward(ctx, grad):
        return (grad * ctx.factor,)


class SumOfSquares(tt.Function):
    """A fused (x * x).sum(): its forward returns a NumPy scalar."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return (a * a).sum()

    @staticmethod
    def backward(ctx, grad):
        return (2.0 * ctx.a * grad,)


def test_function_records_one_node_of_its_class():
    x = tt.randn(3, 4, requires_grad=True)
    out = Square.apply(x)
    node = out.grad_fn
    assert node.op is Square and node.name == "Square"
    assert len(node.inputs) == 1 and node.inputs[0] is x
    assert node.ctx.a is x.data  # the context holds what forward saved
    assert out.requires_grad is True


def test_function_equals_the_composed_version():
    x = tt.randn(3, 4, requires_grad=True)
    fused, composed = Square.apply(x), x * x
    assert fused.shape == composed.shape and fused.dtype == composed.dtype
    np.testing.assert_allclose(fused.data, composed.data)


def test_function_backward_sits_next_to_forward():
    x = tt.randn(5, dtype=tt.float64, requires_grad=True)
    out = Square.apply(x)
    grad = np.ones(5)
    (gx,) = out.grad_fn.op.backward(out.grad_fn.ctx, grad)
    eps = 1e-6  # central differences of x * x
    numeric = ((x.data + eps) ** 2 - (x.data - eps) ** 2) / (2 * eps)
    np.testing.assert_allclose(gx, numeric, rtol=1e-6)


def test_function_attributes_and_plain_inputs():
    x = tt.randn(2, requires_grad=True)
    out = Scale.apply(x, factor=3.0)
    assert out.grad_fn.attrs == {"factor": 3.0} and out.grad_fn.ctx.factor == 3.0
    np.testing.assert_allclose(out.data, x.data * 3.0)
    plain = Scale.apply(np.ones(2, dtype=np.float32), factor=2.0)  # ndarrays are accepted
    assert isinstance(plain, tt.Tensor) and plain.grad_fn is None
    np.testing.assert_array_equal(plain.data, [2.0, 2.0])


def test_function_respects_grad_mode_and_requires_grad():
    x = tt.randn(3, requires_grad=True)
    with tt.no_grad():
        assert Square.apply(x).grad_fn is None
    assert Square.apply(tt.randn(3)).grad_fn is None


def test_function_is_seen_by_op_hooks(events):
    x = tt.randn(3)
    out = Square.apply(x)
    assert [(e.op, e.phase) for e in events] == [("Square", "forward")]
    assert events[0].inputs[0] is x and events[0].output is out


def test_function_subclass_must_define_forward():
    class Nothing(tt.Function):
        pass

    with pytest.raises(NotImplementedError):
        Nothing.apply(tt.randn(2))


def test_function_returning_a_numpy_scalar_gives_a_0d_array():
    x = tt.randn(4, requires_grad=True)
    out = SumOfSquares.apply(x)
    assert isinstance(out.data, np.ndarray) and out.shape == ()
    np.testing.assert_allclose(out.item(), (x.data ** 2).sum(), rtol=1e-6)


# --- hooks are per context (thread) ---------------------------------------------------------
def _in_thread(fn):
    """Run fn() in a new thread and return what it returned (re-raising what it raised)."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as err:  # noqa: BLE001  (handed back to the test's thread)
            result["error"] = err

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_hook_sees_only_the_ops_of_its_own_thread():
    x = tt.ones(3)
    main, worker = [], []

    def work():
        with tt.add_op_hook(worker.append):
            (x * 2.0).sum()
        return tt.hooks_active()

    with tt.add_op_hook(main.append):
        x + 1.0
        active_in_worker_after = _in_thread(work)
        assert tt.hooks_active()
        assert not _in_thread(tt.hooks_active)  # a new thread starts with no hooks
    assert [e.op for e in main] == ["add"]
    assert [e.op for e in worker] == ["mul", "sum"]
    assert not active_in_worker_after and not tt.hooks_active()


def test_two_threads_with_hooks_at_once_each_see_their_own_ops():
    barrier = threading.Barrier(2, timeout=30)

    def work(op, repeats):
        seen = []
        with tt.add_op_hook(seen.append):
            barrier.wait()  # both hooks registered before either thread runs its ops
            for _ in range(repeats):
                op(tt.ones(4))
            barrier.wait()
        return [e.op for e in seen]

    out = {}
    threads = [threading.Thread(target=lambda: out.setdefault("exp", work(tt.exp, 30))),
               threading.Thread(target=lambda: out.setdefault("neg", work(tt.neg, 20)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert out == {"exp": ["exp"] * 30, "neg": ["neg"] * 20}

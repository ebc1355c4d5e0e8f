"""Task 7: graph recording, checked structurally (no tt-autograd needed): each result's grad_fn
names its primitive, holds the exact input tensors and the attributes tt-autograd reads."""

import sys
import threading

import numpy as np
import pytest

import tt_tensor as tt

# The primitives named by the course (ARCHITECTURE.md, "How gradients work"); tt-autograd has
# one rule for each.
EXPECTED_PRIMITIVES = {
    "add", "sub", "mul", "div", "pow", "maximum", "neg", "exp", "log", "tanh", "where", "astype",
    "sum", "max", "matmul", "reshape", "permute", "broadcast_to", "getitem", "pad",
    "sliding_window", "concatenate",
}


@pytest.fixture
def x():
    return tt.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (2, 3, 4)), requires_grad=True)


@pytest.fixture
def y():
    return tt.tensor(np.random.default_rng(1).uniform(0.5, 1.5, (2, 3, 4)), requires_grad=True)


def test_primitives_are_the_course_set_of_public_functions():
    assert set(tt.PRIMITIVES) == EXPECTED_PRIMITIVES
    assert len(tt.PRIMITIVES) == len(set(tt.PRIMITIVES))
    for name in tt.PRIMITIVES:
        assert name in tt.__all__ and callable(getattr(tt, name)), name


def test_each_primitive_is_declared_once_and_recorded_as_its_declaration(x):
    assert tuple(tt.Primitive) == tt.PRIMITIVES
    assert {p.value for p in tt.Primitive} == EXPECTED_PRIMITIVES
    assert tt.Primitive("add") is tt.Primitive.ADD and str(tt.Primitive.ADD) == "add"
    node = (x + 1.0).grad_fn
    assert node.op is tt.Primitive.ADD and node.op == "add"
    assert type(node.name) is str and node.name == "add"
    assert tt.sum(x).grad_fn.op is tt.Primitive.SUM


def test_in_place_writes_count_and_a_node_notices_them(x):
    data = tt.tensor(np.ones((2, 3, 4)))
    out = x * data
    out.grad_fn.check_saved()  # nothing written since the op: no error
    assert data._version == 0
    data[0, 0, 0] = 5.0
    data[1] = tt.zeros(3, 4)
    assert data._version == 2 and x._version == 0
    with pytest.raises(RuntimeError, match=r"input 1 of op 'mul' \(a tensor of shape \(2, 3, 4\)"):
        out.grad_fn.check_saved()
    later = x * data  # recorded after the writes: sees the new values
    later.grad_fn.check_saved()


# --- one node per primitive: op, exact inputs, attributes ----------------------------------
BINARY = [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
          ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
          ("maximum", tt.maximum), ("add", tt.add), ("pow", tt.pow)]


@pytest.mark.parametrize("op, fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_records_op_and_input_identity(x, y, op, fn):
    out = fn(x, y)
    assert out.requires_grad is True and out.is_leaf is False
    assert out.grad_fn.op == op and out.grad_fn.name == op
    assert len(out.grad_fn.inputs) == 2
    assert out.grad_fn.inputs[0] is x and out.grad_fn.inputs[1] is y


@pytest.mark.parametrize("op, fn", BINARY, ids=[b[0] for b in BINARY])
def test_python_scalar_becomes_a_constant_input(x, op, fn):
    for out, pos in ((fn(x, 2.0), 0), (fn(2.0, x), 1)):
        assert out.grad_fn.op == op
        assert out.grad_fn.inputs[pos] is x
        const = out.grad_fn.inputs[1 - pos]
        assert isinstance(const, tt.Tensor) and const.requires_grad is False
        assert const.item() == 2.0 and const.dtype == x.dtype


@pytest.mark.parametrize("op, fn", [("neg", lambda t: -t), ("exp", tt.exp), ("log", tt.log),
                                    ("tanh", lambda t: t.tanh())])
def test_unary_records_op(x, op, fn):
    out = fn(x)
    assert out.grad_fn.op == op and out.grad_fn.inputs == (x,) and out.grad_fn.inputs[0] is x


ATTRS = [
    ("sum", lambda t: t.sum(), {"axis": None, "keepdims": False}),
    ("sum", lambda t: t.sum(-1, keepdims=True), {"axis": (2,), "keepdims": True}),
    ("sum", lambda t: tt.sum(t, (2, -3)), {"axis": (0, 2), "keepdims": False}),
    ("max", lambda t: t.max(1), {"axis": (1,), "keepdims": False}),
    ("reshape", lambda t: t.reshape(6, 4), {"shape": (6, 4)}),
    ("permute", lambda t: t.permute(2, 0, 1), {"axes": (2, 0, 1)}),
    ("permute", lambda t: t.permute(-1, 0, -2), {"axes": (2, 0, 1)}),
    ("permute", lambda t: t.transpose(0, -1), {"axes": (2, 1, 0)}),
    ("broadcast_to", lambda t: t.broadcast_to(5, 2, 3, 4), {"shape": (5, 2, 3, 4)}),
    ("pad", lambda t: tt.pad(t, 1), {"pad_width": ((1, 1),) * 3, "value": 0.0}),
    ("pad", lambda t: tt.pad(t, ((0, 0), (1, 2), (0, 3)), value=2.0),
     {"pad_width": ((0, 0), (1, 2), (0, 3)), "value": 2.0}),
    ("sliding_window", lambda t: tt.sliding_window(t, (2, 2)),
     {"window_shape": (2, 2), "stride": (1, 1)}),
    ("sliding_window", lambda t: tt.sliding_window(t, (2,), stride=2),
     {"window_shape": (2,), "stride": (2,)}),
    ("astype", lambda t: t.astype(tt.float64), {"dtype": np.dtype(np.float64)}),
    ("getitem", lambda t: t[0, 1:], {"index": (0, slice(1, None))}),
    ("getitem", lambda t: t[..., None], {"index": (Ellipsis, None)}),
]


@pytest.mark.parametrize("op, fn, attrs", ATTRS, ids=[f"{a[0]}-{i}" for i, a in enumerate(ATTRS)])
def test_recorded_attributes(x, op, fn, attrs):
    out = fn(x)
    node = out.grad_fn
    assert node.op == op and node.inputs[0] is x and len(node.inputs) == 1
    assert {k: node.attrs[k] for k in attrs} == attrs


def test_getitem_records_a_plain_array_index(x):
    out = x[tt.tensor([1, 1, 0])]
    index = out.grad_fn.attrs["index"]
    assert not isinstance(index, tt.Tensor)
    np.testing.assert_array_equal(index, [1, 1, 0])
    mask = x > 1.0
    out = x[mask]
    assert out.grad_fn.op == "getitem"
    np.testing.assert_array_equal(out.grad_fn.attrs["index"], mask.data)


def test_where_records_condition_as_an_attribute(x, y):
    cond = x > 1.0
    out = tt.where(cond, x, y)
    assert out.grad_fn.op == "where"
    assert out.grad_fn.inputs[0] is x and out.grad_fn.inputs[1] is y
    np.testing.assert_array_equal(np.asarray(out.grad_fn.attrs["condition"], bool), cond.data)


def test_matmul_and_concatenate_inputs(x, y):
    w = tt.randn(4, 5, requires_grad=True)
    out = x @ w
    assert out.grad_fn.op == "matmul" and out.grad_fn.inputs[0] is x
    assert out.grad_fn.inputs[1] is w
    out = tt.cat([x, y, x], axis=-1)
    assert out.grad_fn.op == "concatenate" and out.grad_fn.attrs["axis"] == 2
    assert [t is s for t, s in zip(out.grad_fn.inputs, (x, y, x))] == [True] * 3


def test_only_inputs_that_require_grad_make_a_node():
    a, b = tt.randn(3), tt.randn(3)
    out = a * b + a.exp()
    assert out.grad_fn is None and out.requires_grad is False and out.is_leaf
    c = tt.randn(3, requires_grad=True)
    mixed = a * c
    assert mixed.grad_fn is not None and mixed.grad_fn.inputs[0] is a
    assert mixed.grad_fn.inputs[0].requires_grad is False


def test_nodes_chain_through_intermediates(x, y):
    h = x * y
    out = h.sum()
    assert out.grad_fn.op == "sum" and out.grad_fn.inputs[0] is h
    assert h.grad_fn.inputs == (x, y)


# --- composed ops are built from primitives only ---------------------------------------------
COMPOSED = [
    ("mean", lambda t: t.mean(1)), ("var", lambda t: t.var()), ("sqrt", lambda t: t.sqrt()),
    ("min", lambda t: t.min(-1)), ("minimum", lambda t: tt.minimum(t, 1.0)),
    ("abs", lambda t: tt.abs(t - 1.0)), ("clip", lambda t: t.clip(0.7, 1.2)),
    ("transpose", lambda t: t.transpose(0, 1)), ("T", lambda t: t.T),
    ("flatten", lambda t: t.flatten(1)), ("squeeze", lambda t: t[:, :1].squeeze(1)),
    ("unsqueeze", lambda t: t.unsqueeze(0)), ("stack", lambda t: tt.stack([t, t * 2.0])),
]


@pytest.mark.parametrize("name, fn", COMPOSED, ids=[c[0] for c in COMPOSED])
def test_composed_ops_record_only_primitives(walk_graph, x, name, fn):
    out = fn(x)
    ops, leaves = walk_graph(out)
    assert ops, f"{name} recorded nothing"
    assert set(ops) <= set(tt.PRIMITIVES), f"{name} recorded non-primitives {set(ops)}"
    assert any(leaf is x for leaf in leaves), f"{name}'s graph does not reach its input"


def test_mean_is_sum_then_div(x):
    out = x.mean()
    assert out.grad_fn.op == "div"
    assert out.grad_fn.inputs[0].grad_fn.op == "sum"
    assert out.grad_fn.inputs[0].grad_fn.inputs[0] is x
    assert out.grad_fn.inputs[1].item() == x.numel()


def test_non_differentiable_results_record_nothing(x):
    for out in (x > 1.0, x == x, tt.argmax(x, 1)):
        assert out.grad_fn is None and out.requires_grad is False


# --- grad mode -------------------------------------------------------------------------------
def test_no_grad_turns_recording_off(x, y):
    assert tt.is_grad_enabled()
    with tt.no_grad():
        assert not tt.is_grad_enabled()
        out = (x * y).sum()
    assert tt.is_grad_enabled()
    assert out.grad_fn is None and out.requires_grad is False
    np.testing.assert_allclose(out.item(), (x.data * y.data).sum(), rtol=1e-6)


def test_no_grad_as_decorator(x):
    @tt.no_grad()
    def evaluate(t):
        return t * 2.0, tt.is_grad_enabled()

    out, enabled = evaluate(x)
    assert out.grad_fn is None and enabled is False
    assert tt.is_grad_enabled()
    assert evaluate.__name__ == "evaluate"


def test_no_grad_restores_the_mode_after_an_exception(x):
    with pytest.raises(ZeroDivisionError):
        with tt.no_grad():
            1 / 0
    assert tt.is_grad_enabled()
    assert (x * 2.0).grad_fn is not None


def test_enable_grad_inside_no_grad(x):
    with tt.no_grad():
        with tt.enable_grad():
            assert tt.is_grad_enabled()
            inner = x * 2.0
        assert not tt.is_grad_enabled()
        outer = x * 2.0
    assert inner.grad_fn is not None and outer.grad_fn is None


def test_enable_grad_as_decorator(x):
    @tt.enable_grad()
    def train_step(t):
        return t * 2.0

    with tt.no_grad():
        out = train_step(x)
    assert out.grad_fn is not None


def test_set_grad_enabled(x):
    with tt.set_grad_enabled(False):
        assert (x * 2.0).grad_fn is None
        with tt.set_grad_enabled(True):
            assert (x * 2.0).grad_fn is not None
    assert tt.is_grad_enabled()
    try:
        tt.set_grad_enabled(False)  # as a plain call it sets the mode
        assert not tt.is_grad_enabled() and (x * 2.0).grad_fn is None
    finally:
        tt.set_grad_enabled(True)
    assert (x * 2.0).grad_fn is not None


def test_grad_mode_is_per_thread(x):
    inside, release, seen = threading.Event(), threading.Event(), {}

    def evaluate_in_thread():
        with tt.no_grad():
            inside.set()
            release.wait(5)
            seen["thread"] = (x * 2.0).grad_fn

    worker = threading.Thread(target=evaluate_in_thread)
    worker.start()
    assert inside.wait(5)
    main_result = x * 2.0  # the worker is inside no_grad right now
    enabled_here = tt.is_grad_enabled()
    release.set()
    worker.join(5)
    assert enabled_here and main_result.grad_fn is not None
    assert seen["thread"] is None


def test_new_thread_starts_with_grad_enabled(x):
    seen = {}

    def record():
        seen["enabled"] = tt.is_grad_enabled()
        seen["node"] = (x * 2.0).grad_fn

    with tt.no_grad():
        worker = threading.Thread(target=record)
        worker.start()
        worker.join(5)
    assert seen["enabled"] is True and seen["node"] is not None


# --- backward needs tt-autograd ----------------------------------------------------------------
def test_backward_without_tt_autograd_says_what_to_install(monkeypatch, x):
    monkeypatch.setitem(sys.modules, "tt_autograd", None)  # makes `import tt_autograd` fail
    loss = (x * x).sum()
    with pytest.raises(ModuleNotFoundError) as err:
        loss.backward()
    message = str(err.value)
    assert "tt-autograd" in message and "09" in message
    assert x.grad is None


def test_backward_does_not_hide_a_broken_tt_autograd(monkeypatch, tmp_path, x):
    (tmp_path / "tt_autograd.py").write_text("import tt_missing_dependency_of_autograd\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tt_autograd", raising=False)
    with pytest.raises(ModuleNotFoundError, match="tt_missing_dependency_of_autograd"):
        (x * x).sum().backward()

"""Given code: tt-tensor's own fast paths (`use_fast_paths`), the shortcuts of x @ w,
x.reshape / x.view, x.T, x.permute and x.transpose, against the plain primitives (your tasks
matmul, reshape and permute). Each call gives the same values, shape, dtype and strides, shares
memory with its input where the plain op does, records the same node (op, the very input
tensors, equal attributes: what tt-autograd's gradient rules read, so the gradients are the
same), raises the same error, and is seen once by op hooks."""

import operator

import numpy as np
import pytest

import tt_tensor as tt

MATMUL_SHAPES = [  # the shortcut's case first, then the ones it hands to the plain matmul
    ((2, 3), (3, 4)), ((1, 128), (128, 384)), ((5, 2, 3), (5, 3, 4)), ((1, 4, 1, 8), (1, 4, 8, 7)),
    ((2, 0), (0, 3)), ((0, 3), (3, 2)),
    ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((5, 2, 3), (3, 4)), ((2, 3), (6, 3, 4)),
    ((1, 2, 3), (4, 3, 2)), ((2, 1, 2, 3), (5, 3, 2)),
]


@pytest.fixture
def both():
    """both(fn) -> (fn() with tt-tensor's fast paths off, fn() with them on); restored after."""
    before = tt.fast_paths_enabled()

    def run(fn):
        tt.use_fast_paths(False)
        plain = fn()
        tt.use_fast_paths(True)
        return plain, fn()

    yield run
    tt.use_fast_paths(before)


def assert_same(plain, fast, *sources, same_inputs=True):
    """fast is what plain is: values, layout, memory shared with `sources`, the recorded node
    (its inputs the very same tensors, unless `same_inputs` is False: then equal ones)."""
    assert type(fast) is tt.Tensor and type(plain) is tt.Tensor
    assert (fast.shape, fast.dtype, fast.data.strides) == \
        (plain.shape, plain.dtype, plain.data.strides)
    np.testing.assert_array_equal(fast.data, plain.data)
    for source in sources:
        assert np.shares_memory(fast.data, source.data) == \
            np.shares_memory(plain.data, source.data)
    assert fast.requires_grad is plain.requires_grad
    assert (fast.grad_fn is None) == (plain.grad_fn is None)
    if plain.grad_fn is not None:
        f, p = fast.grad_fn, plain.grad_fn
        assert f.op is p.op and f.ctx is None and p.ctx is None
        assert len(f.inputs) == len(p.inputs)
        if same_inputs:
            assert all(a is b for a, b in zip(f.inputs, p.inputs)), "the same input tensors"
        assert f.attrs == p.attrs
        assert [type(v) for v in f.attrs.values()] == [type(v) for v in p.attrs.values()]
        for value in f.attrs.values():  # shapes and axes: tuples of Python ints, as plain ones
            assert all(type(i) is int for i in value)


def assert_same_graph(plain, fast):
    """The graphs behind plain and fast, walked side by side: every tensor as assert_same has
    it, the same leaves that require grad; returns the number of nodes."""
    pairs, seen = [(plain, fast)], set()
    while pairs:
        plain, fast = pairs.pop()
        assert_same(plain, fast, same_inputs=False)
        if plain.grad_fn is None and plain.requires_grad:
            assert fast is plain  # a weight: the same leaf
        elif plain.grad_fn is not None and id(plain) not in seen:
            seen.add(id(plain))
            pairs.extend(zip(plain.grad_fn.inputs, fast.grad_fn.inputs))
    return len(seen)


def leaves(shapes, dtype=np.float32, grads=None, seed=0):
    """Random tensors of `shapes` (from_numpy: these tests are about the ops, not `tensor()`),
    those with a True in `grads` requiring grad."""
    rng = np.random.default_rng(seed)
    grads = grads or [False] * len(shapes)
    return [tt.from_numpy(np.asarray(rng.standard_normal(s), dtype=dtype)).requires_grad_(g)
            for s, g in zip(shapes, grads)]


GRAD_CASES = [(True, (True, False)), (True, (False, True)), (True, (False, False)),
              (False, (True, True))]  # (grad mode, which inputs require grad)


@pytest.mark.parametrize("grad_mode, grads", GRAD_CASES, ids=str)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_shortcut_is_the_plain_matmul(both, shapes, grad_mode, grads):
    a, b = leaves(shapes, grads=list(grads))
    with tt.set_grad_enabled(grad_mode):
        assert_same(*both(lambda: a @ b), a, b)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float64),
                                    (np.int64, np.int64), (np.int64, np.float32)], ids=str)
def test_matmul_shortcut_promotes_dtypes_as_the_plain_matmul(both, dtypes):
    a = tt.from_numpy(np.arange(6).reshape(2, 3).astype(dtypes[0]))
    b = tt.from_numpy((np.arange(12).reshape(3, 4) - 5).astype(dtypes[1]))
    assert_same(*both(lambda: a @ b), a, b)


def test_matmul_shortcut_on_a_transposed_weight_and_an_ndarray(both):
    x, w = leaves([(5, 3), (4, 3)], grads=[True, True])
    assert assert_same_graph(*both(lambda: x @ w.T)) == 2  # every Linear: a strided W.T
    array = np.ones((2, 5), dtype=np.float32)
    assert assert_same_graph(*both(lambda: array @ x)) == 1  # the plain reflected matmul
    assert assert_same_graph(*both(lambda: x @ array.T[:3])) == 1  # a constant operand


@pytest.mark.parametrize("a, b", [((5, 2, 3), (4, 3, 2)), ((3, 2, 4), (2, 4)), ((3,), (4,)),
                                  ((2, 3), (2, 3)), ((), (3,)), ((2, 3), ())], ids=str)
def test_matmul_shortcut_raises_the_plain_error(both, a, b):
    x, y = leaves([a, b])
    assert_same_error(both, lambda: x @ y)


def assert_same_error(both, fn):
    def caught():
        with pytest.raises((ValueError, IndexError, TypeError)) as err:  # a refusal, not a stub
            fn()
        return type(err.value), str(err.value)

    plain, fast = both(caught)
    assert fast == plain


RESHAPES = [
    ((2, 3), (3, 2)), ((2, 3), (-1,)), ((2, 3, 4), (6, -1)), ((2, 3, 4), (-1, 2, 2)),
    ((0, 3), (3, 0)), ((0, 3), (-1,)), ((), (1, 1)), ((1,), ()), ((4,), (1, 4, 1)),
    ((2, 3), (np.int64(3), 2)),
]


@pytest.mark.parametrize("grad_mode, grad", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("shape, new", RESHAPES, ids=str)
def test_reshape_shortcut_is_the_plain_reshape(both, shape, new, grad_mode, grad):
    (x,) = leaves([shape], grads=[grad])
    with tt.set_grad_enabled(grad_mode):
        assert_same(*both(lambda: x.reshape(*new)), x)
        assert_same(*both(lambda: x.view(new)), x)


def test_reshape_shortcut_copies_where_the_plain_reshape_copies(both):
    (x,) = leaves([(3, 4)], grads=[True])
    xt = x.T  # not contiguous: flattening it copies
    plain, fast = both(lambda: xt.reshape(-1))
    assert_same(plain, fast, x, xt)
    assert not np.shares_memory(fast.data, x.data)


@pytest.mark.parametrize("shape, new", [((2, 3), (4, 2)), ((2, 3), (-1, -1)), ((2, 3), (-2, -3)),
                                        ((0, 3), (0, -1)), ((2, 3), (5, -1))], ids=str)
def test_reshape_shortcut_raises_the_plain_error(both, shape, new):
    (x,) = leaves([shape])
    assert_same_error(both, lambda: x.reshape(*new))


PERMUTES = [((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (-1, 0, 1)), ((2, 3), (1, 0)), ((5,), (0,)),
            ((), ()), ((2, 3, 4, 5), (0, 2, 1, 3)), ((2, 3), (np.int64(1), 0))]


@pytest.mark.parametrize("grad_mode, grad", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("shape, axes", PERMUTES, ids=str)
def test_permute_shortcut_is_the_plain_permute(both, shape, axes, grad_mode, grad):
    (x,) = leaves([shape], grads=[grad])
    with tt.set_grad_enabled(grad_mode):
        assert_same(*both(lambda: x.permute(*axes)), x)


@pytest.mark.parametrize("shape, axes", [((2, 3), (0, 1, 2)), ((2, 3), (0, 5)), ((2, 3), (0, -2)),
                                         ((2, 3), ()), ((), (0,)), ((2, 3), (1, 1))], ids=str)
def test_permute_shortcut_raises_the_plain_error(both, shape, axes):
    (x,) = leaves([shape])
    assert_same_error(both, lambda: x.permute(axes))


@pytest.mark.parametrize("call", [lambda x: x.reshape(3.0, 2), lambda x: x.reshape(2.5, 2),
                                  lambda x: x.reshape(True, 6), lambda x: x.permute(1.0, 0),
                                  lambda x: x.permute(0.5, 1)],
                         ids=["reshape(3.0, 2)", "reshape(2.5, 2)", "reshape(True, 6)",
                              "permute(1.0, 0)", "permute(0.5, 1)"])
def test_sizes_numpy_does_not_take_as_ints_get_the_plain_outcome(both, call):
    """NumPy refuses float sizes and axes; the shortcut hands them to the plain primitive,
    whose outcome (a result, or its refusal) it then is."""
    (x,) = leaves([(2, 3)], grads=[True])

    def outcome():
        try:
            return call(x)
        except (ValueError, TypeError) as err:  # a refusal, not a stub
            return type(err), str(err)

    plain, fast = both(outcome)
    if isinstance(plain, tt.Tensor):
        assert_same(plain, fast, x)
    else:
        assert fast == plain


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)], ids=str)
def test_T_shortcut_is_the_plain_T(both, shape):
    (x,) = leaves([shape], grads=[True])
    assert_same(*both(lambda: x.T), x)


@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("shape, dims", [((2, 3, 4), (0, 2)), ((1, 4, 5, 8), (-2, -1)),
                                         ((2, 3), (1, 1)), ((2, 3), (np.int64(0), 1))], ids=str)
def test_transpose_shortcut_is_the_plain_transpose(both, shape, dims, grad):
    (x,) = leaves([shape], grads=[grad])
    assert_same(*both(lambda: x.transpose(*dims)), x)


@pytest.mark.parametrize("shape, dims", [((2, 3), (0, 2)), ((), (0, 0)), ((2, 3), (-3, 0))],
                         ids=str)
def test_transpose_shortcut_raises_the_plain_error(both, shape, dims):
    (x,) = leaves([shape])
    assert_same_error(both, lambda: x.transpose(*dims))


@pytest.mark.parametrize("call, ops", [
    (lambda x, w: x @ w.T, ["permute", "matmul"]), (lambda x, w: x.reshape(2, 2, 3), ["reshape"]),
    (lambda x, w: x.permute(1, 0), ["permute"]), (lambda x, w: x.transpose(0, 1), ["permute"]),
    (lambda x, w: x.view(-1), ["reshape"]), (lambda x, w: x @ w, []),
], ids=["x@w.T", "reshape", "permute", "transpose", "view", "misaligned@"])
def test_op_hooks_see_each_shortcut_once_as_its_primitive(both, call, ops):
    x, w = leaves([(4, 3), (5, 3)], grads=[False, True])
    names = {id(x): "x", id(w): "w"}

    def observed():
        events = []
        with tt.add_op_hook(events.append):
            try:
                call(x, w)
            except ValueError:
                pass  # x @ w does not multiply: no event, as from the plain matmul
        return [(e.op, e.phase, [names.get(id(t), t.shape) for t in e.inputs],
                 e.output.shape) for e in events]

    plain, fast = both(observed)
    assert fast == plain and [op for op, *_ in plain] == ops


def test_a_gpt_style_step_is_the_same_with_and_without_the_shortcuts(both):
    """One attention-and-MLP step as the later modules write it, under no_grad and recorded:
    every op's node and value the same, whichever path."""
    x, wq, wk, w1 = leaves([(1, 3, 8), (8, 8), (8, 8), (16, 8)], grads=[False, True, True, True])

    def step():
        B, T, C = x.shape
        flat = x.reshape(B * T, C)                                          # (B*T, C)
        q = (flat @ wq.T).reshape(B, T, 2, 4).permute(0, 2, 1, 3)           # (B, H, T, D)
        k = (flat @ wk.T).reshape(B, T, 2, 4).permute(0, 2, 1, 3)
        scores = q @ k.transpose(-2, -1)                                    # (B, H, T, T)
        y = (scores @ k).permute(0, 2, 1, 3).reshape(B * T, C)              # (B*T, C)
        return (y @ w1.T).reshape(B, T, 16)

    for grad_mode in (True, False):
        with tt.set_grad_enabled(grad_mode):
            plain, fast = both(step)
        nodes = assert_same_graph(plain, fast)
        assert nodes == (16 if grad_mode else 0)  # 5 matmuls, 4 reshapes, 7 permutes

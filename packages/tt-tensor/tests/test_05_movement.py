"""Task 5: movement ops (reshape, permute, transpose, T, broadcast_to, flatten, squeeze,
unsqueeze, concatenate/cat, stack), and which of them are views."""

import numpy as np
import pytest

import tt_tensor as tt

# (id, tt expression, the same NumPy expression, input shape)
MOVEMENT = [
    ("x.reshape(6, 4)", lambda x: x.reshape(6, 4), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("x.reshape((4, -1))", lambda x: x.reshape((4, -1)), lambda a: a.reshape(4, -1), (2, 3, 4)),
    ("reshape(x, (24,))", lambda x: tt.reshape(x, (24,)), lambda a: a.reshape(24), (2, 3, 4)),
    ("x.view(3, 8)", lambda x: x.view(3, 8), lambda a: a.reshape(3, 8), (2, 3, 4)),
    ("reshape to 0-d", lambda x: x.reshape(()), lambda a: a.reshape(()), (1, 1)),
    ("x.reshape(-1)", lambda x: x.reshape(-1), lambda a: a.reshape(-1), (2, 3, 4)),
    ("x.reshape(2, -1, 3)", lambda x: x.reshape(2, -1, 3), lambda a: a.reshape(2, -1, 3),
     (4, 3)),
    ("0-d reshape(-1)", lambda x: x.reshape(-1), lambda a: a.reshape(-1), ()),
    ("empty reshape(-1, 3)", lambda x: x.reshape(-1, 3), lambda a: a.reshape(-1, 3), (0, 6)),
    ("x.T.reshape(-1): values in C order", lambda x: x.T.reshape(-1),
     lambda a: a.T.reshape(-1), (3, 4)),
    ("x.permute(2, 0, 1)", lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
     (2, 3, 4)),
    ("x.permute((1, 0, 2))", lambda x: x.permute((1, 0, 2)), lambda a: a.transpose(1, 0, 2),
     (2, 3, 4)),
    ("x.permute(-1, 0, 1)", lambda x: x.permute(-1, 0, 1), lambda a: a.transpose(2, 0, 1),
     (2, 3, 4)),
    ("permute(x, (0, 2, 1))", lambda x: tt.permute(x, (0, 2, 1)),
     lambda a: a.transpose(0, 2, 1), (2, 3, 4)),
    ("x.transpose(0, 2)", lambda x: x.transpose(0, 2), lambda a: a.swapaxes(0, 2), (2, 3, 4)),
    ("x.transpose(-1, -2)", lambda x: x.transpose(-1, -2), lambda a: a.swapaxes(-1, -2),
     (2, 3, 4)),
    ("transpose(x, 1, 0)", lambda x: tt.transpose(x, 1, 0), lambda a: a.T, (3, 4)),
    ("x.T 1-d", lambda x: x.T, lambda a: a.T, (5,)),
    ("x.T 2-d", lambda x: x.T, lambda a: a.T, (3, 4)),
    ("x.T 3-d", lambda x: x.T, lambda a: a.T, (2, 3, 4)),
    ("broadcast_to size-1 and missing axes", lambda x: x.broadcast_to(2, 3, 4),
     lambda a: np.broadcast_to(a, (2, 3, 4)), (3, 1)),
    ("broadcast_to((3, 4))", lambda x: tt.broadcast_to(x, (3, 4)),
     lambda a: np.broadcast_to(a, (3, 4)), (4,)),
    ("broadcast_to from 0-d", lambda x: x.broadcast_to((2, 2)),
     lambda a: np.broadcast_to(a, (2, 2)), ()),
    ("x.expand(5, 3)", lambda x: x.expand(5, 3), lambda a: np.broadcast_to(a, (5, 3)), (1, 3)),
    ("x.flatten()", lambda x: x.flatten(), lambda a: a.reshape(-1), (2, 3, 4)),
    ("x.flatten(1)", lambda x: x.flatten(1), lambda a: a.reshape(2, 12), (2, 3, 4)),
    ("x.flatten(0, 1)", lambda x: x.flatten(0, 1), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("x.flatten(-2)", lambda x: x.flatten(-2), lambda a: a.reshape(2, 3, 20), (2, 3, 4, 5)),
    ("flatten(x, 1, 2)", lambda x: tt.flatten(x, 1, 2), lambda a: a.reshape(2, 12, 5),
     (2, 3, 4, 5)),
    ("x.squeeze()", lambda x: x.squeeze(), lambda a: a.squeeze(), (3, 1, 4, 1)),
    ("x.squeeze(1)", lambda x: x.squeeze(1), lambda a: a.squeeze(1), (3, 1, 4, 1)),
    ("squeeze(x, -1)", lambda x: tt.squeeze(x, -1), lambda a: a.squeeze(-1), (3, 1, 4, 1)),
    ("squeeze of a size-3 axis is a no-op", lambda x: x.squeeze(0), lambda a: a, (3, 1, 4, 1)),
    ("x.unsqueeze(0)", lambda x: x.unsqueeze(0), lambda a: a[None], (3, 4)),
    ("x.unsqueeze(1)", lambda x: x.unsqueeze(1), lambda a: a[:, None], (3, 4)),
    ("unsqueeze(x, -1)", lambda x: tt.unsqueeze(x, -1), lambda a: a[..., None], (3, 4)),
]


@pytest.mark.parametrize("name, tt_fn, np_fn, shape", MOVEMENT, ids=[m[0] for m in MOVEMENT])
def test_movement_matches_numpy(check_op, name, tt_fn, np_fn, shape):
    check_op(tt_fn, np_fn, shape)


JOINS = [
    ("concatenate axis 0", lambda *t: tt.concatenate(t, 0),
     lambda *a: np.concatenate(a, 0), [(2, 3), (4, 3)]),
    ("concatenate axis 1", lambda *t: tt.concatenate(list(t), axis=1),
     lambda *a: np.concatenate(a, 1), [(2, 3), (2, 5)]),
    ("cat axis -1 of three", lambda *t: tt.cat(t, -1),
     lambda *a: np.concatenate(a, -1), [(2, 3, 1), (2, 3, 2), (2, 3, 3)]),
    ("cat of one", lambda *t: tt.cat(t), lambda *a: np.concatenate(a), [(3, 2)]),
    ("stack axis 0", lambda *t: tt.stack(t), lambda *a: np.stack(a), [(2, 3), (2, 3)]),
    ("stack axis 1", lambda *t: tt.stack(t, 1), lambda *a: np.stack(a, 1), [(2, 3), (2, 3)]),
    ("stack axis -1 of three", lambda *t: tt.stack(list(t), axis=-1),
     lambda *a: np.stack(a, -1), [(4,), (4,), (4,)]),
    ("stack of 0-d", lambda *t: tt.stack(t), lambda *a: np.stack(a), [(), ()]),
]


@pytest.mark.parametrize("name, tt_fn, np_fn, shapes", JOINS, ids=[j[0] for j in JOINS])
def test_join_matches_numpy(check_op, name, tt_fn, np_fn, shapes):
    check_op(tt_fn, np_fn, *shapes)


# --- views and copies --------------------------------------------------------------------
VIEWS = [
    ("reshape", lambda x: x.reshape(4, 6)),
    ("flatten", lambda x: x.flatten()),
    ("unsqueeze", lambda x: x.unsqueeze(0)),
    ("permute", lambda x: x.permute(2, 1, 0)),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("T", lambda x: x.T),
    ("broadcast_to", lambda x: x.broadcast_to(5, 2, 3, 4)),
    ("basic slice", lambda x: x[:, 1:, ::2]),
]


@pytest.mark.parametrize("name, fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_movement_ops_return_views(name, fn):
    x = tt.tensor(np.arange(24.0).reshape(2, 3, 4))
    out = fn(x)
    assert np.shares_memory(out.data, x.data), f"{name} copied its input"
    x[...] = -1.0  # a write to the source shows through the view
    assert (out.data == -1.0).all()


def test_broadcast_to_allocates_nothing():
    x = tt.tensor(np.arange(3.0))
    out = x.broadcast_to(1000, 3)
    assert out.shape == (1000, 3)
    assert 0 in out.data.strides  # every row is the same memory


COPIES = [
    ("concatenate", lambda x: tt.concatenate([x, x])),
    ("stack", lambda x: tt.stack([x, x])),
    ("add", lambda x: x + 0.0),
    ("astype", lambda x: x.astype(tt.float64)),
    ("reshape of a permuted tensor", lambda x: x.T.reshape(-1)),
]


@pytest.mark.parametrize("name, fn", COPIES, ids=[c[0] for c in COPIES])
def test_ops_that_copy(name, fn):
    x = tt.tensor(np.arange(6.0).reshape(2, 3))
    assert not np.shares_memory(fn(x).data, x.data)


@pytest.mark.parametrize(
    "shape, new", [((2, 3), (4, 2)), ((2, 3), (-1, 4)), ((2, 3), (-1, -1)),
                   ((0, 3), (-1, 0)), ((2, 3), (7,))],
    ids=str,
)
def test_reshape_refuses_a_shape_that_does_not_fit(shape, new):
    with pytest.raises(ValueError):
        np.zeros(shape).reshape(new)  # NumPy refuses it too
    with pytest.raises(ValueError) as err:
        tt.zeros(*shape).reshape(new)
    message = str(err.value)
    assert str(shape) in message and str(new) in message
    assert f"({int(np.prod(shape))} elements)" in message


def test_reshape_refuses_negative_sizes_other_than_minus_one():
    # NumPy reads any negative size as "infer"; PyTorch, and so tt-tensor, only -1
    with pytest.raises(ValueError, match=r"\(3, -2\)"):
        tt.zeros(2, 3).reshape(3, -2)


@pytest.mark.parametrize("new, resolved", [((4, -1), (4, 6)), ((-1,), (24,)), ((2, 3, 4),
                                                                               (2, 3, 4))])
def test_reshape_records_the_shape_it_made(new, resolved):
    x = tt.randn(2, 3, 4, requires_grad=True)
    out = x.reshape(new)
    assert out.shape == resolved and out.grad_fn.attrs["shape"] == resolved


def test_a_view_sees_writes_to_its_source_and_a_copy_does_not():
    x = tt.tensor(np.arange(12.0).reshape(3, 4))
    view, copy = x.reshape(2, 6), x.T.reshape(12)
    x[0, 0] = 100.0
    assert view.data[0, 0] == 100.0  # the same memory
    assert copy.data[0] == 0.0  # its own memory, taken before the write
    assert view.data.base is not None and np.shares_memory(view.data, x.data)


@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 1, 0), (1, 2, 0)], ids=str)
def test_permute_moves_each_element_where_numpy_does(axes):
    a = np.arange(24.0).reshape(2, 3, 4)
    out = tt.tensor(a).permute(*axes)
    for index in np.ndindex(*out.shape):
        source = [0, 0, 0]
        for position, axis in enumerate(axes):
            source[axis] = index[position]
        assert out.data[index] == a[tuple(source)]

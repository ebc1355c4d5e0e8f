"""Task 6: indexing (basic and advanced), pad, the sliding-window view, and __setitem__."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import tt_tensor as tt

SHAPE = (3, 4, 5)
_A = np.arange(60).reshape(SHAPE)  # only used to build masks below

INDEXES = [
    ("int", 1),
    ("negative int", -1),
    ("two ints", (0, 2)),
    ("three ints -> 0-d", (2, 3, 4)),
    ("slice", slice(1, None)),
    ("step", (slice(None), slice(None, None, 2))),
    ("negative step", slice(None, None, -1)),
    ("negative step inner", (Ellipsis, slice(None, None, -2))),
    ("slice with negative bounds", (slice(-2, None), slice(None, -1))),
    ("Ellipsis then int", (Ellipsis, 1)),
    ("None", (None, 0)),
    ("None and Ellipsis", (Ellipsis, None)),
    ("bool mask, same shape", _A % 3 == 0),
    ("bool mask on axis 0", np.array([True, False, True])),
    ("bool mask on axis 1", (slice(None), np.array([False, True, True, False]))),
    ("int array", np.array([2, 0])),
    ("int list with repeats", [0, 0, 2, 0]),
    ("negative ints in array", np.array([-1, -3])),
    ("two int arrays", (np.array([0, 2, 2]), np.array([1, 1, 3]))),
    ("int array after a slice", (slice(None), np.array([3, 3, 0]))),
    ("broadcast int arrays", (np.array([[0], [2]]), np.array([[1, 3]]))),
    ("int array and int", (np.array([1, 2]), 0)),
    ("2-d int array", np.array([[0, 1], [1, 1]])),
]


@pytest.mark.parametrize("name, index", INDEXES, ids=[i[0] for i in INDEXES])
def test_getitem_matches_numpy(check_op, name, index):
    check_op(lambda x: x[index], lambda a: a[index], SHAPE)
    check_op(lambda x: tt.getitem(x, index), lambda a: a[index], SHAPE)


def test_tensor_indexes_work_like_arrays():
    a = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    x = tt.tensor(a)
    idx, mask = tt.tensor([2, 2, 0]), tt.tensor(a > 0)
    np.testing.assert_array_equal(x[idx].data, a[[2, 2, 0]])
    np.testing.assert_array_equal(x[mask].data, a[a > 0])
    np.testing.assert_array_equal(x[:, idx].data, a[:, [2, 2, 0]])
    np.testing.assert_array_equal(x[x > 0].data, a[a > 0])


def test_basic_indexing_is_a_view_advanced_is_a_copy():
    x = tt.tensor(np.arange(60.0).reshape(SHAPE))
    assert np.shares_memory(x[1].data, x.data)
    assert np.shares_memory(x[:, ::-1, None].data, x.data)
    assert not np.shares_memory(x[[0, 1]].data, x.data)
    assert not np.shares_memory(x[x.data > 3].data, x.data)



@pytest.mark.parametrize("index", [(1, 2), (-1, 0), (2, -1)], ids=str)
def test_an_int_on_every_axis_gives_a_0d_view(index):
    """Ints on every axis are basic indexing: a 0-d view, as in PyTorch (NumPy gives a scalar
    copy there, and a 0-d view for a[i, j, ...]); a write into the source shows through."""
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    x = tt.tensor(a)
    out = x[index]
    assert type(out.data) is np.ndarray and out.shape == () and out.dtype == np.float32
    assert np.shares_memory(out.data, x.data)
    x.data[index] = -7.0
    assert out.item() == -7.0


# --- pad ----------------------------------------------------------------------------------
PADS = [
    ("int", 1, 0.0, (2, 3)),
    ("pair for every axis", (1, 2), 0.0, (2, 3)),
    ("per axis", ((0, 0), (2, 1), (1, 3)), 0.0, (2, 3, 4)),
    ("nothing on batch axes", ((0, 0), (0, 0), (1, 1), (1, 1)), 0.0, (2, 1, 3, 3)),
    ("value", ((1, 0), (0, 2)), -5.0, (2, 3)),
    ("1-d", (3, 0), 7.0, (4,)),
]


@pytest.mark.parametrize("name, width, value, shape", PADS, ids=[p[0] for p in PADS])
def test_pad_matches_numpy(check_op, name, width, value, shape):
    out = check_op(lambda x: tt.pad(x, width, value=value),
                   lambda a: np.pad(a, width, constant_values=value), shape)
    assert out.dtype == np.float32


def test_pad_copies():
    x = tt.ones(2, 2)
    assert not np.shares_memory(tt.pad(x, 1).data, x.data)


# --- sliding_window -------------------------------------------------------------------------
WINDOWS = [
    ((7,), (3,), 1),
    ((7,), (3,), 2),
    ((6, 7), (3, 2), 1),
    ((6, 7), (2, 2), 2),
    ((6, 7), (3, 2), (2, 1)),
    ((6, 7), (6, 7), 1),  # one window covering everything
    ((2, 3, 6, 5), (3, 3), 1),  # (B, C, H, W), as conv2d uses it
    ((2, 3, 7, 6), (3, 2), (2, 3)),
    ((2, 4, 5), (1, 1), 1),
]


def _windows_numpy(a, window, stride):
    """Every window (sliding_window_view), keeping every `stride`-th start along each axis."""
    n = len(window)
    strides = (stride,) * n if isinstance(stride, int) else stride
    view = sliding_window_view(a, window, axis=tuple(range(a.ndim - n, a.ndim)))
    keep = tuple(slice(None, None, s) for s in strides) + (slice(None),) * n
    return view[(Ellipsis,) + keep]


@pytest.mark.parametrize("shape, window, stride", WINDOWS, ids=str)
def test_sliding_window_matches_numpy(check_op, shape, window, stride):
    out = check_op(lambda x: tt.sliding_window(x, window, stride),
                   lambda a: _windows_numpy(a, window, stride), shape)
    n = len(window)
    strides = (stride,) * n if isinstance(stride, int) else stride
    sizes = tuple((s - k) // st + 1 for s, k, st in zip(shape[-n:], window, strides))
    assert out.shape == shape[:-n] + sizes + window  # (..., OH, OW, KH, KW)


def test_sliding_window_is_a_view():
    x = tt.tensor(np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8))
    out = tt.sliding_window(x, (3, 3), stride=1)
    assert np.shares_memory(out.data, x.data)
    # 6 x 6 windows of 3 x 3 values: ~5x the input's 8 x 8 values, without new memory
    assert out.data.size == 2 * 3 * 6 * 6 * 3 * 3


def test_sliding_window_of_a_non_contiguous_input():
    a = np.arange(48.0, dtype=np.float32).reshape(6, 8)
    x = tt.tensor(a).T  # a transposed view: strides are not C order
    np.testing.assert_array_equal(tt.sliding_window(x, (2, 3), 2).data,
                                  _windows_numpy(a.T, (2, 3), 2))


# --- __setitem__ ----------------------------------------------------------------------------
def test_setitem_writes_in_place_when_no_grad_is_needed():
    a = np.zeros((3, 4), dtype=np.float32)
    x = tt.tensor(a)
    x[0] = 5.0
    x[1, ::2] = tt.tensor([1.0, 2.0])
    x[tt.tensor([False, False, True])] = -1.0
    a[0] = 5.0
    a[1, ::2] = [1.0, 2.0]
    a[2] = -1.0
    np.testing.assert_array_equal(x.data, a)
    assert x.dtype == np.float32


def test_setitem_refused_on_tensors_that_require_grad():
    x = tt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        x[0] = 1.0
    y = x * 2.0  # part of a graph
    with pytest.raises(RuntimeError, match="graph|grad"):
        y[0] = 1.0
    np.testing.assert_array_equal(x.data, np.zeros(3))
    with tt.no_grad():
        z = x * 2.0  # made without recording: an ordinary tensor
    z[0] = 1.0
    assert z.data[0] == 1.0

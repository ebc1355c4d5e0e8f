"""Task 1: the Tensor and its creation functions (dtype rules, shapes, copies vs shared memory)."""

import numpy as np
import pytest

import tt_tensor as tt


# --- tensor(): dtype rules ---------------------------------------------------------------
@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([[1, 2.5], [3, 4]], np.float32),  # mixed ints and floats -> float
        (np.arange(3.0), np.float32),  # a float64 array still becomes float32
        (np.float64(2.0), np.float32),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        (np.arange(3, dtype=np.int32), np.int64),
        (np.arange(3, dtype=np.uint8), np.int64),  # unsigned too
        (np.ones((2, 2), dtype=np.float16), np.float32),  # any float width
        ((1.0, 2.0), np.float32),  # tuples are sequences too
        (True, np.bool_),
        ([True, False], np.bool_),
    ],
)
def test_tensor_default_dtype(data, dtype):
    t = tt.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data).astype(dtype))
    assert t.shape == np.shape(data)


@pytest.mark.parametrize("dtype", [tt.float32, tt.float64, tt.int64, np.int32, bool])
def test_tensor_explicit_dtype(dtype):
    t = tt.tensor([[0.0, 1.0, 2.0]], dtype=dtype)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.data, np.array([[0.0, 1.0, 2.0]], dtype=dtype))


@pytest.mark.parametrize("dtype", [None, np.float32, np.int64])
def test_tensor_copies_an_array_even_when_its_dtype_fits(dtype):
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    a = a.astype(np.float32) if dtype is np.float32 else a
    for t in (tt.tensor(a, dtype=dtype), tt.Tensor(a, dtype=dtype)):
        assert not np.shares_memory(t.data, a)
        np.testing.assert_array_equal(t.data, a)


def test_tensor_is_a_tensor_with_an_ndarray():
    t = tt.tensor([[1.0, 2.0]])
    assert isinstance(t, tt.Tensor)
    assert isinstance(t.data, np.ndarray)
    assert t.requires_grad is False and t.grad is None and t.grad_fn is None


def test_tensor_copies_its_input():
    a = np.ones((2, 3), dtype=np.float32)
    t = tt.tensor(a)
    a[0, 0] = 7.0
    assert t.data[0, 0] == 1.0
    assert not np.shares_memory(t.data, a)
    u = tt.tensor(t)  # from a tensor: a copy as well
    assert not np.shares_memory(u.data, t.data)


def test_from_numpy_shares_memory_and_keeps_dtype():
    a = np.zeros((2, 3), dtype=np.float64)
    t = tt.from_numpy(a)
    assert t.dtype == np.float64
    a[1, 2] = 5.0
    assert t.data[1, 2] == 5.0
    assert np.shares_memory(t.data, a)


def test_tensor_requires_grad_flag():
    assert tt.tensor([1.0], requires_grad=True).requires_grad is True
    t = tt.tensor([1.0]).requires_grad_()
    assert t.requires_grad is True and t.is_leaf


# --- filled tensors ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 4)])
@pytest.mark.parametrize("name, np_fn", [("zeros", np.zeros), ("ones", np.ones)])
def test_zeros_ones(name, np_fn, shape):
    fn = getattr(tt, name)
    for t in (fn(*shape), fn(shape)):  # zeros(2, 3) and zeros((2, 3)) mean the same
        assert t.shape == shape and t.dtype == np.float32
        np.testing.assert_array_equal(t.data, np_fn(shape, dtype=np.float32))
    assert fn(shape, dtype=tt.float64).dtype == np.float64
    assert fn(shape, dtype=tt.int64).dtype == np.int64
    assert fn(shape, requires_grad=True).requires_grad is True


@pytest.mark.parametrize("shape, value", [((2, 3), 7.5), ((4,), -1.0), ((), 2.0)])
def test_full(shape, value):
    t = tt.full(shape, value)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.full(shape, value, dtype=np.float32))
    assert tt.full(shape, value, dtype=tt.float64).dtype == np.float64


@pytest.mark.parametrize("n", [1, 3, 5])
def test_eye(n):
    t = tt.eye(n)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.eye(n, dtype=np.float32))


@pytest.mark.parametrize("name", ["randn", "rand"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)])
def test_random_shapes_and_dtypes(name, shape):
    fn = getattr(tt, name)
    assert fn(*shape).shape == shape and fn(*shape).dtype == np.float32
    assert fn(shape).shape == shape
    assert fn(shape, dtype=tt.float64).dtype == np.float64
    assert fn(shape, requires_grad=True).requires_grad is True


@pytest.mark.parametrize("name", ["randn", "rand", "randn_like", "rand_like"])
def test_random_generator_reproducibility(name):
    fn = getattr(tt, name)
    arg = tt.zeros(3, 4) if name.endswith("_like") else (3, 4)
    a = fn(arg, generator=np.random.default_rng(7))
    b = fn(arg, generator=np.random.default_rng(7))
    c = fn(arg, generator=np.random.default_rng(8))
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)


def test_random_without_generator_follows_numpy_global_seed():
    np.random.seed(3)
    a = tt.randn(5)
    np.random.seed(3)
    b = tt.randn(5)
    np.testing.assert_array_equal(a.data, b.data)


def test_random_distributions():
    gen = np.random.default_rng(0)
    u = tt.rand(20_000, generator=gen).data
    n = tt.randn(20_000, generator=gen).data
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1.0) < 0.03


@pytest.mark.parametrize(
    "args, dtype",
    [((5,), np.int64), ((2, 10, 3), np.int64), ((-3, 3), np.int64), ((5.0,), np.float32),
     ((0, 1, 0.25), np.float32), ((1.0, 2.0, 0.5), np.float32)],
)
def test_arange(args, dtype):
    t = tt.arange(*args)
    assert t.dtype == dtype
    np.testing.assert_allclose(t.data, np.arange(*args).astype(dtype))


def test_arange_explicit_dtype():
    assert tt.arange(4, dtype=tt.float64).dtype == np.float64


@pytest.mark.parametrize("name, np_fn", [("zeros_like", np.zeros_like),
                                         ("ones_like", np.ones_like)])
@pytest.mark.parametrize("src_dtype", [np.float32, np.float64, np.int64])
def test_filled_like(name, np_fn, src_dtype):
    x = tt.tensor(np.arange(6).reshape(2, 3), dtype=src_dtype)
    t = getattr(tt, name)(x)
    assert t.shape == (2, 3) and t.dtype == src_dtype
    np.testing.assert_array_equal(t.data, np_fn(x.data))
    assert getattr(tt, name)(x, dtype=tt.float64).dtype == np.float64
    assert not np.shares_memory(t.data, x.data)


def test_full_like_and_random_like():
    x = tt.zeros(2, 3, dtype=tt.float64)
    f = tt.full_like(x, 4.0)
    assert f.dtype == np.float64
    np.testing.assert_array_equal(f.data, np.full((2, 3), 4.0))
    for fn in (tt.randn_like, tt.rand_like):
        r = fn(x)
        assert r.shape == (2, 3) and r.dtype == np.float64
        assert fn(x, dtype=tt.float32).dtype == np.float32


# --- properties computed from the data -----------------------------------------------------
def test_properties_follow_the_data():
    t = tt.zeros(2, 3)
    assert (t.shape, t.dtype, t.ndim) == ((2, 3), np.float32, 2)
    assert t.numel() == 6 and t.size() == (2, 3) and t.size(1) == 3 and len(t) == 2
    t.data = np.ones((4, 5, 6), dtype=np.float64)
    assert (t.shape, t.dtype, t.ndim) == ((4, 5, 6), np.float64, 3)
    assert t.numel() == 120 and len(t) == 4


# --- leaving the tensor world ---------------------------------------------------------------
def test_numpy_returns_the_shared_array():
    t = tt.tensor([1.0, 2.0])
    assert t.numpy() is t.data


@pytest.mark.parametrize(
    "data, kind", [(2.5, float), ([[3.0]], float), ([7], int), (True, bool)]
)
def test_item_returns_a_python_number(data, kind):
    value = tt.tensor(data).item()
    assert type(value) is kind
    assert value == np.asarray(data).item()


def test_conversions_to_python():
    assert float(tt.tensor([2.5])) == 2.5
    assert int(tt.tensor(3)) == 3
    assert bool(tt.tensor(1.0)) is True
    assert tt.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_detach_shares_data_and_leaves_the_graph():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.data, y.data)
    np.testing.assert_array_equal(d.data, y.data)


def test_iterating_yields_rows():
    a = np.arange(6.0).reshape(3, 2)
    rows = list(tt.tensor(a))
    assert len(rows) == 3
    for row, expected in zip(rows, a):
        np.testing.assert_array_equal(row.data, expected)


# --- a 0-d tensor's data is a 0-d ndarray, never a NumPy scalar -------------------------------
class _Sum(tt.Function):
    @staticmethod
    def forward(ctx, a):
        return a.sum()  # a NumPy scalar for a 1-d a

    @staticmethod
    def backward(ctx, grad):
        return (grad,)


ZERO_D = [  # (name, the op on x (0-d) and v (3,), the same in NumPy)
    ("exp", lambda x, v: tt.exp(x), lambda x, v: np.exp(x)),
    ("neg", lambda x, v: -x, lambda x, v: -x),
    ("add", lambda x, v: x + x, lambda x, v: x + x),
    ("mul by a number", lambda x, v: x * 2.0, lambda x, v: x * np.float32(2.0)),
    ("where", lambda x, v: tt.where(True, x, 0.0), lambda x, v: x),
    ("sum", lambda x, v: v.sum(), lambda x, v: v.sum()),
    ("max", lambda x, v: v.max(), lambda x, v: v.max()),
    ("mean", lambda x, v: v.mean(), lambda x, v: v.mean()),
    ("matmul of vectors", lambda x, v: v @ v, lambda x, v: v @ v),
    ("reshape to 0-d", lambda x, v: x.reshape(1).reshape(()), lambda x, v: x.reshape(())),
    ("getitem of one element", lambda x, v: v[1], lambda x, v: v[1]),
    ("Function returning a NumPy scalar", lambda x, v: _Sum.apply(v), lambda x, v: v.sum()),
]


@pytest.mark.parametrize("name, tt_fn, np_fn", ZERO_D, ids=[z[0] for z in ZERO_D])
def test_a_0d_result_holds_a_0d_ndarray(name, tt_fn, np_fn):
    """`.data` is always an ndarray: for a 0-d result a 0-d array (where NumPy's own ops give
    back a scalar such as np.float32), with the value and dtype of the NumPy expression."""
    a, b = np.array(0.5, dtype=np.float32), np.array([1.0, 2.0, 3.0], dtype=np.float32)
    out = tt_fn(tt.tensor(a), tt.tensor(b))
    assert type(out.data) is np.ndarray, f"{name}: .data is a {type(out.data).__name__}"
    expected = np_fn(a, b)
    assert out.data.shape == () and out.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)

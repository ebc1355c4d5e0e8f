"""Task 4: matrix product with NumPy's rules (vectors, matrices, batched and broadcast batches)."""

import operator

import numpy as np
import pytest

import tt_tensor as tt

MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((1, 5), (5, 1)),
    ((3,), (3, 4)),  # vector @ matrix
    ((2, 3), (3,)),  # matrix @ vector
    ((3,), (3,)),  # dot product -> 0-d
    ((5, 2, 3), (3, 4)),  # batch @ matrix
    ((5, 2, 3), (5, 3, 4)),  # batch @ batch
    ((1, 2, 3), (4, 3, 2)),  # size-1 batch axis broadcasts
    ((2, 3), (6, 3, 4)),  # missing leading axis
    ((2, 1, 2, 3), (5, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("tt_fn", [tt.matmul, operator.matmul], ids=["matmul", "@"])
def test_matmul_matches_numpy(check_op, tt_fn, shapes):
    check_op(tt_fn, np.matmul, *shapes, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_keeps_dtype(check_op, dtype):
    out = check_op(operator.matmul, operator.matmul, (4, 3), (3, 2), dtype=dtype)
    assert out.dtype == dtype


def test_ndarray_at_tensor():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x = tt.tensor(np.ones((3, 2)))
    out = a @ x
    assert isinstance(out, tt.Tensor)
    np.testing.assert_allclose(out.data, a @ x.data)

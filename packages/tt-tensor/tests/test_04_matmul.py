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
    ((3,), (5, 3, 4)),  # vector @ batch: promoted to (1, 3), the row axis dropped
    ((5, 2, 3), (3,)),  # batch @ vector: promoted to (3, 1), the column axis dropped
    ((4,), (2, 1, 4, 3)),
    ((0, 3), (3, 2)),  # no rows
    ((2, 0), (0, 3)),  # inner size 0: a sum of nothing, zeros
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


@pytest.mark.parametrize(
    "a, b", [((5, 2, 3), (4, 3, 2)), ((2, 5, 2, 3), (3, 3, 2)), ((3, 2, 4), (2, 4))], ids=str,
)
def test_shapes_that_do_not_multiply_are_named(a, b):
    with pytest.raises(ValueError):
        np.matmul(np.zeros(a), np.zeros(b))  # NumPy refuses them too
    with pytest.raises(ValueError) as err:
        tt.randn(*a) @ tt.randn(*b)
    message = str(err.value)
    assert message.startswith("matmul: ") and str(a) in message and str(b) in message


def test_a_batch_mismatch_is_not_reported_as_an_inner_mismatch():
    with pytest.raises(ValueError, match="batch") as err:
        tt.randn(5, 2, 3) @ tt.randn(4, 3, 2)
    assert "not aligned" not in str(err.value)


@pytest.mark.parametrize("a, b", [((3,), (4,)), ((2, 3), (2,)), ((3,), (2, 3))], ids=str)
def test_a_promoted_vector_names_its_own_shape(a, b):
    with pytest.raises(ValueError) as err:
        tt.matmul(tt.randn(*a), tt.randn(*b))
    assert str(a) in str(err.value) and str(b) in str(err.value)


def test_matmul_records_both_inputs_and_no_attributes():
    a, b = tt.randn(2, 3, requires_grad=True), tt.randn(3)
    node = (a @ b).grad_fn
    assert node.op == "matmul" and node.inputs[0] is a and node.inputs[1] is b
    assert node.attrs == {}

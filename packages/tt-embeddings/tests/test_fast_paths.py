"""The lookup's fast path (fused.py: EmbeddingRows, whose backward sums rows by one sort)
equals the plain lookup (the getitem primitive and its scatter-add rule), in values and
gradients."""

import numpy as np
import pytest
from tt_tensor import tensor

import tt_embeddings
from tt_embeddings import Embedding, fast_paths_enabled, use_fast_paths


@pytest.fixture(autouse=True)
def restore_setting():
    before = fast_paths_enabled()
    yield
    use_fast_paths(before, threads=None)


def lookup_and_grad(ids, dtype, fast):
    """(output, weight gradient, op name) of Embedding(9, 5) for a fixed upstream gradient."""
    use_fast_paths(fast)
    np.random.seed(0)
    emb = Embedding(9, 5, dtype=dtype)
    out = emb(ids)
    upstream = np.sin(np.arange(out.data.size)).reshape(out.shape).astype(dtype)
    (out * tensor(upstream, dtype=dtype)).sum().backward()
    return out.data, emb.weight.grad.data, out.grad_fn.name, emb.weight.data, upstream


IDS = {
    "repeats-and-unused-rows": np.array([[0, 2, 2, 7], [5, 2, 0, 8]]),  # 1, 3, 4, 6 unused
    "gpt-batch": np.random.default_rng(1).integers(0, 9, (12, 64)),
    "positions": np.arange(3, 8),                                        # each id once
    "one-id": np.array([4]),
    "no-ids": np.zeros((0,), dtype=np.int64),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", IDS)
def test_fast_lookup_equals_the_plain_lookup(case, dtype):
    ids = IDS[case]
    out, grad, op, weight, upstream = lookup_and_grad(ids, dtype, fast=True)
    plain_out, plain_grad, plain_op, _, _ = lookup_and_grad(ids, dtype, fast=False)
    assert op == "EmbeddingRows" and plain_op == "getitem"
    np.testing.assert_array_equal(out, plain_out)
    np.testing.assert_array_equal(out, weight[ids])
    expected = np.zeros(weight.shape, dtype=dtype)           # the math: a scatter-add
    np.add.at(expected, ids, upstream)
    assert grad.dtype == dtype and grad.shape == weight.shape
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(grad, expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grad, plain_grad, rtol=rtol, atol=rtol)


def test_integer_tables_take_the_plain_lookup():
    use_fast_paths(True)
    table = tensor(np.arange(12).reshape(4, 3))
    out = tt_embeddings.embedding(np.array([3, 0, 3]), table)
    assert out.grad_fn is None or out.grad_fn.name == "getitem"
    np.testing.assert_array_equal(out.data, np.arange(12).reshape(4, 3)[[3, 0, 3]])


def test_bad_thread_counts_are_refused():
    for bad in (0, -2, 2.0, True):
        with pytest.raises(ValueError, match="threads"):
            use_fast_paths(True, threads=bad)


def test_the_fast_paths_start_on_only_in_the_reference_build():
    # A learner's own package (version +own) starts on its lookup, so a GPT trains through
    # the learner's embedding; the reference starts on its fast path.
    own = "+own" in tt_embeddings.__version__
    assert fast_paths_enabled() is not own

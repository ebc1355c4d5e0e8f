"""Gradients of tt_embeddings (tt-autograd comes from the `test` extra): the lookup's gradient is
the getitem rule's scatter-add, with repeated ids summed."""

import numpy as np
from tt_autograd import gradcheck
from tt_tensor import float64, tensor

from tt_embeddings import Embedding, LearnedPositionalEncoding, SinusoidalPositionalEncoding


def test_embedding_gradient_is_scatter_add_with_repeats_summed():
    emb = Embedding(6, 3, dtype=float64)
    ids = np.array([[0, 2, 2], [5, 2, 0]])          # 2 three times, 0 twice, 1/3/4 never
    upstream = np.random.default_rng(1).standard_normal((2, 3, 3))
    emb(ids).backward(upstream)
    expected = np.zeros((6, 3))
    np.add.at(expected, ids, upstream)
    np.testing.assert_allclose(emb.weight.grad.data, expected, rtol=1e-12)
    np.testing.assert_array_equal(emb.weight.grad.data[[1, 3, 4]], 0.0)


def test_embedding_gradcheck_with_repeated_indices():
    emb = Embedding(5, 4, dtype=float64)
    ids = np.array([3, 3, 1, 3, 0])
    assert gradcheck(lambda w: (emb(ids) ** 2).sum(axis=-1), emb.weight)


def test_positional_encodings_gradcheck():
    learned = LearnedPositionalEncoding(8, 3, dtype=float64)
    x = tensor(np.random.default_rng(2).standard_normal((2, 5, 3)), dtype=float64,
               requires_grad=True)
    assert gradcheck(lambda a, w: learned(a, offset=2) * a, x, learned.weight)
    fixed = SinusoidalPositionalEncoding(3, max_len=8)
    assert gradcheck(lambda a: fixed(a, offset=1) * a, x)


def test_learned_positions_get_gradient_only_where_used():
    learned = LearnedPositionalEncoding(8, 3, dtype=float64)
    learned(np.zeros((2, 4, 3)), offset=3).backward(np.ones((2, 4, 3)))
    expected = np.zeros((8, 3))
    expected[3:7] = 2.0                              # two sequences, each adds 1 per position
    np.testing.assert_array_equal(learned.weight.grad.data, expected)

"""Embedding: a lookup table of learnable vectors, one row per token id."""

import numpy as np
from tt_layers import Module, Parameter, init
from tt_tensor import Tensor, as_tensor, float32

from .fused import fast_paths_enabled, fused_embedding


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _check_ids(owner, ids, num_embeddings):
    """The index array of `ids` (ints in [0, num_embeddings)), or a clear error."""
    data = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{owner}: indices must be integers, got dtype {data.dtype}")
    if data.size and (data.min() < 0 or data.max() >= num_embeddings):
        bad = data[(data < 0) | (data >= num_embeddings)].flat[0]
        raise IndexError(f"{owner}: index {int(bad)} is out of range for "
                         f"{num_embeddings} embeddings (valid ids: 0..{num_embeddings - 1})")
    return data


def embedding(input, weight):
    """weight[input]: the rows of `weight` (V, C) picked by the ids in `input` (*) -> (*, C).

    The lookup is tt_tensor's getitem primitive, whose gradient scatters back into the rows
    that were used and adds up repeated ids (np.add.at); unused rows get zero.
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {weight.shape}")
    ids = _check_ids("embedding", input, weight.shape[0])
    if fast_paths_enabled():  # fast path (fused.py, README): the backward without np.add.at
        out = fused_embedding(weight, ids)
        if out is not None:
            return out
    ### BEGIN SOLUTION
    return weight[ids]  # (*) ids -> (*, C) rows
    ### END SOLUTION


class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim; forward(ids) = weight[ids].

    Init as PyTorch: weight ~ N(0, 1). Equivalent to one_hot(ids) @ weight, without ever
    building the (*, V) one-hot matrix.
    """

    def __init__(self, num_embeddings, embedding_dim, dtype=None):
        super().__init__()
        self.num_embeddings = _positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _positive_int("Embedding", "embedding_dim", embedding_dim)
        dtype = float32 if dtype is None else dtype
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """weight ~ N(0, 1), PyTorch's default."""
        init.normal_(self.weight, 0.0, 1.0)

    def forward(self, input):
        """(*) int ids -> (*, embedding_dim)."""
        return embedding(input, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"

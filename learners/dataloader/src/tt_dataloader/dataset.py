"""Datasets: the abstract `Dataset` and `TensorDataset` over in-memory arrays.

A dataset may also offer `get_batch(indices)`: the samples at an int64 index array, already
batched (a tuple of arrays with leading dimension B). `DataLoader` then fetches a whole batch with
one fancy-indexing operation per array instead of B calls to `__getitem__`.
"""

from abc import ABC, abstractmethod

import numpy as np
from tt_tensor import Tensor


class Dataset(ABC):
    """A sized collection of samples: subclasses implement `__len__` and `__getitem__`."""

    @abstractmethod
    def __len__(self):
        """The number of samples."""

    @abstractmethod
    def __getitem__(self, index):
        """Sample `index` (0 <= index < len): an array, a number, or a tuple of them."""


def _as_array(x, position):
    if isinstance(x, Tensor):
        return x.data
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"TensorDataset: argument {position} must hold numbers, "
                        f"got dtype {array.dtype}")
    return array


class TensorDataset(Dataset):
    """Samples are the rows of arrays (or Tensors) sharing their first dimension.

    TensorDataset(images, labels)[i] == (images[i], labels[i]).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or Tensor")
        arrays = tuple(_as_array(t, k) for k, t in enumerate(tensors))
        shapes = [a.shape for a in arrays]
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"TensorDataset: every argument needs a first dimension, "
                             f"got shapes {', '.join(map(str, shapes))}")
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(f"TensorDataset: all arguments need the same first dimension, "
                             f"got shapes {', '.join(map(str, shapes))}")
        self.arrays = arrays  # the underlying ndarrays (Tensors are unwrapped, not copied)

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices):
        """The samples at `indices` (B,), batched: one fancy index per array, no Python loop."""
        ### BEGIN SOLUTION
        indices = np.asarray(indices, dtype=np.int64)
        return tuple(a[indices] for a in self.arrays)
        ### END SOLUTION

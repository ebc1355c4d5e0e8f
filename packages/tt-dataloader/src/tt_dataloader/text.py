"""Text for language modelling (Part III): read a UTF-8 file, cut token ids into training windows.

Tokenizing lives in tt-embeddings; here a corpus is already a 1-D integer array of token ids.
A training example is a window of T + 1 consecutive ids: the model reads x = ids[i:i+T] and
predicts y = ids[i+1:i+T+1], the same window shifted by one.
"""

from pathlib import Path

import numpy as np
from tt_tensor import Tensor, from_numpy

from ._rng import make_generator
from .dataset import Dataset


def read_text(path):
    """The whole UTF-8 file as one str; errors name the file (and the bad byte offset)."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"read_text: no such file {path}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"read_text: {path} is not valid UTF-8 at byte {err.start} "
                         f"({err.reason})") from None


def _as_ids(ids, block_size, name):
    """ids as a 1-D integer ndarray long enough for one window of block_size + 1."""
    ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
        raise ValueError(f"{name}: token ids must be a 1-D integer array, "
                         f"got {ids.dtype} {ids.shape}")
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
            or block_size < 1:
        raise ValueError(f"{name}: block_size must be a positive int, got {block_size!r}")
    if ids.size < block_size + 1:
        raise ValueError(f"{name}: need at least block_size + 1 = {block_size + 1} tokens, "
                         f"got {ids.size}")
    return ids


def _windows(ids, starts, block_size):
    """x = ids[s:s+T] and y = ids[s+1:s+T+1] for every start s: two (B, T) int64 arrays.

    ids: int array (N,); starts: int array (B,), each in [0, N - T - 1] (checked here: an
    out-of-range or negative start is an IndexError, never a silent wrap-around).
    """
    starts = np.asarray(starts)
    if starts.size and (starts.min() < 0 or starts.max() > len(ids) - block_size - 1):
        raise IndexError(f"window starts must be in [0, {len(ids) - block_size - 1}] for "
                         f"{len(ids)} tokens and block_size {block_size}, got "
                         f"{starts.min()}..{starts.max()}")
    ### BEGIN SOLUTION
    positions = np.asarray(starts)[:, None] + np.arange(block_size)  # (B, T)
    return ids[positions].astype(np.int64), ids[positions + 1].astype(np.int64)
    ### END SOLUTION


def random_blocks(data, block_size, batch_size, generator=None):
    """B windows at random starts of a token stream -> (x, y), int64 Tensors (B, T).

    nanoGPT's get_batch: starts are uniform in [0, N - T - 1] so y never runs past the end.
    generator: an np.random.Generator (pass the same one each call), or None (a fresh one
    seeded from NumPy's global RNG).
    """
    ids = _as_ids(data, block_size, "random_blocks")
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"random_blocks: generator must be an np.random.Generator or None, got "
                        f"{type(generator).__name__} (an int seed would repeat the same batch)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"random_blocks: batch_size must be a positive int, got {batch_size!r}")
    rng = make_generator(None) if generator is None else generator  # None: seeded globally
    starts = rng.integers(0, ids.size - block_size, size=batch_size)  # (B,)
    x, y = _windows(ids, starts, block_size)
    return from_numpy(x), from_numpy(y)


class TokenDataset(Dataset):
    """Every window of a token stream: item i = (ids[i:i+T], ids[i+1:i+T+1]), N - T items.

    It has get_batch, so DataLoader(TokenDataset(ids, T), batch_size, shuffle=True, seed=0)
    yields (x, y) int64 Tensors (B, T) by fancy indexing, with checkpointable order.
    """

    def __init__(self, ids, block_size):
        self.ids = _as_ids(ids, block_size, "TokenDataset")
        self.block_size = int(block_size)

    def __len__(self):
        return self.ids.size - self.block_size

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"TokenDataset: index {index} out of range for {len(self)} windows")
        x, y = _windows(self.ids, [index % len(self)], self.block_size)
        return x[0], y[0]

    def get_batch(self, indices):
        """(x, y), two (B, T) int64 arrays, for the window starts `indices` (B,)."""
        return _windows(self.ids, indices, self.block_size)

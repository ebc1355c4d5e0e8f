"""DataLoader: a dataset in batches of Tensors, in a seeded order, with checkpointable state."""

import copy

import numpy as np
from tt_tensor import Tensor, from_numpy

from ._rng import generator_state, make_generator, set_generator_state


def _to_tensor(array):
    """A batch ndarray as a Tensor: floats -> float32, integers -> int64, booleans kept."""
    kind = array.dtype.kind
    if kind == "f":
        array = array.astype(np.float32, copy=False)
    elif kind in "iu":
        array = array.astype(np.int64, copy=False)
    elif kind != "b":
        raise TypeError(f"DataLoader: cannot batch data of dtype {array.dtype}")
    return from_numpy(array)


def _as_batch(batch):
    """Every ndarray of a (nested) tuple as a Tensor; Tensors and other objects pass through."""
    if isinstance(batch, (tuple, list)):
        return tuple(_as_batch(item) for item in batch)
    if isinstance(batch, np.ndarray):
        return _to_tensor(batch)
    return batch


def default_collate(samples):
    """Stack B samples into one batch with a leading axis B.

    Arrays, Tensors and numbers -> one Tensor (B, ...); tuples/lists -> a tuple collated field by
    field. Floats become float32 and integers int64, Tensors included (np.stack their .data,
    then _to_tensor). Samples of different shapes raise ValueError naming every shape found,
    e.g. "(3,), (4,)"; tuples of different lengths raise ValueError too.
    """
    if len(samples) == 0:
        raise ValueError("default_collate: got an empty list of samples")
    ### BEGIN SOLUTION
    first = samples[0]
    if isinstance(first, (tuple, list)):
        lengths = sorted({len(s) for s in samples})
        if len(lengths) != 1:
            raise ValueError(f"default_collate: samples have different lengths {lengths}")
        return tuple(default_collate([s[k] for s in samples]) for k in range(len(first)))
    arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
    shapes = sorted({a.shape for a in arrays})
    if len(shapes) != 1:
        raise ValueError(f"default_collate: samples have different shapes "
                         f"{', '.join(map(str, shapes))}; pass a collate_fn that pads them")
    if arrays[0].dtype.kind not in "biuf":
        raise TypeError(f"default_collate: cannot batch samples of type "
                        f"{type(first).__name__} (dtype {arrays[0].dtype})")
    return _to_tensor(np.stack(arrays))  # (B, ...)
    ### END SOLUTION


class DataLoader:
    """Iterate a dataset in batches of Tensors (floats float32, integers int64).

    Array datasets (with `get_batch(indices)`) are batched by fancy indexing; any other Dataset
    by `__getitem__` per sample + `collate_fn` (default_collate). A custom `collate_fn` always
    takes the per-sample path. shuffle draws each epoch's permutation from the loader's own
    np.random.Generator(seed); seed=None draws that seed once from NumPy's global RNG.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 seed=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = make_generator(seed)
        self.epoch = 0  # epochs completed = index of the current (or next) epoch
        self._progress = None  # [generator state at epoch start, batches yielded] mid-epoch
        self._resume_at = 0  # batches to skip at the next epoch (set by load_state_dict)

    @property
    def uses_batch_access(self):
        """True when batches come from one `dataset.get_batch(indices)` call each."""
        return self.collate_fn is None and callable(getattr(self.dataset, "get_batch", None))

    def __len__(self):
        """Batches per epoch: floor(N / B) with drop_last, else ceil(N / B)."""
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _epoch_order(self):
        """The sample indices of one epoch, an int array (N,): a fresh permutation when
        shuffling, else 0..N-1.

        Shuffling makes exactly one call, self.generator.permutation(N), per epoch: the order
        is then a function of the generator's state alone, so a state_dict saved by any
        implementation resumes on any other with the same batches.
        """
        n = len(self.dataset)
        ### BEGIN SOLUTION
        if self.shuffle:
            return self.generator.permutation(n)
        return np.arange(n)
        ### END SOLUTION

    def _fetch(self, indices):
        """The batch at `indices` (B,): one get_batch call, or B __getitem__ calls + collate."""
        ### BEGIN SOLUTION
        if self.uses_batch_access:
            return _as_batch(self.dataset.get_batch(indices))
        collate = self.collate_fn or default_collate
        return _as_batch(collate([self.dataset[int(i)] for i in indices]))
        ### END SOLUTION

    def __iter__(self):
        start_state = generator_state(self.generator)
        order = self._epoch_order()  # drawn now, not at the first next(): state_dict stays exact
        first, self._resume_at = self._resume_at, 0
        progress = self._progress = [start_state, first]
        if first >= len(self):
            self._finish_epoch()
        return self._batches(order, first, progress)

    def _batches(self, order, first, progress):
        size = self.batch_size
        for b in range(first, len(self)):
            batch = self._fetch(order[b * size:(b + 1) * size])
            if self._progress is progress:  # an abandoned iterator no longer updates the state
                progress[1] = b + 1
                if b + 1 == len(self):
                    self._finish_epoch()
            yield batch

    def _finish_epoch(self):
        self.epoch += 1
        self._progress = None

    def state_dict(self):
        """Where the data order stands, JSON-serialisable: epoch, batch, generator (, dataset).

        Between epochs it is the generator state now; mid-epoch it is the state that drew the
        current epoch's order plus the batches already yielded, so a resumed loader re-draws the
        same order and skips them. 'dataset' holds the dataset's own state (random transforms).
        """
        if self._progress is None:
            state = {"epoch": self.epoch, "batch": self._resume_at,
                     "generator": generator_state(self.generator)}
        else:
            state = {"epoch": self.epoch, "batch": self._progress[1],
                     "generator": copy.deepcopy(self._progress[0])}
        if callable(getattr(self.dataset, "state_dict", None)):
            state["dataset"] = self.dataset.state_dict()
        return state

    def load_state_dict(self, state):
        """Resume from `state_dict()`: the next iteration yields what the saved loader would."""
        missing = sorted({"epoch", "batch", "generator"} - set(state))
        if missing:
            raise ValueError(f"DataLoader.load_state_dict: missing keys {missing}, "
                             f"got keys {sorted(state)}")
        batch = int(state["batch"])
        if not 0 <= batch <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {batch} is outside "
                             f"[0, {len(self)}] for this loader")
        if "dataset" in state and not callable(getattr(self.dataset, "load_state_dict", None)):
            raise ValueError(f"DataLoader.load_state_dict: the state has a 'dataset' entry but "
                             f"{type(self.dataset).__name__} has no load_state_dict")
        set_generator_state(self.generator, state["generator"], "DataLoader.load_state_dict")
        self.epoch, self._resume_at, self._progress = int(state["epoch"]), batch, None
        if "dataset" in state:
            self.dataset.load_state_dict(state["dataset"])

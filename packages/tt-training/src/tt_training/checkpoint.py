"""Checkpoints as NumPy .npz files: arrays stored as arrays, everything else as JSON.

No pickle is involved in either direction (`allow_pickle=False`), so loading a checkpoint never
runs code from the file. Saving writes a temporary file in the same directory, flushes it to
disk and renames it over the target: a crash mid-save leaves the previous checkpoint intact.
"""

import json
import os
import tempfile
import zipfile

import numpy as np

FORMAT = "tinytorch-checkpoint-v1"


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt or of another format."""


def _flatten(value, arrays):
    """A JSON-able copy of `value` with every ndarray moved into `arrays` (by key)."""
    ### BEGIN SOLUTION
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if not all(isinstance(k, (str, int)) for k in value):
            raise TypeError(f"checkpoint: dict keys must be str or int, got {list(value)[:5]}")
        return {"__dict__": [[k, _flatten(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"__list__": [_flatten(v, arrays) for v in value], "tuple": isinstance(value, tuple)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"checkpoint: cannot store a value of type {type(value).__name__}")
    ### END SOLUTION


def _unflatten(value, arrays):
    """Invert `_flatten`."""
    ### BEGIN SOLUTION
    if isinstance(value, dict):
        if "__array__" in value:
            return arrays[value["__array__"]]
        if "__dict__" in value:
            return {k: _unflatten(v, arrays) for k, v in value["__dict__"]}
        items = [_unflatten(v, arrays) for v in value["__list__"]]
        return tuple(items) if value["tuple"] else items
    return value
    ### END SOLUTION


def atomic_write(path, write, mode="wb"):
    """Call write(file) on a temporary file beside `path`, flush it to disk, rename it over `path`.

    Readers see the old file or the new one, never half of one; on any error the temporary
    file is removed and the old file is untouched.
    """
    ### BEGIN SOLUTION
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    ### END SOLUTION


def save_checkpoint(path, state):
    """Write the nested `state` (dicts, lists, numbers, strings, ndarrays) to `path` atomically."""
    arrays = {}
    meta = {"format": FORMAT, "state": _flatten(state, arrays)}
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path):
    """Read a checkpoint written by `save_checkpoint`; CheckpointError names the file if bad."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"checkpoint {path!r} is truncated or corrupt: {err}") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {path!r} has format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    return _unflatten(meta["state"], arrays)

"""Checkpoints as NumPy .npz files: arrays stored as arrays, everything else as JSON.

No pickle is involved in either direction (`allow_pickle=False`), so loading a checkpoint never
runs code from the file. Saving writes a temporary file in the same directory, flushes it to
disk and renames it over the target: a crash mid-save leaves the previous checkpoint intact.
"""

import json
import math
import os
import secrets
import stat
import time
import zipfile

import numpy as np

try:
    import fcntl
except ImportError:  # not POSIX (Windows): stale temporary files are then left alone
    fcntl = None

FORMAT = "tinytorch-checkpoint-v1"
TEMP_SUFFIX = ".tt-tmp"   # atomic_write's temporary files: .<target name>.<8 hex>.tt-tmp
STALE_SECONDS = 60.0      # an unlocked temporary file this old was left by a killed writer


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt or of another format."""


def _flatten(value, arrays):
    """A JSON-able copy of `value` with every ndarray moved into `arrays` (by key), tagged so
    that `_unflatten` can rebuild it: {"__array__": key}, {"__dict__": [[k, v], ...]},
    {"__list__": [...], "tuple": bool}; None, bool, int, float, str as they are.

    `value` is nested dicts, lists and tuples of ndarrays, NumPy scalars, None, bool, int,
    float and str. Each kind becomes (the tags are the file format `_unflatten` reads):
    - an ndarray: stored as `arrays[key]` under a new key (the reference uses "a0", "a1", ...;
      never "__meta__"), returned as `{"__array__": key}`; it keeps its dtype and shape;
    - a NumPy scalar (np.int64(4), np.float32(0.5)): anything that loads back as an equal
      number; the reference writes its Python number, `value.item()`;
    - a dict: `{"__dict__": [[key, flattened value], ...]}` in insertion order; pairs, not a
      JSON object, so str and int keys come back as they were (the reference refuses any
      other key with a TypeError);
    - a list or tuple: `{"__list__": [flattened items], "tuple": isinstance(value, tuple)}`;
    - None, bool, int, float, str: itself.
    Any other type raises TypeError naming it. `arrays` is filled in place; returns the copy.
    """
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
    """Invert `_flatten`: the nested value back, with `arrays[key]` for `{"__array__": key}`;
    KeyError for a key `arrays` lacks, and KeyError, TypeError or ValueError for a malformed
    entry (never a guess).

    `{"__dict__": pairs}` becomes a dict, `{"__list__": items, "tuple": flag}` a tuple when
    flag is true, else a list (both rebuilt recursively); anything that is not a dict is
    returned as it is. It reads a file's metadata, so it must fail, not guess, on bad input:
    a reference to a key `arrays` lacks raises KeyError (naming the key); a dict that is none
    of the three tags, or a tag holding the wrong kind of value (`{"__list__": 5}`,
    `{"__dict__": [[1, 2, 3]]}`), raises KeyError, TypeError, ValueError, AttributeError or
    IndexError. `load_checkpoint` turns each of those into a CheckpointError naming the file.
    """
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
    On any exception, KeyboardInterrupt included, remove the temporary file and re-raise.

    `mode` is "wb" (write gets a binary file) or "w" (a text file, always UTF-8, whatever the
    locale). Readers see the old file or the new one, never half of one: on any exception
    (KeyboardInterrupt included) the temporary file is removed, the old file is untouched and
    the exception propagates. `path` must be a regular file or not exist (a symlink is
    followed); missing parent folders are created. A new file gets the umask's permissions,
    a replaced file keeps its own. Given before the task: the target checks, the folder and
    the removal of stale temporaries; `_open_temporary(path)` returns (fd, temporary name,
    lock fd), and the lock fd is closed only after the rename, whatever happens.
    """
    path = _writable_target(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(path)
    ### BEGIN SOLUTION
    fd, tmp, keep = _open_temporary(path)  # `keep` holds the lock until the rename is done
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        if keep is not None:
            os.close(keep)
    ### END SOLUTION


def _writable_target(path):
    """The real path behind `path`; ValueError if it exists and is not a regular file."""
    path = os.path.realpath(os.fspath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path
    if not stat.S_ISREG(st.st_mode):
        kind = "folder" if stat.S_ISDIR(st.st_mode) else "device, FIFO or socket"
        raise ValueError(f"atomic_write: {path!r} is a {kind}, not a regular file; "
                         "refusing to replace it")
    return path


def _temporary_prefix(path):
    return "." + os.path.basename(path)[:200] + "."  # names stay under the 255-byte limit


def _open_temporary(path):
    """(fd, name, lock fd) of a new file beside `path`, named .<name>.<8 hex>.tt-tmp."""
    prefix = os.path.join(os.path.dirname(path), _temporary_prefix(path))
    while True:
        tmp = prefix + secrets.token_hex(4) + TEMP_SUFFIX
        try:  # os.open applies the umask to 0o666, as open() would (mkstemp forces 0o600)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
            break
        except FileExistsError:
            continue
    if os.path.isfile(path):
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    if fcntl is None:
        return fd, tmp, None
    fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: never blocks
    return fd, tmp, os.dup(fd)  # the lock lives as long as any descriptor of the file


def _remove_stale_temporaries(path):
    """Delete temporary files of `path` left by killed writers: older than STALE_SECONDS and
    not locked. A live writer holds an flock on its file, so it is never removed."""
    if fcntl is None:  # no flock: cannot tell a stale file from a slow writer's, leave them
        return
    directory, prefix = os.path.dirname(path), _temporary_prefix(path)
    for name in os.listdir(directory):
        middle = name[len(prefix):-len(TEMP_SUFFIX)]
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX) and len(middle) == 8
                and all(c in "0123456789abcdef" for c in middle)):
            continue
        _remove_if_stale(os.path.join(directory, name))


def _remove_if_stale(tmp):
    try:
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return  # gone already (its writer finished), or not ours to open
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < STALE_SECONDS:
            return
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a writer is alive
        if os.stat(tmp).st_ino == st.st_ino:
            os.unlink(tmp)
    except OSError:
        return
    finally:
        os.close(fd)


def save_checkpoint(path, state):
    """Write the nested `state` (dicts, lists, numbers, strings, ndarrays) to `path` atomically."""
    where = _object_array(state, "state")
    if where is not None:  # np.savez would pickle it, and load_checkpoint refuses pickles
        raise TypeError(f"save_checkpoint: {where} is an object-dtype array (Python objects "
                        f"would be pickled); store numbers as a numeric array, text as str")
    arrays = {}
    meta = {"format": FORMAT, "state": _flatten(state, arrays)}
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _object_array(value, where):
    """Where in `value` the first ndarray holding Python objects is (e.g. "state['w'][0]")."""
    if isinstance(value, np.ndarray):
        return where if value.dtype.hasobject else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _object_array(item, f"{where}[{key!r}]")
        if found is not None:
            return found
    return None


# Deflate cannot expand data by more than about 1032:1; a member that claims more is a lie.
_MAX_DEFLATE_RATIO = 1100


def npz_headers(path):
    """{name: (shape, dtype)} of every array in the .npz file `path`, read from the .npy headers
    inside the zip without loading any array. CheckpointError names the file and the member
    when a header is unreadable, holds Python objects, or claims more bytes than the file has.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as zf:
            return {info.filename[:-4]: _member_header(path, zf, info)
                    for info in zf.infolist()}
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path!r} is truncated or corrupt, not a readable .npz file "
                              f"({type(err).__name__}: {err})") from None


def _member_header(path, zf, info):
    if not info.filename.endswith(".npy"):
        raise CheckpointError(f"{path!r}: member {info.filename!r} is not a .npy array")
    limit = os.path.getsize(path) * (1 if info.compress_type == zipfile.ZIP_STORED
                                     else _MAX_DEFLATE_RATIO)
    if info.file_size > limit:
        raise CheckpointError(f"{path!r}: member {info.filename!r} claims {info.file_size} "
                              f"bytes, more than the file can hold")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise CheckpointError(f"{path!r}: {info.filename!r} has .npy format {version}")
        header_bytes = f.tell()
    if dtype.hasobject:
        raise CheckpointError(f"{path!r}: {info.filename!r} holds Python objects (it would "
                              "need pickle, which is never loaded)")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != info.file_size - header_bytes:
        raise CheckpointError(f"{path!r}: {info.filename!r} says {dtype} {shape} ({nbytes} "
                              f"bytes) but holds {info.file_size - header_bytes} bytes")
    return shape, dtype


def load_checkpoint(path):
    """Read a checkpoint written by `save_checkpoint`; CheckpointError names the file if bad."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist")
    npz_headers(path)  # before np.load allocates what the headers claim
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except RecursionError:
        raise CheckpointError(f"checkpoint {path!r}: its metadata is nested too deeply") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"checkpoint {path!r} is truncated or corrupt: {err}") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path!r}: its metadata is a JSON "
                              f"{type(meta).__name__}, not an object")
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {path!r} has format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    if "state" not in meta:
        raise CheckpointError(f"checkpoint {path!r}: its metadata has no 'state'")
    return _unflatten_checked(path, meta["state"], arrays)


def _unflatten_checked(path, state, arrays):
    try:
        return _unflatten(state, arrays)
    except RecursionError:
        raise CheckpointError(f"checkpoint {path!r}: its state is nested too deeply") from None
    except KeyError as err:
        raise CheckpointError(f"checkpoint {path!r}: its state refers to {err}, which is "
                              "missing (a dangling array reference or a malformed entry)") from None
    except (TypeError, ValueError, AttributeError, IndexError) as err:
        raise CheckpointError(f"checkpoint {path!r}: its state is malformed "
                              f"({type(err).__name__}: {err})") from None

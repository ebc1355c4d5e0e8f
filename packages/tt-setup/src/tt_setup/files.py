"""Writing a file so that a reader finds the old one or the new one, never half of each.

Every package that saves something small (a tokenizer's vocabulary, a grade report, the
learner's state) writes it the same way, so the rule lives here once: write a temporary file
beside the target, then rename it over the target in one step. tt-training's `atomic_write`
goes further for checkpoints (flush to disk, locks, stale temporaries): that is its lesson.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder renamed over it.

    `str` data is written as UTF-8 text, `bytes` as they are. Missing parent folders are
    created. On any exception (KeyboardInterrupt included) the temporary file is removed, the
    old file at `path` is untouched and the exception propagates. Returns `path` as a Path.
    """
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"write_atomically: data must be str or bytes, got "
                        f"{type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

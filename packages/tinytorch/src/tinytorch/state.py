"""The user-level state of the `tinytorch` command: the last contract-test result per module.

`tinytorch test` records its result here and `tinytorch status` reads it. Each Python
environment has its own file, `test-results-<key>.json` (the key is a hash of the environment's
folder, `sys.prefix`), so two venvs, or two learners on one machine, never see each other's
results. The file lives in the state folder: $TINYTORCH_STATE_DIR when set (tests use it), else
%LOCALAPPDATA%\\tinytorch on Windows, ~/Library/Application Support/tinytorch on macOS and
$XDG_STATE_HOME/tinytorch (default ~/.local/state/tinytorch) elsewhere. It is written to a
temporary name and renamed; a damaged file is treated as empty and replaced by the next record.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from tt_setup import write_atomically

STATE_ENV = "TINYTORCH_STATE_DIR"


def environment_key(prefix: str | None = None) -> str:
    """A short stable name for a Python environment: the start of the SHA-256 of its folder."""
    folder = os.path.normcase(os.path.abspath(prefix or sys.prefix))
    return hashlib.sha256(folder.encode("utf-8")).hexdigest()[:12]


RESULTS_FILE = f"test-results-{environment_key()}.json"


def state_dir() -> Path:
    """Where the command keeps its state (see the module doc)."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "tinytorch"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "tinytorch"
    return Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state") / "tinytorch"


def read_results() -> dict:
    """{distribution: its last result} ({} when nothing was recorded or the file is damaged)."""
    path = state_dir() / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_result(distribution: str, result: dict) -> Path:
    """Store `result` (passed, failed, skipped, ok, version, kind) as the module's last one,
    stamped with the time; returns the file. Raises OSError when the folder is not writable."""
    results = read_results()
    results[distribution] = {**result, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path = state_dir() / RESULTS_FILE
    write_atomically(path, json.dumps(results, indent=2, sort_keys=True))
    return path

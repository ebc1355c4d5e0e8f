"""What this machine is: Python, NumPy and its BLAS, cores, thread settings; and seeding."""

from __future__ import annotations

import os
import platform
import random
import sys

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's `random` and NumPy's global generator with `seed`; return
    `np.random.default_rng(seed)`, a new Generator seeded with the same number.

    `seed` has been checked (given): an int or a NumPy integer in [0, 2**32). Pass `int(seed)`
    on: `random.seed` refuses a NumPy integer on Python >= 3.11. Every later random draw
    (weight init, shuffling, dropout) is then reproducible run to run.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed_everything: seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed_everything: seed must be in [0, 2**32), got {seed}")
    ### BEGIN SOLUTION
    random.seed(int(seed))
    np.random.seed(int(seed))
    return np.random.default_rng(int(seed))
    ### END SOLUTION


def system_info() -> dict:
    """A dict describing the interpreter, NumPy, its BLAS/LAPACK, the CPUs and thread settings:
    the eleven keys this docstring lists, each from the call it names.

    Exactly these eleven keys: "python_version" (`platform.python_version()`, e.g. "3.12.4"),
    "python_implementation" (`platform.python_implementation()`, e.g. "CPython"),
    "python_executable" (`sys.executable`), "platform" (`platform.platform()`, e.g.
    "Linux-6.8.0-x86_64-with-glibc2.39"), "machine" (`platform.machine()`, e.g. "x86_64"),
    "numpy_version" (`np.__version__`), "blas" and "lapack" (the two names `blas_names()`
    returns), "cpu_count" (`os.cpu_count()`, 1 when unknown), "usable_cpus"
    (`usable_cpu_count()`) and "threads" ({name: os.environ.get(name)} for each of
    THREAD_VARIABLES, None when unset). `blas_names` and `usable_cpu_count` are given below.
    """
    ### BEGIN SOLUTION
    blas, lapack = blas_names()
    return {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "numpy_version": np.__version__,
        "blas": blas,
        "lapack": lapack,
        "cpu_count": os.cpu_count() or 1,
        "usable_cpus": usable_cpu_count(),
        # None means "not set": the BLAS then picks its own thread count (usually all cores).
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }
    ### END SOLUTION


def usable_cpu_count() -> int:
    """The CPUs this process may run on (fewer than os.cpu_count() under a CPU affinity mask)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def blas_names() -> tuple[str, str]:
    """Names of the BLAS and LAPACK NumPy was built against, 'unknown' when it does not say."""
    try:
        dependencies = np.show_config(mode="dicts")["Build Dependencies"]
    except (TypeError, KeyError):  # NumPy < 1.26: no mode="dicts"; the older config attributes
        return _legacy_config_name("blas_opt_info"), _legacy_config_name("lapack_opt_info")
    return (_dependency_name(dependencies.get("blas", {})),
            _dependency_name(dependencies.get("lapack", {})))


def _dependency_name(entry: dict) -> str:
    if not entry.get("found", False):
        return "unknown"
    version = entry.get("version")
    return f"{entry.get('name', 'unknown')} {version}" if version else entry.get("name", "unknown")


def _legacy_config_name(attribute: str) -> str:
    info = getattr(getattr(np, "__config__", None), attribute, None) or {}
    libraries = info.get("libraries") if isinstance(info, dict) else None
    return ", ".join(libraries) if libraries else "unknown"

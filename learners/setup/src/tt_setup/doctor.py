"""`doctor()`: the checks behind `tinytorch doctor`, each with a fix hint; and its report."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .environment import system_info
from .modules import ModuleRecord, module_report

MIN_PYTHON = (3, 10)
MIN_NUMPY = (1, 24)


@dataclass(frozen=True)
class Check:
    """One doctor check: did it pass, what was seen, and how to fix it when it did not."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


def doctor() -> list[Check]:
    """Run every check: Python, NumPy, BLAS, each installed module imports, `pip check`."""
    return ([check_python(), check_numpy(), check_blas()]
            + [check_import(record) for record in module_report() if record.installed]
            + [check_pip()])


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    return Check("python >= 3.10", sys.version_info[:2] >= MIN_PYTHON, version,
                 "install Python 3.10 or newer and recreate the virtual environment")


def check_numpy() -> Check:
    hint = "pip install 'numpy>=1.24'"
    try:
        import numpy
    except ImportError as error:
        return Check("numpy >= 1.24", False, f"cannot import numpy: {error}", hint)
    release = tuple(int(part) for part in numpy.__version__.split(".")[:2] if part.isdigit())
    return Check("numpy >= 1.24", release >= MIN_NUMPY, numpy.__version__, hint)


def check_blas() -> Check:
    try:
        blas = system_info()["blas"]
    except ImportError as error:
        return Check("BLAS", False, f"cannot import numpy: {error}", "pip install numpy")
    except Exception as error:  # a learner's own tt-setup whose system_info is not done yet
        return Check("BLAS", False, f"system_info() failed: {type(error).__name__}: {error}",
                     "finish system_info() in your tt-setup, or reinstall the reference: "
                     "pip install -e ./packages/tt-setup")
    return Check("BLAS", blas != "unknown", blas,
                 "install a NumPy wheel from PyPI (it bundles OpenBLAS): pip install numpy")


def check_import(record: ModuleRecord) -> Check:
    """The installed module imports (a broken learner package fails here, not mid-training)."""
    name = f"import {record.import_name}"
    hint = (f"fix the error above, or reinstall the reference: "
            f"pip install -e ./packages/{record.distribution}")
    try:
        importlib.import_module(record.import_name)
    except Exception as error:  # any failure at import is what this check reports
        return Check(name, False, f"{type(error).__name__}: {error}", hint)
    return Check(name, True, record.version or "", hint)


def check_pip(timeout: float = 120.0) -> Check:
    """`python -m pip check`: the installed distributions' requirements are all satisfied."""
    command = [sys.executable, "-m", "pip", "check"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Check("pip check", False, f"no answer within {timeout:.0f} s",
                     f"run {' '.join(command)} by hand")
    output = (done.stdout + done.stderr).strip()
    if "No module named pip" in output:
        uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in $UV
        if uv is None:
            return Check("pip check", False, "pip is not installed in this environment",
                         f"{sys.executable} -m ensurepip --upgrade (or run under uv)")
        command = [uv, "pip", "check", "--python", sys.executable]  # uv's venvs have no pip
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        output = (done.stdout + done.stderr).strip()
    hint = "install the missing or conflicting packages listed (from ./packages/ for tt-*)"
    return Check("pip check", done.returncode == 0, "; ".join(output.splitlines()), hint)

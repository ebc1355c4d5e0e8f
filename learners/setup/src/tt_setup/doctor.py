"""`doctor()`: the checks behind `tinytorch doctor`, each with a fix hint; and its report."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata

from .modules import ModuleRecord, module_report

MIN_PYTHON = (3, 10)
MIN_NUMPY = (1, 24)


@dataclass(frozen=True)
class Check:
    """One doctor check: did it pass, what was seen, and how to fix it when it did not.

    `warn`: it passed, but something optional is missing (an extra a module's tests need);
    the report shows it with its hint, and it fails nothing."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
    warn: bool = False


def doctor() -> list[Check]:
    """Run every check: Python, NumPy, BLAS, each installed module imports, each installed
    module's optional extras (a warning when one is missing), `pip check`."""
    installed = [record for record in module_report() if record.installed]
    return ([check_python(), check_numpy(), check_blas()]
            + [check_import(record) for record in installed]
            + [check for record in installed
               for check in check_extras(record.distribution)]
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
        from .environment import system_info  # here: it loads NumPy (see __init__)

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


def check_extras(distribution: str, requires: list[str] | None = None) -> list[Check]:
    """One check per optional extra of `distribution` (`tt-systems[metrics]`), from its
    requirement lines (default: the installed metadata's; none when it is not installed).

    Each passes, with a warning when a package the extra names is not installed: a module runs
    without its extras, but its contract tests use them (`tinytorch test` fails there)."""
    if requires is None:
        try:
            requires = metadata.distribution(distribution).requires or []
        except metadata.PackageNotFoundError:
            return []
    extras: dict[str, list[str]] = {}
    for line in requires:
        marker = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", line)
        if marker:
            name = re.match(r"[A-Za-z0-9._-]+", line.strip()).group(0)
            extras.setdefault(marker.group(1), []).append(name)
    checks = []
    for extra, names in extras.items():
        missing = [name for name in names if not _installed(name)]
        label = f"{distribution}[{extra}]"
        hint = f"pip install '{label}' (your own copy: pip install -e 'FOLDER[{extra}]')"
        detail = (f"optional, not installed: {', '.join(missing)} (the module's contract "
                  "tests need it)" if missing else "installed")
        checks.append(Check(label, True, detail, hint, warn=bool(missing)))
    return checks


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


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

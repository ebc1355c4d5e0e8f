"""What `tinytorch doctor` prints: the machine, the seventeen modules, the checks, as text
(`format_report`) or as plain data for `tinytorch doctor --json` (`report_dict`)."""

from __future__ import annotations

import re
from dataclasses import asdict

from .doctor import Check
from .modules import ModuleRecord


def format_report(checks: list[Check], modules: list[ModuleRecord], info: dict) -> str:
    """Render system_info(), module_report() and doctor() results as one text report."""
    failed = [check for check in checks if not check.ok]
    warned = sum(check.ok and check.warn for check in checks)
    summary = (f"{len(failed)} of {len(checks)} checks failed" if failed
               else f"all {len(checks)} checks passed")
    if warned:
        summary += f", {warned} with a warning"
    return "\n".join(["TinyTorch doctor", *format_system(info), "",
                      *format_modules(modules, checks), "", *format_checks(checks), "", summary])


def report_dict(checks: list[Check], modules: list[ModuleRecord], info: dict) -> dict:
    """The same report as plain data (JSON-ready): `ok`, `python`, `numpy`, `blas`, `system`
    (all of system_info(), or {"error": ...}), `modules` (one dict per module: its
    ModuleRecord fields plus `pip`, as in the text) and `checks` (name, ok, detail, hint,
    warn)."""
    pip = next((check for check in checks if check.name == "pip check"), None)
    return {
        "ok": all(check.ok for check in checks),
        "python": info.get("python_version"),
        "numpy": info.get("numpy_version"),
        "blas": info.get("blas"),
        "system": info,
        "modules": [{**asdict(record), "pip": pip_status(record, pip)} for record in modules],
        "checks": [asdict(check) for check in checks],
    }


def format_system(info: dict) -> list[str]:
    if "error" in info:  # system_info() itself failed (a learner's tt-setup in progress)
        return [f"  {info['error']}"]
    threads = " ".join(f"{name}={value if value is not None else 'unset'}"
                       for name, value in info["threads"].items())
    return [
        f"  Python {info['python_version']} ({info['python_implementation']}) "
        f"on {info['platform']}",
        f"  NumPy {info['numpy_version']}, BLAS {info['blas']}, LAPACK {info['lapack']}",
        f"  CPUs: {info['cpu_count']} ({info['usable_cpus']} usable); threads: {threads}",
    ]


def format_modules(modules: list[ModuleRecord], checks: list[Check] = ()) -> list[str]:
    """One row per module: version, reference or own, whether `pip check` names it, where."""
    pip = next((check for check in checks if check.name == "pip check"), None)
    rows = [f"  {'#':<3} {'distribution':<18} {'version':<14} {'code':<10} {'pip check':<10} "
            "location"]
    for record in modules:
        version = record.version if record.installed else "not installed"
        rows.append(f"  {record.number:02d}  {record.distribution:<18} {version:<14} "
                    f"{record.kind or '-':<10} {pip_status(record, pip):<10} "
                    f"{record.location or ''}".rstrip())
    return rows


def pip_status(record: ModuleRecord, pip: Check | None) -> str:
    """'ok' unless a line of `pip check` names this distribution ('conflict'); '-' if unknown."""
    if pip is None or not record.installed:
        return "-"
    if pip.ok:
        return "ok"
    pattern = re.compile(rf"(^|[\s,]){re.escape(record.distribution)}($|[\s,;~=<>!.])",
                         re.IGNORECASE)
    named = [line for line in pip.detail.split("; ")
             if pattern.search(line.replace("_", "-"))]
    return "conflict" if named else "ok"


def format_checks(checks: list[Check]) -> list[str]:
    width = max((len(check.name) for check in checks), default=0)
    rows = ["  checks"]
    for check in checks:
        status = "FAIL" if not check.ok else "warn" if check.warn else "ok"
        rows.append(f"  {status:<5} {check.name:<{width}}  {check.detail}")
        if (not check.ok or check.warn) and check.hint:
            rows.append(f"  {'':<5} {'':<{width}}  hint: {check.hint}")
    return rows

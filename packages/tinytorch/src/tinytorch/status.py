"""`tinytorch status`: where a learner stands.

Per module: installed or not, reference or own (tt_setup's module report), the stub tasks left in
the installed source, the last result of `tinytorch test` (tinytorch.state); then which capstones
the installed stack can run. `--json` prints the same as one JSON object.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import tt_setup

from .run import CAPSTONES
from .state import RESULTS_FILE, read_results, state_dir


def stub_tasks_left(record) -> int | None:
    """How many scaffold stubs (`raise NotImplementedError("tt-<module>: implement ...")`) the
    installed source of the module still holds; None when it is not installed.

    Read from the installed files, never imported. (One function on purpose: the exact task
    count of `tinytorch test` replaces this text scan once it is available.)"""
    if not record.installed:
        return None
    spec = importlib.util.find_spec(record.import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    stub = re.compile(r"raise\s+NotImplementedError\(\s*[\"']"
                      + re.escape(record.distribution) + r": implement")
    return sum(len(stub.findall(path.read_text(encoding="utf-8", errors="replace")))
               for folder in spec.submodule_search_locations
               for path in sorted(Path(folder).rglob("*.py")))


def module_rows() -> list[dict]:
    results = read_results()
    rows = []
    for record in tt_setup.module_report():
        last = results.get(record.distribution)
        if last is not None and last.get("version") != record.version:
            last = {**last, "stale": True}  # tested another version than the installed one
        rows.append({"number": record.number, "distribution": record.distribution,
                     "installed": record.installed, "version": record.version,
                     "kind": record.kind, "location": record.location,
                     "stubs_left": stub_tasks_left(record), "last_test": last})
    return rows


def capstone_rows(modules: list[dict]) -> list[dict]:
    by_name = {row["distribution"]: row for row in modules}
    rows = []
    for capstone in CAPSTONES.values():
        missing = [m for m in capstone.modules if not by_name[m]["installed"]]
        stubbed = [m for m in capstone.modules if by_name[m]["stubs_left"]]
        rows.append({"name": capstone.name, "extra": capstone.extra, "can_run": not missing,
                     "missing": missing, "modules_with_stubs": stubbed})
    return rows


def status() -> dict:
    modules = module_rows()
    return {"modules": modules, "capstones": capstone_rows(modules),
            "state_file": str(state_dir() / RESULTS_FILE)}


def test_text(last: dict | None) -> str:
    if last is None:
        return "never run"
    if last.get("crashed"):
        verdict = "crashed"
    else:
        verdict = "passed" if last["ok"] else f"FAILED ({last['failed']} failing)"
    stale = f", was {last['version']}" if last.get("stale") else ""
    return f"{verdict}: {last['passed']} passed, {last['time'][:16]}{stale}"


def format_status(data: dict) -> str:
    lines = ["modules (stubs = tasks still raising NotImplementedError; last test = the last "
             "full `tinytorch test` run):",
             f"  {'#':>2}  {'module':<18} {'code':<10} {'stubs':>5}  last test"]
    for row in data["modules"]:
        code = row["kind"] if row["installed"] else "-"
        stubs = "-" if row["stubs_left"] is None else str(row["stubs_left"])
        lines.append(f"  {row['number']:02d}  {row['distribution']:<18} {code:<10} "
                     f"{stubs:>5}  {test_text(row['last_test']) if row['installed'] else '-'}")
    lines.append("capstones (tinytorch run NAME):")
    for row in data["capstones"]:
        if not row["can_run"]:
            state = (f"no: needs {', '.join(row['missing'])} "
                     f"(pip install 'tinytorch[{row['extra']}]')")
        elif row["modules_with_stubs"]:
            state = f"runs, but will stop at the stubs of {', '.join(row['modules_with_stubs'])}"
        else:
            state = "yes"
        lines.append(f"  {row['name']:<15} {state}")
    return "\n".join(lines)


def run_status(as_json: bool) -> int:
    data = status()
    print(json.dumps(data, indent=2) if as_json else format_status(data))
    return 0

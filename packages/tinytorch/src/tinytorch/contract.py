"""`tinytorch test <module>`: the module's official contract tests, on what is installed.

The tests come from the course folder (tinytorch.course: the copy shipped in the tinytorch
wheel, or the checkout's packages/), never from the learner's folder. pytest runs in a child
process started in an empty temporary folder, with its own empty pytest.ini, so neither the
current directory nor a learner's tests/ or pytest settings can change what runs. The child
writes a per-file and per-test summary; this side prints one row per test file, then one row
per task (tinytorch.tasks): a stub (read from the installed source, so the count is exact
whatever the tests reached), failing, waiting for another task's stub, or passing, judged by
the tests tests/tasks.txt maps to it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import tt_setup
from tt_setup import CourseModule

from .course import CourseEntry, CourseError, course_entry, course_root
from .state import record_result
from .tasks import (
    TaskMapError, installed_functions, installed_package_dir, ordered_tasks, read_task_map,
    stub_task, node_key, tests_of,
)

# One progress line of pytest and then our summary; `-- --tb=short` shows the tracebacks.
DEFAULT_ARGS = ["-q", "--tb=no", "-rN", "-p", "no:cacheprovider",
                "--continue-on-collection-errors"]
SHOWN_STUBS = 6  # stub messages listed per file before "... and N more"


META = "tinytorch"


def checked_entry(name: str) -> CourseEntry:
    """The package `tinytorch test NAME` checks: a course module (any of its names), or the
    meta-package itself for `tinytorch` (its tests, shipped in the course folder)."""
    if name.strip().lower() != META:
        return course_entry(name)
    entry = CourseEntry(CourseModule(0, META, 1), course_root() / META)
    if not entry.tests_dir.is_dir():
        raise CourseError(f"the course folder has no {entry.tests_dir}: this tinytorch was "
                          "built without its own tests")
    return entry


def missing_test_requirements(distribution: str) -> list[str]:
    """Siblings the installed module's `test` extra names that are not installed."""
    missing = []
    for requirement in metadata.requires(distribution) or []:
        if not re.search(r"""extra\s*==\s*["']test["']""", requirement):
            continue
        name = re.match(r"\s*([A-Za-z0-9._-]+)", requirement).group(1)
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


MISSING_MODULE = re.compile(r"No module named '([A-Za-z0-9_.]+)'")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def optional_requirements(distribution: str) -> dict[str, str]:
    """{third-party distribution: the smallest extra of `distribution` that installs it},
    from the installed metadata (the `test` extra has its own note: requirement_note)."""
    try:
        requirements = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return {}
    found: dict[str, str] = {}
    for requirement in requirements:
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
        name = re.match(r"\s*([A-Za-z0-9._-]+)", requirement)
        if extra and name and extra.group(1) != "test":
            found.setdefault(_normalized(name.group(1)), extra.group(1))
    return found


def extra_notes(distribution: str, files: dict) -> list[str]:
    """A line per test file that could not be collected because it imports a module that one
    of `distribution`'s extras installs: which extra, and the pip command."""
    extras = optional_requirements(distribution)
    notes = []
    for name in sorted(files):
        missing = MISSING_MODULE.search(files[name]["collection_error"] or "")
        extra = missing and extras.get(_normalized(missing.group(1).split(".")[0]))
        if extra:
            notes.append(f"note: {name} could not be collected: it needs {missing.group(1)}, "
                         f"which the [{extra}] extra of {distribution} installs: "
                         f"pip install '{distribution}[{extra}]'")
    return notes


@dataclass(frozen=True)
class MetaRecord:
    """What `installed_record` gives for the meta-package (tt_setup reports only modules)."""

    version: str
    location: str
    installed: bool = True
    kind: str = "reference"


def installed_record(entry: CourseEntry):
    """tt_setup's record (version, own or reference, location) of the installed module."""
    if entry.distribution == META:
        return MetaRecord(metadata.version(META), str(Path(__file__).resolve().parent))
    return next(r for r in tt_setup.module_report() if r.distribution == entry.distribution)


def header(entry: CourseEntry, record) -> list[str]:
    return [
        f"tinytorch test {entry.short_name}: the official contract tests of "
        f"{entry.distribution}",
        f"  tests:          {entry.tests_dir}",
        f"  implementation: {entry.distribution} {record.version} ({record.kind}) "
        f"at {record.location}",
    ]


def requirement_note(entry: CourseEntry, missing: list[str]) -> str:
    names = ", ".join(missing)
    return (f"note: the contract tests of {entry.distribution} also need {names} (its `test` "
            f"extra), which is not installed: its gradient tests fail until you install it "
            f"(pip install -e <checkout>/packages/{missing[0]}, or tinytorch[vision] from "
            f"wheels)")


def run_child(entry: CourseEntry, pytest_args: list[str], workdir: Path,
              select: list[str] | None = None) -> dict | None:
    """Run pytest on the official tests in a child process (only the tests the task map
    patterns `select` name, when given); its summary, or None if it died."""
    (workdir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = workdir / "result.json"
    # -P (Python >= 3.11; 3.10 has no such flag, and the cwd is an empty folder anyway): the
    # current directory is not on the child's sys.path. A flag, not PYTHONSAFEPATH=1, which
    # would leak into every program the tests start (a capstone importing its own folder).
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    selection = []
    if select is not None:
        (workdir / "select.json").write_text(json.dumps(select), encoding="utf-8")
        selection = ["--select", str(workdir / "select.json")]
    command = [sys.executable, *safe_path, "-m", "tinytorch._contract_child", str(result),
               str(entry.tests_dir), *selection, "-c", str(workdir / "pytest.ini"),
               "--rootdir", str(entry.tests_dir), *DEFAULT_ARGS, *pytest_args]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    sys.stdout.flush()
    done = subprocess.run(command, cwd=workdir, env=env)
    if not result.is_file():
        return {"crashed": done.returncode}
    return json.loads(result.read_text(encoding="utf-8"))


def summary_lines(files: dict) -> tuple[list[str], int, int]:
    """The per-file table; also the numbers of failing tests and of distinct stub messages."""
    width = max([len(name) for name in files] + [20])
    lines = [f"  {'task (test file)':<{width}}  passed  failed  skipped"]
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    stubs: set[str] = set()
    for name in sorted(files):
        counts = files[name]
        failed = counts["failed"] + counts["errors"]
        lines.append(f"  {name:<{width}}  {counts['passed']:>6}  {failed:>6}  "
                     f"{counts['skipped']:>7}")
        for key, value in (("passed", counts["passed"]), ("failed", failed),
                           ("skipped", counts["skipped"])):
            totals[key] += value
        lines += detail_lines(counts)
        stubs |= set(counts["stubs"])
    lines.append(f"  {'all':<{width}}  {totals['passed']:>6}  {totals['failed']:>6}  "
                 f"{totals['skipped']:>7}")
    return lines, totals["failed"], len(stubs)


def detail_lines(counts: dict) -> list[str]:
    """Under a file's row: its collection error, its stub messages, its first failure
    that is not a stub's NotImplementedError."""
    lines = []
    if counts["collection_error"]:
        lines.append(f"      could not be collected (counted as failed): "
                     f"{counts['collection_error']}")
    ranked = sorted(counts["stubs"].items(), key=lambda item: (-item[1], item[0]))
    for message, number in ranked[:SHOWN_STUBS]:
        lines.append(f"      not implemented ({number} test{'s' * (number != 1)}): {message}")
    if len(ranked) > SHOWN_STUBS:
        lines.append(f"      ... and {len(ranked) - SHOWN_STUBS} more not-implemented tasks")
    if counts["first_failure"]:
        lines.append(f"      first failure not from a stub: {counts['first_failure']}")
    return lines


@dataclass
class TaskRow:
    """One task of `tinytorch test`'s table."""

    name: str
    where: str   # file:line in the installed package (the reference's when it has none)
    status: str  # stub, failing, waiting, passing, not run
    passed: int = 0
    total: int = 0
    detail: str = ""
    found: bool = True  # False: the installed package has no function of that name


def task_rows(entry: CourseEntry, tests: dict) -> list[TaskRow]:
    """Every task of the module, in the order to do them, with its status (see module doc)."""
    package = installed_package_dir(entry.import_name)
    functions = installed_functions(package, entry.distribution) if package else {}
    mapping = read_task_map(entry.tests_dir)
    by_key: dict[str, list[dict]] = {}
    for nodeid, result in tests.items():
        by_key.setdefault(node_key(nodeid), []).append(result)
    rows = []
    for task in ordered_tasks(entry.source_dir, entry.tests_dir):
        results = [r for key in tests_of(mapping.get(task.name, []), by_key)
                   for r in by_key[key]]
        found = functions.get(task.name)
        where = (f"{found.path.relative_to(package.parent).as_posix()}:{found.line}" if found
                 else f"(the reference's {entry.import_name}/{task.path}:{task.line})")
        row = TaskRow(task.name, where, "", sum(r["outcome"] == "passed" for r in results),
                      len(results))
        if found is not None and found.stub:
            row.status = "stub"
        else:  # written, or organised differently (no such function): judged by its tests
            row.status, row.detail = judge(entry, task.name, results)
            row.found = found is not None
        rows.append(row)
    return rows


def judge(entry: CourseEntry, name: str, results: list[dict]) -> tuple[str, str]:
    """(status, detail) of a written task from its tests' results."""
    ran = [r for r in results if r["outcome"] != "skipped"]
    if not ran:
        return "not run", ""
    failures = [r for r in ran if r["outcome"] == "failed"]
    own = [r for r in failures
           if stub_task(r["stub"]) in (None, (entry.distribution, name))]
    if own:
        return "failing", own[0]["error"] or "(no message)"
    if failures:
        waits = sorted({"{} {}".format(*stub_task(r["stub"])) for r in failures})
        return "waiting", "its tests stop at the stub of " + ", ".join(waits)
    return "passing", ""


def task_lines(rows: list[TaskRow]) -> list[str]:
    """The per-task table and its count line."""
    width = max([len(r.name) for r in rows] + [4])
    lines = [f"  {'#':>3}  {'task':<{width}}  {'status':<8} tests  where"]
    for number, row in enumerate(rows, 1):
        tests = f"{row.passed}/{row.total}"
        lines.append(f"  {number:>3}  {row.name:<{width}}  {row.status:<8} {tests:>5}  "
                     f"{row.where}")
        if row.detail:
            lines.append(f"       {row.detail[:200]}")
    counts = {s: sum(r.status == s for r in rows)
              for s in ("stub", "failing", "waiting", "not run", "passing")}
    lines.append("  tasks: " + f"{len(rows)}, " + ", ".join(f"{k} {v}" for k, v in
                                                           counts.items()))
    absent = [r.name for r in rows if not r.found]
    if absent:
        lines.append(f"  not a function of the installed package (judged by their tests only): "
                     f"{', '.join(absent)}")
    return lines


def task_patterns(entry: CourseEntry, task: str) -> list[str]:
    """The test patterns tests/tasks.txt maps `task` to; CourseError naming the tasks if none."""
    mapping = read_task_map(entry.tests_dir)
    if task not in mapping:
        known = ", ".join(mapping) or "none: the module has no tests/tasks.txt"
        raise CourseError(f"{entry.distribution} has no task {task!r}; its tasks: {known}")
    if not mapping[task]:
        raise CourseError(f"task {task!r} of {entry.distribution} maps to no test "
                          f"({entry.tests_dir.name}/tasks.txt)")
    return mapping[task]


def run_contract_tests(entry: CourseEntry, pytest_args: list[str],
                       task: str | None = None) -> int:
    """Print the header, run the tests (only `task`'s, when given), print the summary; 0 only
    when everything that ran passed."""
    if importlib.util.find_spec("pytest") is None:
        print("tinytorch test needs pytest: pip install pytest", file=sys.stderr)
        return 2
    if not entry.tests_dir.is_dir():
        print(f"tinytorch test: no contract tests at {entry.tests_dir}", file=sys.stderr)
        return 2
    try:
        select = None if task is None else task_patterns(entry, task)
    except (CourseError, TaskMapError) as error:
        print(f"tinytorch test: {error}", file=sys.stderr)
        return 2
    record = installed_record(entry)
    if not record.installed:
        print(f"tinytorch test: {entry.distribution} is not installed: install the reference "
              f"or your own (pip install -e DIR, after tinytorch new {entry.short_name} DIR)",
              file=sys.stderr)
        return 2
    missing = missing_test_requirements(entry.distribution)
    print("\n".join(header(entry, record)))
    if missing:
        print(requirement_note(entry, missing))
    print(flush=True)
    with tempfile.TemporaryDirectory(prefix="tinytorch-test-") as workdir:
        result = run_child(entry, pytest_args, Path(workdir), select)
    selection = " ".join(([f"--task {task}"] if task else []) + pytest_args)
    code = report(entry, result, missing, selection)
    if not selection:  # a run of every test is the module's result; a selection is not
        remember(entry, record, result, code)
    return code


def remember(entry: CourseEntry, record, result: dict, code: int) -> None:
    """Record the result for `tinytorch status` (tinytorch.state); a note if it cannot."""
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for counts in result.get("files", {}).values():
        totals["passed"] += counts["passed"]
        totals["failed"] += counts["failed"] + counts["errors"]
        totals["skipped"] += counts["skipped"]
    try:
        record_result(entry.distribution, {**totals, "ok": code == 0, "version": record.version,
                                           "kind": record.kind, "crashed": "crashed" in result})
    except OSError as error:  # a read-only home must not fail the tests
        print(f"note: could not record this result for tinytorch status: {error}",
              file=sys.stderr)


def report(entry: CourseEntry, result: dict, missing: list[str], selection: str = "") -> int:
    """Print the summary of a child's result; the exit code of `tinytorch test`. `selection`:
    the arguments that chose a subset of the tests ("" for all)."""
    print()
    if "crashed" in result:
        print(f"the test process of {entry.distribution} died (exit code {result['crashed']}) "
              "before it could report: see its output above (the last test it started is the "
              "one that killed it)")
        return 1
    lines, failed, _ = summary_lines(result["files"])
    passed = sum(counts["passed"] for counts in result["files"].values())
    print(f"summary of {entry.distribution}, per test file:")
    print("\n".join(lines + extra_notes(entry.distribution, result["files"])))
    rows = []
    if entry.source_dir.is_dir():
        try:
            rows = task_rows(entry, result.get("tests", {}))
        except TaskMapError as error:
            print(f"the task map is broken, no per-task summary: {error}")
    if rows:
        print(f"\nper task, in the order to do them (tests: passed/mapped, "
              f"{entry.tests_dir.name}/tasks.txt):")
        print("\n".join(task_lines(rows)))
    if missing:
        print(requirement_note(entry, missing))
    status = result["exitstatus"]
    stubs = sum(row.status == "stub" for row in rows)
    if failed:
        stub_text = f"; {stubs} of {len(rows)} task(s) are still stubs" if stubs else ""
        print(f"FAILED: {failed} test(s) failed{stub_text}")
    elif status == 5:
        print("no test was run (check the pytest arguments after --)")
    elif status != 0:
        print(f"pytest stopped with exit code {status}")
    elif selection:
        print(f"OK: the {passed} contract test(s) of {entry.distribution} selected by "
              f"`{selection}` pass; `tinytorch test {entry.short_name}` runs them all")
    else:
        print(f"OK: every contract test of {entry.distribution} passes ({passed})")
    return 0 if status == 0 and not failed else 1

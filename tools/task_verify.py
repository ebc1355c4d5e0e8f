"""Check that a module's tests/tasks.txt tells the truth (`python tools/tasks.py verify`).

`tinytorch test` judges each task by the tests tests/tasks.txt maps to it, so a wrong map
reports a broken task as passing. Two checks, on the reference:

- coverage: every contract test is named by a task or by the `(given)` group (tests of code
  the scaffold gives), and every pattern names a test;
- mutation: for each task, a temporary copy of the package's source with only that task's
  regions replaced by the scaffold's stub (tinytorch.scaffold.stub_text) runs the contract
  tests in a child process (the copy first on PYTHONPATH, nothing installed). Every test that
  fails must be mapped to that task or to later ones only (a later task may use earlier ones;
  an earlier task whose test fails here could not pass before this one is written), never to
  the `(given)` group; and at least one of the task's own tests must fail (else its tests
  cannot tell a stub from a solution).

The reference itself must pass every test first. The result is one row per task and a list
of the violations.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINYTORCH_SRC = ROOT / "packages" / "tinytorch" / "src"
if str(TINYTORCH_SRC) not in sys.path:
    sys.path.insert(0, str(TINYTORCH_SRC))
from tinytorch.scaffold import stub_text  # noqa: E402
from tinytorch.tasks import (  # noqa: E402
    TaskMapError, course_tasks, matches, node_key, ordered_tasks, read_given, read_task_map,
)

CHILD_ARGS = ["-q", "--tb=no", "-p", "no:cacheprovider", "--continue-on-collection-errors"]


@dataclass
class TaskResult:
    """What stubbing one task did: the tests that failed, and the task's own among them."""

    name: str
    mapped: list[str]
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def own_failed(self) -> list[str]:
        return [t for t in self.failed if t in self.mapped]


@dataclass
class Verdict:
    """The outcome of `verify` for one package."""

    package: str
    tasks: list[TaskResult] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tests: list[str] = field(default_factory=list)  # every contract test key
    mapping: dict[str, list[str]] = field(default_factory=dict)
    given: list[str] = field(default_factory=list)

    def checkable_order(self) -> list[str]:
        """The tasks in an order where each can have a test of its own (one whose failing
        tasks all come no later), close to the current order: built from the end, each step
        places, among the tasks some test fails for together with only unplaced tasks, the
        one that leaves the most other unplaced tasks such a test (the latest in the current
        order on a tie). A task no test can be its own keeps its place among the rest (the
        mutation check then names it)."""
        current = [t.name for t in self.tasks]
        failing = [{t.name for t in self.tasks if test in t.failed} for test in self.tests]

        def can_own(name, unplaced):
            return any(name in names and names <= unplaced for names in failing)

        left, tail = list(current), []
        while left:
            unplaced = set(left)
            ready = [name for name in left if can_own(name, unplaced)]
            kept = {name: sum(can_own(other, unplaced - {name}) for other in left
                              if other != name) for name in ready}
            pick = max(reversed(ready), key=kept.get) if ready else left[-1]
            left.remove(pick)
            tail.insert(0, pick)
        return tail

    def orphans(self, about: dict[str, list[str]]) -> list[str]:
        """The tasks of a map none of whose tests fails when that task is a stub."""
        failed = {t.name: set(t.failed) for t in self.tasks}
        return [name for name, tests in about.items() if not failed[name] & set(tests)]

    def truthful_map(self, order=None) -> tuple[dict[str, list[str]], list[str]]:
        """A map the mutation check accepts, closest to the current one: each test keeps the
        tasks it is mapped to that come no earlier than the last task whose stub fails it
        (that task when none is left); a test no stub fails keeps its tasks, or goes to
        (given). Tasks in `order` (default: the current order, or checkable_order when that
        leaves fewer tasks without a failing test of their own). Returns (task -> tests in that order, the (given)
        tests)."""
        if order is None:  # the current order, unless checkable_order leaves fewer orphans
            current = [t.name for t in self.tasks]
            order = min([current, self.checkable_order()],  # min keeps the first on a tie
                        key=lambda o: len(self.orphans(*self.truthful_map(o)[:1])))
        about: dict[str, list[str]] = {name: [] for name in order}
        given = []
        for test in self.tests:
            mine = [order.index(t) for t in owners(test, self.mapping)]
            failing = [order.index(task.name) for task in self.tasks if test in task.failed]
            if failing:
                mine = [i for i in mine if i >= max(failing)] or [max(failing)]
            if not mine:
                given.append(test)
            for i in mine:
                about[order[i]].append(test)
        return about, given


def owners(test: str, mapping: dict[str, list[str]]) -> list[str]:
    """The tasks whose patterns name `test`, in the map's order."""
    return [task for task, patterns in mapping.items() if any(matches(p, test) for p in patterns)]


def collapse(tests: list[str]) -> list[str]:
    """Test keys with the parametrizations of one test written once: `f.py::test_x[3 cases]`."""
    cases: dict[str, list[str]] = {}
    for test in tests:
        cases.setdefault(test.split("[", 1)[0], []).append(test)
    return [group[0] if len(group) == 1 else f"{base}[{len(group)} cases]"
            for base, group in cases.items()]


def coverage(tests: list[str], mapping: dict[str, list[str]], given: list[str]) -> list[str]:
    """Violations of the coverage check (see the module doc)."""
    loose = [t for t in tests if not owners(t, mapping) and not any(matches(p, t) for p in given)]
    problems = [f"{test} is mapped to no task and not to (given)" for test in collapse(loose)]
    for task, patterns in [*mapping.items(), ("(given)", given)]:
        for pattern in patterns:
            if not any(matches(pattern, test) for test in tests):
                problems.append(f"{task}: pattern {pattern} names no contract test")
    return problems


def stubbed_copy(source: Path, dest: Path, distribution: str, task: str | None) -> None:
    """Copy the package folder `source` to `dest`, with `task`'s regions stubbed (None: as is)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if task is None:
        return
    for path in sorted(dest.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        new, stubs = stub_text(text, distribution, str(path), only=task)
        if stubs:
            path.write_text(new, encoding="utf-8")


def run_tests(src: Path, tests_dir: Path, import_name: str, workdir: Path) -> dict[str, str]:
    """test key -> outcome (passed, failed, skipped) of the contract tests, with `src` first
    on the path; a test that was not collected is missing. Refuses to go on when the package
    that imports is not the copy in `src`."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([str(src), str(TINYTORCH_SRC),
                                           os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    where = subprocess.run([sys.executable, "-c", f"import {import_name}; "
                            f"print({import_name}.__file__)"], capture_output=True, text=True,
                           env=env, cwd=workdir)
    if not where.stdout.strip().startswith(str(src)):
        raise RuntimeError(f"{import_name} does not import from the temporary copy {src}: "
                           f"{where.stdout.strip() or where.stderr.strip()}")
    (workdir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = workdir / "result.json"
    result.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "tinytorch._contract_child", str(result),
                    str(tests_dir), "-c", str(workdir / "pytest.ini"), "--rootdir",
                    str(tests_dir), *CHILD_ARGS], cwd=workdir, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not result.is_file():
        raise RuntimeError(f"the test process of {import_name} died before it reported")
    tests = json.loads(result.read_text(encoding="utf-8"))["tests"]
    return {node_key(nodeid): value["outcome"] for nodeid, value in tests.items()}


def mutation(result: TaskResult, index: int, mapping: dict[str, list[str]],
             given: list[str]) -> list[str]:
    """Violations of the mutation check for the task at `index` of the map's order."""
    order = list(mapping)
    why: dict[str, list[str]] = {}  # the reason -> the tests it applies to
    for test in result.failed:
        earlier = [t for t in owners(test, mapping) if order.index(t) < index]
        if earlier:
            reason = f"which is mapped to earlier task(s) {', '.join(earlier)}"
        elif any(matches(p, test) for p in given):
            reason = "a test of given code"
        elif not owners(test, mapping):
            reason = "which is mapped to no task"
        else:
            continue
        why.setdefault(reason, []).append(test)
    problems = [f"{result.name} stubbed fails {', '.join(collapse(tests))}, {reason}"
                for reason, tests in why.items()]
    if not result.own_failed:
        problems.append(f"{result.name}: none of its {len(result.mapped)} mapped test(s) fails "
                        "when it is a stub")
    return problems


def verify(package_dir: Path, progress=None) -> Verdict:
    """Both checks for the package in `package_dir` (packages/tt-x); `progress(text)` is told
    of each run."""
    package_dir = Path(package_dir).resolve()  # the child runs in another folder
    distribution = package_dir.name
    import_name = distribution.replace("-", "_")
    source, tests_dir = package_dir / "src" / import_name, package_dir / "tests"
    verdict = Verdict(distribution)
    start = time.monotonic()
    try:
        mapping, given = read_task_map(tests_dir), read_given(tests_dir)
    except TaskMapError as error:
        verdict.violations.append(str(error))
        return verdict
    names = [t.name for t in ordered_tasks(source, tests_dir)]
    if sorted(mapping) != sorted(t.name for t in course_tasks(source)):
        verdict.violations.append(f"tests/tasks.txt lists {sorted(mapping)}, the solution "
                                  f"regions are {sorted(names)}")
        return verdict
    with tempfile.TemporaryDirectory(prefix="tasks-verify-") as temp:
        temp = Path(temp)
        base = run_one(source, temp / "reference", distribution, None, tests_dir, import_name)
        tests = sorted(base)
        verdict.tests, verdict.mapping, verdict.given = tests, mapping, given
        if not tests:
            verdict.violations.append(f"no contract test of {distribution} was collected")
            return verdict
        verdict.violations += [f"{t} fails on the reference" for t in tests
                               if base[t] == "failed"]
        verdict.violations += coverage(tests, mapping, given)
        for index, name in enumerate(names):
            if progress:
                progress(f"{distribution}: {name} stubbed ({index + 1}/{len(names)})")
            began = time.monotonic()
            outcomes = run_one(source, temp / f"task{index}", distribution, name, tests_dir,
                               import_name)
            failed = [t for t in tests if outcomes.get(t, "failed") == "failed"
                      and base[t] != "failed"]  # a test failing anyway says nothing here
            mapped = [t for t in tests if any(matches(p, t) for p in mapping[name])]
            result = TaskResult(name, mapped, failed, time.monotonic() - began)
            verdict.tasks.append(result)
            verdict.violations += mutation(result, index, mapping, given)
    verdict.seconds = time.monotonic() - start
    return verdict


def run_one(source, folder, distribution, task, tests_dir, import_name) -> dict[str, str]:
    """The outcomes of the contract tests on a copy of `source` with `task` stubbed."""
    src = folder / "src"
    stubbed_copy(source, src / source.name, distribution, task)
    return run_tests(src, tests_dir, import_name, folder)


def table(verdict: Verdict) -> list[str]:
    """The per-task rows and the violations of one package."""
    width = max([len(t.name) for t in verdict.tasks] + [4])
    lines = [f"{verdict.package} ({verdict.seconds:.0f} s)",
             f"  {'#':>3}  {'task':<{width}}  mapped  fail when stubbed  of them mapped here"]
    for number, task in enumerate(verdict.tasks, 1):
        lines.append(f"  {number:>3}  {task.name:<{width}}  {len(task.mapped):>6}  "
                     f"{len(task.failed):>17}  {len(task.own_failed):>18}")
    if verdict.violations:
        lines.append(f"  {len(verdict.violations)} violation(s):")
        lines += [f"    - {v}" for v in verdict.violations]
    else:
        lines.append("  OK: every test is mapped, and each stub fails only its own or later "
                     "tasks' tests")
    return lines

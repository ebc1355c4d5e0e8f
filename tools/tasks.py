"""Draft a module's tests/tasks.txt (which contract tests check which task); check or verify it.

    python tools/tasks.py draft tt-activations [--write]
    python tools/tasks.py check tt-activations
    python tools/tasks.py verify tt-activations [tt-layers ...] | --all [--write]

verify (tools/task_verify.py): every test is mapped (to a task or to `(given)`), and stubbing
each task alone fails only tests of that task or of later ones, and some of its own; exit 1
on a violation.

draft runs the package's contract tests on the reference with a profiler hook that records which
task functions each test calls, then proposes for each test the tasks it is *about*: the ones
its name or parameters name (`test_relu_...` -> relu, `test_x[relu]` -> relu,
`test_conv2d_...` -> Conv2d.forward); a test that names none is one of the other tests. A task
no test is about gets every test that calls it. The tasks the others' tests also call come
first. Prints the draft, or writes it with --write (keeping the order of the tasks that an
existing tasks.txt gives). It is a draft: read it, and move a test to the task it really
checks; packages/tinytorch/tests/test_tasks.py checks the result against the scaffold.

`check` runs the tests the same way and reads the existing tasks.txt: a test mapped to a task
may call only that task and earlier ones (the order `tinytorch new` lists them in), and must
call the task itself, else a learner doing the tasks in order meets a test that stops at a
stub they have not reached, or one that cannot tell their task right from wrong. Exit status 1
with one line per problem.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packages" / "tinytorch" / "src"))
sys.path.insert(0, str(ROOT / "tools"))
from tinytorch.scaffold import _functions, find_regions  # noqa: E402
from tinytorch.tasks import (  # noqa: E402
    GIVEN, TASK_MAP, matches, node_key, read_task_map, tests_of,
)

GENERIC = {"forward", "backward", "__init__", "__call__", "step", "apply", "__iter__",
           "__len__", "__getitem__", "call", "run", "update"}
HEADER = """\
# Which contract tests check which task (`tinytorch test` reports each task by its tests).
# The tasks are in the order to do them. `task: patterns`, more patterns on indented lines;
# a pattern is matched against `file::test[params]` (`*`: anything; no `[`: any params).
# `(given):` names the tests of code the scaffold gives (not a task).
# Drafted by `python tools/tasks.py draft {name}`, then read and corrected by hand;
# `python tools/tasks.py verify {name}` checks it.
"""


def task_code_keys(source_dir: Path) -> dict[tuple[str, int], str]:
    """(file, first line of the code object) -> task name, for every function with a region."""
    keys = {}
    for path in sorted(source_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        regions = find_regions(text, str(path))
        if not regions:
            continue
        names = {r.qualname for r in regions}
        for function in _functions(ast.parse(text)):
            name = function.signature.split("(", 1)[0]
            if name in names:
                node = function.node
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                keys[(str(path.resolve()), first)] = name
    return keys


class Recorder:
    """A pytest plugin: the task functions each test calls."""

    def __init__(self, keys):
        self.keys, self.calls = keys, defaultdict(set)
        self.current = None

    def profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            task = self.keys.get((code.co_filename, code.co_firstlineno))
            if task is not None:
                self.calls[self.current].add(task)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        self.current = node_key(item.nodeid)
        self.calls.setdefault(self.current, set())
        sys.setprofile(self.profile)
        try:
            yield
        finally:
            sys.setprofile(None)


def words(text: str) -> list[str]:
    """The lower-case words of a name, in order: snake_case and CamelCase are split."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def spans(needle: list[str], haystack: list[str]) -> list[range]:
    """Where `needle` occurs as a run of consecutive words of `haystack`."""
    n = len(needle)
    return [range(i, i + n) for i in range(len(haystack) - n + 1) if haystack[i:i + n] == needle]


def task_words(task: str) -> list[str]:
    """The words a test name uses for the task: its function, or its class for a generic method."""
    parts = task.split(".")
    if parts[-1] in GENERIC and len(parts) > 1:
        return words(parts[-2])
    return words(parts[-1])


def named_tasks(test: str, called) -> list[str]:
    """The called tasks that the test's file, name or parameters name; a task whose words only
    occur inside a longer named task's (softmax inside log_softmax) is left out."""
    file, _, name = test.partition("::")
    sequence = words(file.removeprefix("test_").removesuffix(".py")) + words(name)
    found = {t: spans(task_words(t), sequence) for t in called if task_words(t)}
    found = {t: where for t, where in found.items() if where}
    kept = []
    for task, where in found.items():
        inside = all(any(set(w) < set(o) for other, places in found.items() if other != task
                         for o in places) for w in where)
        if not inside:
            kept.append(task)
    return kept


def draft(calls: dict[str, set[str]], tasks: list[str]) -> dict[str, list[str]]:
    """task -> the tests it is about (see the module doc)."""
    about = {task: [] for task in tasks}
    for test, called in sorted(calls.items()):
        for task in named_tasks(test, called):
            about[task].append(test)
    for task, tests in about.items():
        if not tests:
            tests += sorted(test for test, called in calls.items() if task in called)
    return about


def course_order(about: dict[str, list[str]], calls: dict[str, set[str]],
                 tasks: list[str]) -> list[str]:
    """The tasks the others build on first: ordered by how many other tasks' tests also call
    them (most first), then in file order. The order to do them in."""
    needs = {task: set().union(*(calls[t] for t in about[task])) - {task} for task in tasks}
    users = {task: sum(task in needs[other] for other in tasks) for task in tasks}
    return sorted(tasks, key=lambda t: (-users[t], tasks.index(t)))


def compact(tests: list[str], all_tests) -> list[str]:
    """Fewest patterns for `tests`: a test whose every parametrization is in `tests` is written
    once without parameters; else `test[*id*]` when one parameter id picks exactly these."""
    out = []
    for test in tests:
        base = test.split("[", 1)[0]
        family = [t for t in all_tests if t.split("[", 1)[0] == base]
        if set(family) <= set(tests):
            pattern = base
        else:
            mine = [t for t in family if t in tests]
            pattern = re.sub(r"[\s#]+", "*", test)  # a map line splits at spaces
            tokens = [re.sub(r"[*#]+", "*", token) for token in
                      re.split(r"[-\s]+", test.split("[", 1)[1].rstrip("]")) if token]
            candidates = [f"{base}[{form.format(token)}]" for token in tokens
                          for form in ("*{}*", "*-{}", "{}-*", "*-{}-*")]
            pattern = next((c for c in candidates
                            if [t for t in family if matches(c, t)] == mine), pattern)
        if pattern not in out:
            out.append(pattern)
    return out


def render(name: str, about: dict[str, list[str]], order: list[str], all_tests,
           given=()) -> str:
    lines = [HEADER.format(name=name)]
    for task in order:
        lines.append(f"{task}:")
        lines += [f"    {test}" for test in compact(about.get(task, []), all_tests)]
    if given:
        lines.append(f"{GIVEN}:")
        lines += [f"    {test}" for test in compact(list(given), all_tests)]
    return "\n".join(lines) + "\n"


def order_problems(mapping: dict[str, list[str]], calls: dict[str, set[str]]) -> list[str]:
    """One line per test that a task map puts under a task it does not call, or under a task
    earlier than another task it calls (see the module doc)."""
    position = {task: i for i, task in enumerate(mapping)}
    problems = []
    for task, patterns in mapping.items():
        for test in tests_of(patterns, sorted(calls)):
            later = sorted((t for t in calls[test] if position.get(t, -1) > position[task]),
                           key=position.get)
            if later:
                problems.append(f"{task}: {test} also calls the later task(s) "
                                f"{', '.join(later)}")
            if task not in calls[test]:
                problems.append(f"{task}: {test} never calls {task}")
    return problems


def record_calls(folder: Path, keys) -> dict[str, set[str]] | None:
    """test -> the task functions it calls, from one run of the package's tests (None when a
    test fails: the map is drawn from the reference passing them all)."""
    recorder = Recorder(keys)
    status = pytest.main([str(folder / "tests"), "-q", "-p", "no:cacheprovider"],
                         plugins=[recorder])
    return None if status != 0 else dict(recorder.calls)


def verify_main(packages: list[str], write: bool = False) -> int:
    """Run task_verify on each package, print its table; 1 when any has a violation. With
    `write`, a package with violations gets the truthful draft (Verdict.truthful_map) as its
    tests/tasks.txt, to read and then verify again."""
    import task_verify

    status = 0
    for package in packages:
        verdict = task_verify.verify(ROOT / "packages" / package,
                                     progress=lambda text: print(text, file=sys.stderr))
        print("\n".join(task_verify.table(verdict)), flush=True)
        status |= bool(verdict.violations)
        if write and verdict.violations and verdict.tasks:
            about, given = verdict.truthful_map()
            text = render(package, about, list(about), verdict.tests, given)
            path = ROOT / "packages" / package / "tests" / TASK_MAP
            temporary = path.with_name(TASK_MAP + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
            print(f"  wrote {path.relative_to(ROOT)}: read it, then verify again")
            for name in verdict.orphans(about):  # the order cannot give these a test
                print(f"  {name} still has no test of its own: add a direct test, or make it "
                      "given code")
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["draft", "check", "verify"])
    parser.add_argument("package", nargs="*", help="tt-activations, ...")
    parser.add_argument("--write", action="store_true", help="write tests/tasks.txt (draft; "
                        "verify: a truthful draft where it finds a violation)")
    parser.add_argument("--all", action="store_true", help="verify: every course module")
    args = parser.parse_args(argv)
    if args.command == "verify":
        if args.all:
            import tt_setup
            args.package = [m.distribution for m in tt_setup.COURSE_MODULES]
        if not args.package:
            parser.error("verify needs a package name or --all")
        return verify_main(args.package, args.write)
    if len(args.package) != 1:
        parser.error(f"{args.command} takes one package name")
    args.package = args.package[0]
    folder = ROOT / "packages" / args.package
    source = folder / "src" / args.package.replace("-", "_")
    keys = task_code_keys(source)
    tasks = list(dict.fromkeys(keys.values()))
    calls = record_calls(folder, keys)
    if calls is None:
        print(f"the reference tests of {args.package} fail: no {args.command}", file=sys.stderr)
        return 1
    existing = read_task_map(folder / "tests")
    if args.command == "check":
        problems = order_problems(existing, calls)
        print("\n".join(problems) or f"{args.package}: every mapped test calls its task and "
              "only earlier ones")
        return 1 if problems else 0
    about = draft(calls, tasks)
    order = [t for t in existing if t in about]
    order += [t for t in course_order(about, calls, tasks) if t not in existing]
    text = render(args.package, about, order, list(calls))
    if args.write:
        (folder / "tests" / TASK_MAP).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

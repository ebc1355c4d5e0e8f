"""A module's tasks: which exist, which are still stubs, and which contract tests check each.

A task is a function (or method) of the reference whose body holds a solution region; its name
is the function's qualified name without arguments (`relu`, `Module.__setattr__`). Three
sources, each read from text, never inferred from test failures:

- the course's reference source gives the task list (`course_tasks`);
- the installed source (the learner's own or the reference) says which tasks are still the
  scaffold's stub: a function whose own body still holds its
  `raise NotImplementedError("<module>: implement <task>(...")` (`installed_functions`);
- `tests/tasks.txt` next to the contract tests maps each task to the tests that check it, in
  the order to do the tasks (`read_task_map`). Its format, one task per entry::

      # comment
      relu: test_activations.py::test_relu_*
          test_activations.py::test_elementwise[*-relu]

  a task name and a colon, then patterns over `file::test[params]` (`*` matches anything; a
  pattern without `[` ignores the parameters), on that line and on the indented lines below.
  A test may check several tasks. Tests of code the scaffold gives (its public names, the
  argument checks before a region) go under the group `(given):`, which is not a task; every
  contract test is named by a task or by that group (`python tools/tasks.py verify` checks it,
  and that stubbing a task fails only tests of that task or of later ones).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from .scaffold import ScaffoldError, _functions, find_regions

TASK_MAP = "tasks.txt"
GIVEN = "(given)"  # the task map's group of tests of given code (no task)
# The task a stub message belongs to: "tt-autograd: implement _add(g, node, ...) - ..."
STUB_MESSAGE = re.compile(r"^(tt-[a-z]+): implement ([\w.]+)\(")


class TaskMapError(Exception):
    """A tests/tasks.txt that cannot be read, or that disagrees with the task list."""


@dataclass(frozen=True)
class CourseTask:
    """One task of the reference: its name, the file it is in and the line of its region."""

    name: str
    path: str  # relative to src/<import_name>/, e.g. functional.py
    line: int  # 1-based line of the ### BEGIN SOLUTION marker in the reference


def course_tasks(source_dir: Path) -> list[CourseTask]:
    """Every task of the reference package in `source_dir`, in file order (one per function,
    however many regions it has)."""
    tasks: dict[str, CourseTask] = {}
    for path in sorted(source_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative = path.relative_to(source_dir).as_posix()
        for region in find_regions(path.read_text(encoding="utf-8"), str(path)):
            if region.qualname in tasks and tasks[region.qualname].path != relative:
                raise ScaffoldError(f"{path}: task {region.qualname} is also in "
                                    f"{tasks[region.qualname].path}: rename one")
            tasks.setdefault(region.qualname, CourseTask(region.qualname, relative,
                                                         region.begin + 1))
    return list(tasks.values())


def read_task_map(tests_dir: Path) -> dict[str, list[str]]:
    """task -> its test patterns, in the file's order (the order to do the tasks); {} when the
    module has no tests/tasks.txt. The `(given)` group is not a task: see read_given."""
    mapping = _read_entries(tests_dir)
    mapping.pop(GIVEN, None)
    return mapping


def read_given(tests_dir: Path) -> list[str]:
    """The patterns of the task map's `(given)` group: tests of code the scaffold gives."""
    return _read_entries(tests_dir).get(GIVEN, [])


def _read_entries(tests_dir: Path) -> dict[str, list[str]]:
    """Every entry of tests/tasks.txt (the tasks and the `(given)` group) -> its patterns."""
    path = tests_dir / TASK_MAP
    if not path.is_file():
        return {}
    mapping: dict[str, list[str]] = {}
    task = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].rstrip()
        if not text:
            continue
        if text[0].isspace():
            if task is None:
                raise TaskMapError(f"{path}:{number}: test patterns before any task")
            mapping[task] += text.split()
            continue
        name, colon, rest = text.partition(":")
        if not colon or not (re.fullmatch(r"[\w.]+", name) or name == GIVEN):
            raise TaskMapError(f"{path}:{number}: expected 'task: patterns', got {text!r}")
        if name in mapping:
            raise TaskMapError(f"{path}:{number}: task {name} is listed twice")
        task = name
        mapping[task] = rest.split()
    return mapping


def ordered_tasks(source_dir: Path, tests_dir: Path) -> list[CourseTask]:
    """The reference's tasks in the order to do them: the task map's order, then any task it
    does not list, in file order."""
    tasks = course_tasks(source_dir)
    order = {name: i for i, name in enumerate(read_task_map(tests_dir))}
    return sorted(tasks, key=lambda t: order.get(t.name, len(order)))


def node_key(nodeid: str) -> str:
    """`file::test[params]` of a pytest node id: the folders left out."""
    path, _, rest = nodeid.partition("::")
    return f"{path.rsplit('/', 1)[-1]}::{rest}"


def matches(pattern: str, key: str) -> bool:
    """Whether a task map pattern names the test `key` (see the module doc)."""
    if "[" not in pattern:
        key = key.split("[", 1)[0]
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, key) is not None


def tests_of(patterns: list[str], keys) -> list[str]:
    """The test keys (see node_key) that any of `patterns` matches."""
    return [key for key in keys if any(matches(p, key) for p in patterns)]


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, without those of functions and classes defined in it."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                 ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def is_stub(function: ast.AST, distribution: str, name: str) -> bool:
    """Whether the function still holds the scaffold's stub of task `name`:
    `raise NotImplementedError("<distribution>: implement <name>(...")`, anywhere in its own
    body (code the scaffold kept before it does not matter)."""
    return stub_line(function, distribution, name) is not None


def stub_line(function: ast.AST, distribution: str, name: str) -> int | None:
    """The line of the first stub of task `name` in the function's own body (see is_stub),
    None when there is none."""
    prefix = f"{distribution}: implement {name}("
    lines = []
    for node in _own_nodes(function):
        if not isinstance(node, ast.Raise):
            continue
        call = node.exc
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) \
                and call.func.id == "NotImplementedError" and len(call.args) == 1 \
                and isinstance(call.args[0], ast.Constant) \
                and str(call.args[0].value).startswith(prefix):
            lines.append(node.lineno)
    return min(lines, default=None)


@dataclass(frozen=True)
class InstalledFunction:
    """Where a task's function is in the installed package, and whether it is still a stub."""

    path: Path
    line: int  # while a stub: its raise line (where the scaffold's README points); else the def
    stub: bool


def installed_functions(package_dir: Path, distribution: str) -> dict[str, InstalledFunction]:
    """Every function of the installed package by qualified name (the first one of a name)."""
    found: dict[str, InstalledFunction] = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue  # the tests report a file that does not import
        for function in _functions(tree):
            name = function.signature.split("(", 1)[0]
            raise_line = stub_line(function.node, distribution, name)
            found.setdefault(name, InstalledFunction(path, raise_line or function.node.lineno,
                                                     raise_line is not None))
    return found


def installed_package_dir(import_name: str) -> Path | None:
    """The folder of the installed package `import_name` (None when it is not importable)."""
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def stub_task(message: str | None) -> tuple[str, str] | None:
    """(distribution, task) of a scaffold stub's message, None for any other message."""
    match = STUB_MESSAGE.match(message or "")
    return (match.group(1), match.group(2)) if match else None

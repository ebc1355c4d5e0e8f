"""`tinytorch new <module> DIR`: write a learner's own, installable copy of a module.

The copy has the reference's distribution name, dependencies, import name and public API; its
version is the reference's plus the local label `+own` (0.1.0 -> 0.1.0+own, which satisfies
every `~=0.1.0` and `==0.1.0` requirement of the dependants and the meta-package); every
solution region raises NotImplementedError naming the module and the task.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .course import CourseEntry, all_entries
from .scaffold import fill_text, stub_text
from .tasks import read_task_map, stub_task

OWN_LABEL = "own"
SKIPPED = {"__pycache__", ".pytest_cache"}


class NewPackageError(Exception):
    """The destination cannot be written (it is not empty, or it is a file)."""


@dataclass(frozen=True)
class Task:
    """One stubbed region: where it is and the message it raises."""

    path: str  # relative to the package folder, e.g. src/tt_activations/functional.py
    line: int  # 1-based line of the raise
    message: str

    @property
    def name(self) -> str:
        """The task's name, as tests/tasks.txt and `tinytorch test` give it (`Module.train`)."""
        found = stub_task(self.message)
        return found[1] if found else self.message


def own_version(version: str) -> str:
    """0.1.0 -> 0.1.0+own (a version that already has a local label gets `.own` added)."""
    return f"{version}.{OWN_LABEL}" if "+" in version else f"{version}+{OWN_LABEL}"


def check_destination(dest: Path) -> None:
    """Refuse an existing file, or a folder that has anything in it."""
    if dest.exists() and not dest.is_dir():
        raise NewPackageError(f"{dest} exists and is not a folder: nothing was written")
    if dest.is_dir() and any(dest.iterdir()):
        raise NewPackageError(f"{dest} is not empty: choose a new or empty folder "
                              "(nothing was written, nothing was overwritten)")


def source_files(entry: CourseEntry) -> list[Path]:
    """The reference package's files, relative to its src/<import_name>/ folder."""
    return sorted(path.relative_to(entry.source_dir) for path in entry.source_dir.rglob("*")
                  if path.is_file() and not SKIPPED & set(path.parts))


def create_package(entry: CourseEntry, dest: Path) -> list[Task]:
    """Write the learner package for `entry` into `dest`; return its tasks in the order to do
    them (the order of the module's tests/tasks.txt; file order for any it does not list).

    A function with several solution regions is one task (listed at its first region)."""
    check_destination(dest)
    package_dir = dest / "src" / entry.import_name
    version = own_version(entry.version)
    tasks: list[Task] = []
    for relative in source_files(entry):
        source, target = entry.source_dir / relative, package_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.name == "_version.py":
            target.write_text(f'__version__ = "{version}"\n', encoding="utf-8")
        elif relative.suffix == ".py":
            tasks += _write_stubbed(source, target, entry, dest)
        else:
            shutil.copyfile(source, target)
    tasks = in_course_order(tasks, entry)
    (dest / "pyproject.toml").write_text(own_pyproject(entry, version), encoding="utf-8")
    shutil.copyfile(entry.root / "README.md", dest / "COURSE.md")
    notebook = entry.notebook()
    if notebook is not None:  # the course's own file, as built: its cells run on this package
        shutil.copyfile(notebook, dest / notebook.name)
    (dest / "README.md").write_text(readme(entry, dest, version, tasks, notebook is not None),
                                    encoding="utf-8")
    return tasks


def _write_stubbed(source: Path, target: Path, entry: CourseEntry, dest: Path) -> list[Task]:
    text = source.read_text(encoding="utf-8")
    stubbed, stubs = stub_text(text, entry.distribution, str(source))
    target.write_text(stubbed, encoding="utf-8")
    relative = target.relative_to(dest).as_posix()
    return [Task(relative, line, message) for line, message in stubs]


def in_course_order(tasks: list[Task], entry: CourseEntry) -> list[Task]:
    """One Task per function (its first region), in the task map's order."""
    first: dict[str, Task] = {}
    for task in tasks:
        first.setdefault(task.name, task)
    order = {name: i for i, name in enumerate(read_task_map(entry.tests_dir))}
    return sorted(first.values(), key=lambda t: order.get(t.name, len(order)))


def own_pyproject(entry: CourseEntry, version: str) -> str:
    """The reference pyproject.toml, described as the learner's own (name and deps kept)."""
    text = (entry.root / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r'^description\s*=\s*"(.*)"$',
                  lambda m: f'description = "My own implementation of {m.group(1)}"',
                  text, count=1, flags=re.MULTILINE)
    header = (f"# My own {entry.distribution}, made by `tinytorch new {entry.short_name}`: "
              "the reference's name,\n# dependencies and API; its version "
              f"({version}, in src/{entry.import_name}/_version.py)\n"
              "# marks it as a learner's implementation.\n")
    return header + text


def fill_package(dest: Path, entry: CourseEntry) -> list[Path]:
    """Copy the reference's solution regions into a scaffold's stubs; return the files filled.

    This is the round trip of the markers: scaffold, then fill, gives back the reference
    source exactly (only _version.py keeps the `+own` version).
    """
    filled = []
    for relative in source_files(entry):
        target = dest / "src" / entry.import_name / relative
        if relative.suffix != ".py" or relative.name == "_version.py":
            continue
        reference = (entry.source_dir / relative).read_text(encoding="utf-8")
        mine = target.read_text(encoding="utf-8")
        new = fill_text(mine, reference, str(target))
        if new != mine:
            target.write_text(new, encoding="utf-8")
            filled.append(target)
    return filled


def direct_dependants(entry: CourseEntry) -> list[str]:
    """The modules that import this one directly (they then run on the learner's code)."""
    return [other.distribution for other in all_entries(entry.root.parent)
            if other.root.is_dir() and entry.distribution in other.dependencies()]


def readme(entry: CourseEntry, dest: Path, version: str, tasks: list[Task],
           notebook: bool = False) -> str:
    """The learner's README: what to build (the task list), the notebook (when `notebook`),
    install, test, restore."""
    name, dist, short = entry.import_name, entry.distribution, entry.short_name
    rows = [f"| {i} | `{t.path}:{t.line}` | {t.message.split(': ', 1)[1]} |"
            for i, t in enumerate(tasks, 1)]
    users = ", ".join(direct_dependants(entry)) or "no other module"
    reference = f"packages/{dist}"  # relative: a README must not carry this machine's paths
    return "\n".join([
        f"# My {dist} (TinyTorch module {entry.module.number:02d}, my own implementation)",
        "",
        f"Made by `tinytorch new {short} {dest}` from the reference {dist} {entry.version}.",
        f"It has the reference's distribution name (`{dist}`), import name (`{name}`), "
        "dependencies and public API",
        f"(the `__all__` of `src/{name}/__init__.py`); its version is `{version}`, so "
        "`tinytorch doctor` shows it as *own*.",
        "Every piece of code the module teaches was replaced by a",
        f'`raise NotImplementedError("{dist}: implement ...")` between `{_MARK_B}` and '
        f"`{_MARK_E}`.",
        "Replace each raise with your own code: the signature and docstring above it (with the "
        "math) stay as they are.",
        f"`COURSE.md` is the module's course text (the reference README): what you build, what "
        "you learn, the costs.",
        "",
        f"## Your tasks ({len(tasks)}), in the order to do them",
        "",
        "Each task is one function: its docstring is the contract (what it takes, what it "
        "returns, its errors),",
        "and its stub's message says the same. Later tasks' tests may call earlier ones.",
        "",
        "| # | where | implement |",
        "|---|---|---|",
        *rows,
        "",
        "Everything outside the markers (imports, module-level code, classes) is the "
        "reference's and already works;",
        "you may change it too, as long as the public API stays the same.",
        "",
        *(notebook_section(entry) if notebook else []),
        "## Install, test, restore",
        "",
        "```",
        f"pip install -e {dest}   # your {dist} replaces the reference everywhere",
        f"tinytorch doctor                     # {dist} now shows 'own' and this folder",
        f"tinytorch test {short:<21} # the official contract tests, on what is installed",
        f"tinytorch test {short} --task NAME    # only the tests of one task (a row below)",
        f"tinytorch test {short} -- -x -k NAME   # pytest arguments go after --",
        "```",
        "",
        f"`tinytorch test` runs the course's own copy of the {dist} contract tests (never a "
        "tests/ folder here)",
        "and prints a summary per test file, then one row per task, in this order: `stub` (its "
        "body is still the raise),",
        "`failing`, `waiting` (its tests stop at another task's stub) or `passing`, from the "
        "tests that the course's",
        "`tests/tasks.txt` maps to it.",
        f"Once installed, {users} and the capstones run on your code (XORNet: "
        "`tinytorch run xornet`).",
        "",
        "To go back to the reference implementation, install the reference "
        f"{dist} {entry.version} over yours,",
        "from wherever your reference modules came from:",
        "",
        "```",
        f"pip install --force-reinstall --no-deps --no-index --find-links WHEELS "
        f"'{dist}=={entry.version}'",
        "    # installed from wheels: WHEELS is the folder you installed them from",
        f"pip install -e {reference}",
        "    # in a TinyTorch checkout, from its root",
        "```",
        "",
        f"`tinytorch doctor` then shows {dist} as *reference* again; this folder stays as it is, "
        f"and `pip install -e {dest}`",
        "makes it yours again.",
        "",
    ])


def notebook_section(entry: CourseEntry) -> list[str]:
    """The README's lines on the module's lesson notebook, written beside it."""
    name, short = entry.notebook_name, entry.short_name
    return [
        "## The notebook",
        "",
        f"`{name}` is the module's lesson, the course's own notebook: the math and the cost, "
        "experiments and pictures",
        "on whatever implementation is installed (its first cell says `own` once yours is), "
        "and one cell per task",
        f"that runs that task's contract tests (`tinytorch test {short} --task NAME`): a task "
        "is done when its cell ends",
        "with `OK`. Open it in any Jupyter front end, in the environment your package is "
        "installed in:",
        "",
        "```",
        "pip install jupyterlab ipywidgets   # or open the .ipynb in VS Code",
        f"jupyter lab {name}",
        "```",
        "",
        "Its links to other files of the course work inside a TinyTorch checkout only; "
        "COURSE.md here is the",
        "module's course text.",
        "",
    ]


_MARK_B, _MARK_E = "### BEGIN SOLUTION", "### END SOLUTION"

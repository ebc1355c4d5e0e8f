"""The course table as tools/graph.py sees it, and the text it generates from it.

The table is `packages/tt-setup/src/tt_setup/course.json` (tt_setup.course_table() reads the
same file at run time). From it come tox.ini's env_list, labels and set_env lines, and the module
table of the root README; `python tools/graph.py sync` writes them and `check` fails on drift.

Standard library only, so that it works before anything is installed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

TABLE = Path("packages/tt-setup/src/tt_setup/course.json")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")  # the py3XX tox factors and labels
# tox envs beyond one per module, and the package whose requirement file each one installs
OTHER_ENVS = {"tinytorch": "tinytorch", "tools": "tt-setup", "capstones": "tinytorch"}
README_START = "<!-- module table: written by `python tools/graph.py sync` -->"
README_END = "<!-- end of the module table -->"
ROMAN = {1: "I", 2: "II", 3: "III"}


class Module(NamedTuple):
    number: int
    part: int  # 1, 2 or 3: the course part, and so the first exit point that has it
    deps: tuple[str, ...]  # the course edges: siblings it must depend on directly
    extra: tuple[tuple[str, str], ...] = ()  # (sibling, reason): further edges it may declare
    title: str = ""
    provides: str = ""
    import_name: str = ""

    @property
    def declared(self) -> tuple[str, ...]:
        """What its pyproject.toml must declare: the course edges plus the extra edges."""
        return self.deps + tuple(to for to, _ in self.extra)


class Course(NamedTuple):
    modules: dict[str, Module]  # distribution -> Module, in course order
    extras: dict[str, int]  # exit-point extra -> the last part it installs


def load_course(root: Path) -> Course:
    """Read root's course table; ValueError names the file and what is wrong."""
    path = root / TABLE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        modules = {entry["distribution"]: Module(
            entry["number"], entry["part"], tuple(entry["requires"]),
            tuple((edge["to"], edge["reason"]) for edge in entry["extra_edges"]),
            entry["title"], entry["provides"], entry["import"])
            for entry in data["modules"]}
        extras = {part["extra"]: part["part"] for part in data["parts"]}
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read the course table: {error}") from None
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: missing or malformed field {error}") from None
    extras["all"] = max(extras.values())
    return Course(modules, extras)


# ---------------------------------------------------------------- tox.ini

def short(distribution: str) -> str:
    """`tt-layers` -> `layers`: the tox factor (env names split into factors at '-')."""
    return distribution.removeprefix("tt-")


def tox_values(course: Course) -> dict[str, list[str]]:
    """The lines (without indent) of tox.ini's env_list, labels and set_env values."""
    parts = sorted(set(module.part for module in course.modules.values()))
    env_list = [", ".join(name for name, module in course.modules.items()
                          if module.part == part) + "," for part in parts]
    env_list.append(", ".join(OTHER_ENVS))
    labels = []
    for extra, last in course.extras.items():
        if extra != "all":
            names = [short(n) for n, m in course.modules.items() if m.part <= last]
            labels.append(f"{extra} = tt-{{{','.join(names)}}}")
    every = ",".join(short(name) for name in course.modules)
    for python in PYTHONS:
        factor = "py" + python.replace(".", "")
        others = ", ".join(f"{factor}-{env}" for env in OTHER_ENVS)
        labels.append(f"{factor} = {factor}-tt-{{{every}}}, {others}")
    set_env = [f"{short(name)}: TT_PACKAGE = {name}" for name in course.modules]
    set_env += [f"{env}: TT_PACKAGE = {package}" for env, package in OTHER_ENVS.items()]
    set_env.append("# pyenv shims answer `python3.10` only for an active version: "
                   "make the factor's one active.")
    set_env += [f"py{python.replace('.', '')}: PYENV_VERSION = {python}" for python in PYTHONS]
    return {"env_list": env_list, "labels": labels, "set_env": set_env}


def synced_tox(text: str, course: Course) -> str:
    """tox.ini's text with its generated values replaced; ValueError if a key is not there once.
    """
    for key, lines in tox_values(course).items():
        pattern = re.compile(rf"^{key} =\n(?:    .*\n)+", re.MULTILINE)
        found = pattern.findall(text)
        if len(found) != 1:
            raise ValueError(f"tox.ini has {len(found)} `{key} =` blocks, expected one")
        block = f"{key} =\n" + "".join(f"    {line}\n" for line in lines)
        text = pattern.sub(lambda _: block, text)
    return text


# ---------------------------------------------------------------- the root README

def depends_text(name: str, module: Module, course: Course) -> str:
    """The README's 'depends on' cell: short names, `01–10` for every earlier module."""
    earlier = [n for n, m in course.modules.items() if m.number < module.number]
    if not module.deps:
        text = "—"
    elif len(earlier) > 2 and list(module.deps) == earlier:
        text = f"01–{module.number - 1:02d}"
    else:
        text = ", ".join(short(dep) for dep in module.deps)
    if module.extra:
        text += "; extra: " + ", ".join(short(to) for to, _ in module.extra)
    return text


def readme_table(course: Course) -> str:
    """The module table of the root README, with its extra edges and their reasons."""
    rows = ["| # | distribution | import | part | provides | depends on |",
            "|---|---|---|---|---|---|"]
    for name, module in course.modules.items():
        rows.append(f"| {module.number:02d} | {name} | `{module.import_name}` | "
                    f"{ROMAN[module.part]} | {module.provides} | "
                    f"{depends_text(name, module, course)} |")
    rows.append("")
    rows.append("Extra edges (each to an earlier module, with its reason):")
    rows.append("")
    rows += [f"- {name} → {to}: {reason}" for name, module in course.modules.items()
             for to, reason in module.extra]
    return "\n".join(rows)


def synced_readme(text: str, course: Course) -> str:
    """The README's text with the table between its markers rewritten; ValueError without them.
    """
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no module table markers ({README_START} ... "
                         f"{README_END})")
    head = text[:start + len(README_START)]
    return f"{head}\n{readme_table(course)}\n{text[end:]}"

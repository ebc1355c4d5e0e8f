"""The course table: the seventeen modules, their parts and their dependency edges, read once
from `course.json`, the file shipped inside tt_setup (so every install, wheel or editable, has it).

tools/graph.py reads the same file to check each pyproject.toml and to write tox.ini's lists and
the README's module table; tinytorch's namespace and command line read it through
`course_table()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

TABLE_FILE = "course.json"


class CourseTableError(ValueError):
    """The course table file is missing a field or has a value of the wrong kind."""


@dataclass(frozen=True)
class ExtraEdge:
    """A dependency beyond the course graph, to an earlier module, with the reason for it."""

    to: str
    reason: str


@dataclass(frozen=True)
class CoursePart:
    """One part of the course and the `tinytorch[...]` extra (exit point) that ends it."""

    number: int
    extra: str
    title: str
    capstone: str = ""  # the program that closes the part


@dataclass(frozen=True)
class CourseModule:
    """One module of the course.

    `requires` are its course edges (the syllabus); `extra_edges` are the further siblings it
    may use, each to an earlier module with a recorded reason; `namespace` is the tinytorch
    namespace that re-exports its public names (None: none does), `names` the ones that
    namespace promises; `commands` the `tinytorch` subcommands it provides, as (name, help).
    """

    number: int
    distribution: str
    part: int
    extra: str = ""  # the smallest `tinytorch[...]` extra (exit point) that installs it
    title: str = ""
    provides: str = ""
    requires: tuple[str, ...] = ()
    extra_edges: tuple[ExtraEdge, ...] = ()
    namespace: str | None = None
    names: tuple[str, ...] = ()
    commands: tuple[tuple[str, str], ...] = ()

    @property
    def import_name(self) -> str:
        return self.distribution.replace("-", "_")

    @property
    def dependencies(self) -> tuple[str, ...]:
        """Every sibling it declares: the course edges, then the extra edges."""
        return self.requires + tuple(edge.to for edge in self.extra_edges)


@dataclass(frozen=True)
class CourseNamespace:
    """A tinytorch namespace: the module it cannot work without, then the others it searches."""

    name: str
    primary: str
    sources: tuple[str, ...]  # distributions, primary first, then course order


@dataclass(frozen=True)
class CourseTable:
    parts: tuple[CoursePart, ...]
    modules: tuple[CourseModule, ...]
    namespaces: tuple[CourseNamespace, ...]

    def module(self, name: str) -> CourseModule:
        """The module with distribution or import name `name` (KeyError names the others)."""
        for module in self.modules:
            if name in (module.distribution, module.import_name):
                return module
        known = ", ".join(module.distribution for module in self.modules)
        raise KeyError(f"no course module {name!r} (the course has {known})")

    def namespace(self, name: str) -> CourseNamespace:
        for namespace in self.namespaces:
            if namespace.name == name:
                return namespace
        raise KeyError(f"no tinytorch namespace {name!r}")


def course_table(path: str | Path | None = None) -> CourseTable:
    """The course table shipped with tt_setup (or read from `path`), as dataclasses.

    Raises CourseTableError naming the file and the field when it cannot be read.
    """
    if path is None:
        return _shipped_table()
    return parse_table(Path(path).read_text(encoding="utf-8"), str(path))


@lru_cache(maxsize=1)
def _shipped_table() -> CourseTable:
    text = resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return parse_table(text, f"tt_setup/{TABLE_FILE}")


def parse_table(text: str, where: str) -> CourseTable:
    """The CourseTable in `text` (JSON); `where` names the file in error messages."""
    try:
        data = json.loads(text)
        parts = tuple(CoursePart(p["part"], p["extra"], p["title"], p.get("capstone", ""))
                      for p in data["parts"])
        extras = {part.number: part.extra for part in parts}
        modules = tuple(_module(entry, extras) for entry in data["modules"])
        namespaces = tuple(_namespace(entry, modules) for entry in data["namespaces"])
    except json.JSONDecodeError as error:
        raise CourseTableError(f"{where}: not valid JSON: {error}") from None
    except (KeyError, TypeError) as error:
        raise CourseTableError(f"{where}: missing or malformed field {error}") from None
    except CourseTableError as error:  # a value that contradicts another: name the file too
        raise CourseTableError(f"{where}: {error}") from None
    return CourseTable(parts, modules, namespaces)


def _module(entry: dict, extras: dict[int, str]) -> CourseModule:
    edges = tuple(ExtraEdge(edge["to"], edge["reason"]) for edge in entry["extra_edges"])
    commands = tuple((command["name"], command["help"]) for command in entry.get("commands", []))
    module = CourseModule(entry["number"], entry["distribution"], entry["part"],
                          extras[entry["part"]], entry["title"],
                          entry["provides"], tuple(entry["requires"]), edges,
                          entry["namespace"], tuple(entry["names"]), commands)
    if entry["import"] != module.import_name:
        raise CourseTableError(f"{module.distribution}: import name {entry['import']!r} is not "
                               f"{module.import_name!r}")
    return module


def _namespace(entry: dict, modules: tuple[CourseModule, ...]) -> CourseNamespace:
    members = [m.distribution for m in modules if m.namespace == entry["name"]]
    if entry["primary"] not in members:
        raise CourseTableError(f"namespace {entry['name']}: its primary {entry['primary']} "
                               "is not one of its modules")
    rest = [name for name in members if name != entry["primary"]]
    return CourseNamespace(entry["name"], entry["primary"], (entry["primary"], *rest))

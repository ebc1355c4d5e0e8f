"""Where the reference modules live: their sources, contract tests and pyproject files.

`tinytorch new` copies a module's reference source and `tinytorch test` runs its official
contract tests. Both come from the *course folder*, looked up in this order:

1. `$TINYTORCH_COURSE`, a folder holding `tt-<name>/` package folders (for tests and forks);
2. `tinytorch/_course/` inside an installed tinytorch wheel (the build hook ships every module's
   pyproject.toml, README.md, src/ and tests/ there);
3. the `packages/` folder of the checkout an editable tinytorch is installed from.

Never the installed module itself: that may be the learner's own code. A module's lesson
notebook (`NN_<name>.ipynb`, which `tinytorch new` writes beside the learner's package) sits
beside the course folder: `tinytorch/_notebooks/` in the wheel, the checkout's `notebooks/`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tt_setup import COURSE_MODULES, CourseModule

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 has no TOML reader: see CourseEntry.dependencies
    tomllib = None

COURSE_ENV = "TINYTORCH_COURSE"
SHIPPED = Path(__file__).resolve().parent / "_course"


class CourseError(Exception):
    """A module name that is not in the course, or no course folder to read it from."""


@dataclass(frozen=True)
class CourseEntry:
    """One module of the course and the folder of its reference package."""

    module: CourseModule
    root: Path  # the package folder: pyproject.toml, README.md, src/, tests/

    @property
    def distribution(self) -> str:
        return self.module.distribution

    @property
    def import_name(self) -> str:
        return self.module.import_name

    @property
    def short_name(self) -> str:
        """`activations` for tt-activations: what `tinytorch test` is usually given."""
        return self.distribution.removeprefix("tt-")

    @property
    def source_dir(self) -> Path:
        return self.root / "src" / self.import_name

    @property
    def tests_dir(self) -> Path:
        return self.root / "tests"

    @property
    def version(self) -> str:
        """The reference version, from `__version__ = "..."` in its _version.py."""
        text = (self.source_dir / "_version.py").read_text(encoding="utf-8")
        match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
        if match is None:
            raise CourseError(f"{self.source_dir / '_version.py'}: no __version__ line")
        return match.group(1)

    @property
    def notebook_name(self) -> str:
        """`03_activations.ipynb`: the name of the module's lesson notebook."""
        return f"{self.module.number:02d}_{self.short_name}.ipynb"

    def notebook(self) -> Path | None:
        """The module's lesson notebook beside the course folder: `_notebooks/` (the wheel's
        copy) or `notebooks/` (a checkout's, the source); None when neither holds it."""
        for folder in ("_notebooks", "notebooks"):
            path = self.root.parent.parent / folder / self.notebook_name
            if path.is_file():
                return path
        return None

    def dependencies(self) -> list[str]:
        """The sibling modules this one declares directly, from its pyproject.toml.

        On Python 3.10 (no tomllib, and no TOML package is a dependency) they come from the
        course table instead, which `tools/graph.py check` keeps equal to every pyproject.toml.
        """
        if tomllib is None:
            return list(self.module.dependencies)
        pyproject = self.root / "pyproject.toml"
        try:
            with pyproject.open("rb") as file:
                requirements = tomllib.load(file).get("project", {}).get("dependencies", [])
        except tomllib.TOMLDecodeError as error:
            raise CourseError(f"{pyproject}: not valid TOML: {error}") from None
        return sibling_names(requirements)


def sibling_names(requirements: list[str]) -> list[str]:
    """The course modules among PEP 508 requirement strings, in order (`tt-x~=0.1.0` -> tt-x).
    """
    known = {module.distribution for module in COURSE_MODULES}
    names = []
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""
        if name in known and name not in names:
            names.append(name)
    return names


def course_root() -> Path:
    """The folder holding the reference `tt-<name>/` package folders (see the module doc)."""
    override = os.environ.get(COURSE_ENV)
    if override:
        return Path(override).resolve()
    if (SHIPPED / "tt-setup").is_dir():
        return SHIPPED
    checkout = Path(__file__).resolve().parents[3]  # <checkout>/packages/tinytorch/src/tinytorch
    if (checkout / "tt-setup" / "pyproject.toml").is_file():
        return checkout
    raise CourseError(
        "cannot find the reference modules: this tinytorch is neither a wheel built with them "
        "(nox -s build) nor an editable install from a TinyTorch checkout; set "
        f"{COURSE_ENV} to a folder holding the tt-<name>/ package folders"
    )


def find_module(name: str) -> CourseModule:
    """`activations`, `tt-activations`, `tt_activations`, `03` or `3` -> tt-activations."""
    text = name.strip().lower().replace("_", "-")
    for module in COURSE_MODULES:
        short = module.distribution.removeprefix("tt-")
        if text in (module.distribution, short) or (text.isdigit() and int(text) == module.number):
            return module
    names = ", ".join(m.distribution.removeprefix("tt-") for m in COURSE_MODULES)
    raise CourseError(f"no course module {name!r}: give a name ({names}), tt-<name> or a "
                      f"number 01-{len(COURSE_MODULES):02d}")


def course_entry(name: str, root: Path | None = None) -> CourseEntry:
    """The reference package of module `name` in the course folder."""
    module = find_module(name)
    entry = CourseEntry(module, (root or course_root()) / module.distribution)
    if not entry.source_dir.is_dir():
        raise CourseError(f"the course folder has no {entry.source_dir}")
    return entry


def all_entries(root: Path | None = None) -> list[CourseEntry]:
    """Every module of the course, in course order."""
    base = root or course_root()
    return [CourseEntry(module, base / module.distribution) for module in COURSE_MODULES]


def dependants(distribution: str, root: Path | None = None) -> list[str]:
    """Every module that depends on `distribution`, directly or not, in course order."""
    entries = all_entries(root)
    direct = {entry.distribution: set(entry.dependencies()) for entry in entries}
    found: set[str] = set()
    frontier = {distribution}
    while frontier:
        frontier = {name for name, deps in direct.items() if deps & frontier} - found
        found |= frontier
    return [entry.distribution for entry in entries if entry.distribution in found]

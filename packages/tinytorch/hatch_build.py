"""Build hook: ship every module's reference package inside the tinytorch wheel.

`tinytorch new` copies a module's reference source and `tinytorch test` runs its official
contract tests; installed from wheels there is no checkout to read them from, so each module's
pyproject.toml, README.md, src/ and tests/ go into the wheel as `tinytorch/_course/<dist>/...`
(and tinytorch's own tests, for `tinytorch test tinytorch`)
(tinytorch.course looks there first). The sdist carries them as `_course/<dist>/...`, so a wheel
built from the sdist ships them too. Editable installs read the checkout's packages/ instead.

The capstone programs (capstones/<name>/*.py and README.md, not their tests or benchmarks) go in
the same way as `tinytorch/_capstones/<name>/...` (sdist: `_capstones/...`), for `tinytorch run`,
and the course notebooks (notebooks/NN_<name>.ipynb, as built; not their cell sources) as
`tinytorch/_notebooks/NN_<name>.ipynb` (sdist: `_notebooks/...`), for `tinytorch new`.
"""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = ("pyproject.toml", "README.md", "src", "tests")
OWN_SHIPPED = ("pyproject.toml", "README.md", "tests")  # `tinytorch test tinytorch`
SKIPPED = {"__pycache__", ".pytest_cache"}
CAPSTONES = ("xornet", "cifar10", "tinygpt")  # the folders `tinytorch run` starts programs from


def course_source(root: Path) -> Path:
    """The folder holding tt-*/ packages: the checkout's packages/, or an sdist's _course/."""
    for candidate in (root.parent, root / "_course"):
        if (candidate / "tt-setup" / "pyproject.toml").is_file():
            return candidate
    raise RuntimeError(f"tinytorch build: no course packages next to {root} (../tt-*/) nor in "
                       f"{root / '_course'}: build from a TinyTorch checkout")


def _shipped(package: Path, names, base: Path, prefix: str) -> dict[str, str]:
    files = {}
    for name in names:
        top = package / name
        paths = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in paths:
            if path.is_file() and not SKIPPED & set(path.parts) and path.suffix != ".pyc":
                files[str(path)] = f"{prefix}{path.relative_to(base).as_posix()}"
    return files


def course_files(source: Path) -> dict[str, str]:
    """{absolute source file: path inside the course folder} for every module's shipped files."""
    files = {}
    for package in sorted(source.glob("tt-*")):
        files.update(_shipped(package, SHIPPED, source, ""))
    return files


def capstone_files(root: Path) -> dict[str, str]:
    """{absolute file: path inside the capstones folder}: each capstone's programs and README."""
    for source in (root.parent.parent / "capstones", root / "_capstones"):
        if (source / "xornet" / "xornet.py").is_file():
            break
    else:
        raise RuntimeError(f"tinytorch build: no capstones/ two folders above {root} nor "
                           f"{root / '_capstones'}: build from a TinyTorch checkout")
    files = {}
    for folder in (source / name for name in CAPSTONES):
        for path in sorted([*folder.glob("*.py"), *folder.glob("README.md")]):
            files[str(path)] = path.relative_to(source).as_posix()
    return files


def notebook_files(root: Path) -> dict[str, str]:
    """{absolute file: its name}: the course notebooks, NN_<name>.ipynb (`tinytorch new` writes
    a module's notebook beside the learner's package)."""
    for source in (root.parent.parent / "notebooks", root / "_notebooks"):
        found = sorted(source.glob("[0-9][0-9]_*.ipynb"))
        if found:
            return {str(path): path.name for path in found}
    raise RuntimeError(f"tinytorch build: no NN_<name>.ipynb in notebooks/ two folders above "
                       f"{root} nor in {root / '_notebooks'}: build from a TinyTorch checkout")


class CourseHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":
            return
        prefix = "tinytorch/_course" if self.target_name == "wheel" else "_course"
        files = course_files(course_source(Path(self.root)))
        if self.target_name == "wheel":  # the sdist has them already, in their own place
            root = Path(self.root)
            files.update(_shipped(root, OWN_SHIPPED, root, "tinytorch/"))
        for path, relative in files.items():
            build_data["force_include"][path] = f"{prefix}/{relative}"
        shipped = "tinytorch/_capstones" if self.target_name == "wheel" else "_capstones"
        for path, relative in capstone_files(Path(self.root)).items():
            build_data["force_include"][path] = f"{shipped}/{relative}"
        shipped = "tinytorch/_notebooks" if self.target_name == "wheel" else "_notebooks"
        for path, name in notebook_files(Path(self.root)).items():
            build_data["force_include"][path] = f"{shipped}/{name}"

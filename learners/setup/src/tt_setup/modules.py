"""Which of the seventeen module packages are installed, and whose code each one is."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from .table import CourseModule, course_table

# The seventeen modules in course order, from the course table (course.json).
COURSE_MODULES = course_table().modules


@dataclass(frozen=True)
class ModuleRecord:
    """What is installed for one course module. `kind` is 'reference', 'own' or None.

    `location` is the source directory of an editable install, else the imported package's.
    """

    number: int
    distribution: str
    import_name: str
    installed: bool
    version: str | None = None
    location: str | None = None
    editable: bool = False
    kind: str | None = None


def classify_install(distribution: str, version: str, editable_dir: str | None,
                     packages_dir: str | None) -> str:
    """'own' for a learner's implementation, 'reference' for TinyTorch's.

    Own means: the version carries the local label `+own`, or the install is editable from a
    directory other than `<packages_dir>/<distribution>` of the TinyTorch checkout.
    """
    local_label = version.partition("+")[2]
    if "own" in local_label.split("."):
        return "own"
    if editable_dir is None:
        return "reference"
    if packages_dir is None:
        return "own"  # no reference checkout is installed, so an editable copy is the learner's
    reference_dir = Path(packages_dir, distribution).resolve()
    return "reference" if Path(editable_dir).resolve() == reference_dir else "own"


def editable_dir(dist: metadata.Distribution) -> str | None:
    """The source directory of an editable (`pip install -e`) install, from direct_url.json."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    direct_url = json.loads(text)
    if not direct_url.get("dir_info", {}).get("editable", False):
        return None
    url = urlparse(direct_url.get("url", ""))
    return unquote(url.path) if url.scheme == "file" else None


def reference_packages_dir() -> str | None:
    """The packages/ directory of the TinyTorch checkout the meta-package or tt-setup is from."""
    for name in ("tinytorch", "tt-setup"):
        try:
            source = editable_dir(metadata.distribution(name))
        except metadata.PackageNotFoundError:
            continue
        if source and Path(source).parent.joinpath("tinytorch", "pyproject.toml").is_file():
            return str(Path(source).parent)
    return None


def module_record(module: CourseModule, packages_dir: str | None) -> ModuleRecord:
    """Look one module up in the installed distributions without importing it."""
    try:
        dist = metadata.distribution(module.distribution)
    except metadata.PackageNotFoundError:
        return ModuleRecord(module.number, module.distribution, module.import_name, False)
    source = editable_dir(dist)
    location = source or import_location(module.import_name)
    kind = classify_install(module.distribution, dist.version, source, packages_dir)
    return ModuleRecord(module.number, module.distribution, module.import_name, True,
                        dist.version, location, source is not None, kind)


def import_location(import_name: str) -> str | None:
    """The directory `import import_name` would load from, found without importing it."""
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    return str(Path(spec.origin).parent) if spec is not None and spec.origin else None


def module_report() -> list[ModuleRecord]:
    """One record per course module, in course order: installed?, version, where, whose."""
    packages_dir = reference_packages_dir()
    return [module_record(module, packages_dir) for module in COURSE_MODULES]

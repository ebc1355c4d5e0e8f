"""Shared by the tools/ tests: tools/ on sys.path (graph.py, course_table.py) and a fake
repository to break on purpose."""

import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import graph  # noqa: E402


@pytest.fixture
def repo(tmp_path):
    """The real pyprojects, version files, course table, tox.ini, README and ARCHITECTURE.md;
    no code. Versions are set back to the first release (modules 0.1.0, ranges ~=0.1.0, the
    meta-package 0.2.0 with pins ==0.1.0), so the versions the tests write hold whatever the
    real repository is at.

    Its requirement files are generated, so it passes the check before a test edits it.
    """
    for package in graph.load_packages(ROOT).values():
        copy = tmp_path / "packages" / package.path.name
        version_file = re.search(r'path = "(.+)"', (package.path / "pyproject.toml").read_text())
        for name in ("pyproject.toml", version_file.group(1)):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(package.path / name, copy / name)
        to_first_release(copy / "pyproject.toml")
        first = "0.2.0" if package.name == graph.META else "0.1.0"
        (copy / version_file.group(1)).write_text(f'__version__ = "{first}"\n')
    generated = [Path("tox.ini"), *map(Path, graph.course_table.BLOCKS)]
    for name in (graph.course_table.TABLE, *generated):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    graph.write_requirement_files(graph.load_packages(tmp_path), tmp_path)
    return tmp_path


def to_first_release(pyproject):
    """Every sibling range and pin of a pyproject.toml back to 0.1.0."""
    pattern = r'"(tt-[a-z]+(?:\[[a-z,]+\])?)\s*(~=|==)\s*[0-9][0-9.]*"'  # also tt-x[extra]
    pyproject.write_text(re.sub(pattern, r'"\1\g<2>0.1.0"', pyproject.read_text()))


def edit_file(path, old, new):
    """Replace the first `old` in the file by `new` (and fail if it is not there)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def edit():
    return edit_file

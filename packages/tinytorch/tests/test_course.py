"""tinytorch.course reads each reference package's pyproject.toml with a TOML reader, and what it
reads agrees with the course table (on Python 3.10, without tomllib, it is the table's)."""

import shutil
import sys

import pytest
import tt_setup

from tinytorch.course import CourseError, all_entries, course_entry, dependants
from tinytorch.new import create_package

HAS_TOMLLIB = sys.version_info >= (3, 11)


def test_every_module_declares_what_the_course_table_says():
    table = tt_setup.course_table()
    for entry in all_entries():
        assert entry.dependencies() == list(table.module(entry.distribution).dependencies)


def test_dependants_are_the_reverse_closure_of_the_table():
    table = tt_setup.course_table()
    users = {m.distribution: set(m.dependencies) for m in table.modules}
    expected, frontier = set(), {"tt-embeddings"}
    while frontier:
        frontier = {name for name, deps in users.items() if deps & frontier} - expected
        expected |= frontier
    found = dependants("tt-embeddings")
    assert set(found) == expected and "tt-transformers" in found and "tt-systems" in found
    assert found == [m.distribution for m in table.modules if m.distribution in expected]


def fork(tmp_path, monkeypatch, pyproject_text):
    """A course folder whose tt-networks has the given pyproject.toml."""
    reference = course_entry("networks").root
    shutil.copytree(reference / "src", tmp_path / "tt-networks" / "src")
    (tmp_path / "tt-networks" / "pyproject.toml").write_text(pyproject_text)
    monkeypatch.setenv("TINYTORCH_COURSE", str(tmp_path))
    return course_entry("networks")


def test_requirement_names_are_normalised_and_others_ignored(tmp_path, monkeypatch):
    entry = fork(tmp_path, monkeypatch, '[project]\nname = "tt-networks"\ndependencies = [\n'
                 '  "numpy>=1.24",  # "tt-tensor" in a comment is not a dependency\n'
                 '  "TT_Layers >= 0.1 ; python_version >= \'3.10\'",\n'
                 '  "tt.spatial[extra]~=0.1.0",\n  "tt-layers~=0.1.0",\n]\n')
    table_deps = list(tt_setup.course_table().module("tt-networks").dependencies)
    expected = ["tt-layers", "tt-spatial"] if HAS_TOMLLIB else table_deps
    assert entry.dependencies() == expected


def test_a_broken_pyproject_names_the_file(tmp_path, monkeypatch):
    entry = fork(tmp_path, monkeypatch, '[project\ndependencies = ["tt-layers"]\n')
    if HAS_TOMLLIB:
        with pytest.raises(CourseError, match=r"tt-networks.pyproject\.toml: not valid TOML"):
            entry.dependencies()
    else:  # Python 3.10 reads the course table and never opens the file
        assert entry.dependencies() == ["tt-layers"]


def test_a_learner_s_own_tt_setup_gets_the_course_table_unchanged(tmp_path):
    entry = course_entry("setup")
    create_package(entry, tmp_path / "my-setup")
    mine = tmp_path / "my-setup" / "src" / "tt_setup" / "course.json"
    assert mine.read_bytes() == (entry.source_dir / "course.json").read_bytes()
    assert tt_setup.course_table(mine) == tt_setup.course_table()

"""tools/notebooks.py and notebooks/: one notebook per module, built from its cell source, a
cell per task, and no package code copied into any notebook.

Executing them needs the whole stack and a kernel: `nox -s notebooks`, or the `notebooks` tox
env (`python tools/notebooks.py run`).
"""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("notebooks", ROOT / "tools" / "notebooks.py")
notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebooks)

MODULES = sorted(p.name for p in (ROOT / "packages").glob("tt-*") if (p / "tests").is_dir())
MIN_CHARS = 20  # shorter solution lines (`return out`) may be written anywhere independently


def committed(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_lines(notebook):
    return {line.strip() for c in notebook["cells"] if c["cell_type"] == "code"
            for line in "".join(c["source"]).splitlines()}


def solution_lines():
    """(file, line) for each line of code inside a BEGIN/END SOLUTION region of any module."""
    found = []
    for source in sorted((ROOT / "packages").glob("tt-*/src/**/*.py")):
        inside = False
        for line in source.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text == "### BEGIN SOLUTION":
                inside = True
            elif text == "### END SOLUTION":
                inside = False
            elif inside and len(text) >= MIN_CHARS and not text.startswith("#"):
                found.append((source.relative_to(ROOT), text))
    return found


def test_every_module_has_exactly_one_notebook_named_after_it():
    names = [path.stem for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    assert sorted(name.split("_", 1)[1] for name in names) == [
        m.removeprefix("tt-") for m in MODULES]
    assert len(names) == 17 == len(notebooks.sources())
    assert [name.split("_")[0] for name in names] == [f"{n:02d}" for n in range(1, 18)]


def test_committed_notebooks_are_exactly_the_build_of_their_cells():
    assert notebooks.check() == 0


def test_check_names_a_stale_notebook(tmp_path, monkeypatch, capsys):
    cells = tmp_path / "03_activations.py"
    cells.write_text("# %% [markdown]\n# # lesson\n\n# %%\nx = 1\n", encoding="utf-8")
    monkeypatch.setattr(notebooks, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(notebooks, "CELLS", tmp_path)
    assert notebooks.build() == 0 and notebooks.check() == 0
    cells.write_text("# %% [markdown]\n# # lesson\n\n# %%\nx = 2\n", encoding="utf-8")
    assert notebooks.check() == 1
    assert "03_activations.ipynb" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_a_notebook_has_the_lesson_the_setup_and_one_cell_per_task(path):
    notebook = committed(path)
    dist = "tt-" + path.stem.split("_", 1)[1]
    cells = notebook["cells"]
    lesson = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and lesson.startswith(f"# {path.stem[:2]} ")
    assert f"../packages/{dist}/README.md" in lesson  # the lesson points to the README
    assert "tt_setup.module_report()" in "".join(cells[1]["source"])
    tasks = [c for c in cells if "tinytorch" in c["metadata"]]
    names = notebooks.task_names(dist)  # tests/tasks.txt's tasks, in the order to do them
    assert names and [c["metadata"]["tinytorch"] for c in tasks] == [
        {"module": dist, "task": name} for name in names]
    short = dist.removeprefix("tt-")
    for made, name in zip(tasks, names):
        assert "".join(made["source"]) == (
            f"!{{sys.executable}} -m tinytorch test {short} --task {name}")
    assert all(c.get("outputs", []) == [] for c in cells)  # committed without outputs
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def test_no_notebook_contains_code_of_a_solution_region():
    regions = solution_lines()
    assert len(regions) > 100  # the scan sees the learner regions of the whole course
    written = set().union(*(code_lines(committed(p))
                            for p in (ROOT / "notebooks").glob("*.ipynb")))
    copied = [f"{source}: {line}" for source, line in regions if line in written]
    assert copied == [], "notebook code copied from a solution region:\n" + "\n".join(copied)


def test_the_solution_scan_would_see_a_copied_line():
    source, line = solution_lines()[0]
    notebook = {"cells": [{"cell_type": "code", "source": [f"    {line}\n"]}]}
    assert line in code_lines(notebook)


def test_cell_sources_parse_and_bad_ones_are_named():
    text = "# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\n# %%\ny = 2\n"
    assert notebooks.parse_cells(text) == [("markdown", "# Title\n\ntext"), ("code", "x = 1"),
                                           ("code", "y = 2")]
    with pytest.raises(ValueError, match="before the first"):
        notebooks.parse_cells("x = 1\n# %%\n")
    with pytest.raises(ValueError, match="must start with '# '.*'oops'"):
        notebooks.parse_cells("# %% [markdown]\noops\n")


def test_the_task_check_needs_ok_and_the_expected_implementation():
    def task_cell(text):
        return {"metadata": {"tinytorch": {"module": "tt-x", "task": "relu"}},
                "outputs": [{"name": "stdout", "text": text}]}

    ok = "OK: the 3 contract test(s) of tt-x selected by `--task relu` pass; `tinytorch test x` " \
         "runs them all"
    good = f"  implementation: tt-x 0.1.0 (reference) at somewhere\n{ok}\n"
    assert notebooks.task_problem(task_cell(good), "reference") is None
    assert "wrong implementation" in notebooks.task_problem(task_cell(good), "own")
    failed = good.replace(ok, "FAILED: 2 test(s) failed")
    assert "did not pass" in notebooks.task_problem(task_cell(failed), "reference")
    other = good.replace("--task relu", "--task gelu")  # another task's tests passing
    assert "did not pass" in notebooks.task_problem(task_cell(other), "reference")


def test_notebook_experiments_name_only_public_names():
    private = re.compile(r"\btt_\w+\.(_\w+)|from tt_\w+\.\w+ import")
    for path in notebooks.sources():
        assert not private.search(path.read_text(encoding="utf-8")), path.name

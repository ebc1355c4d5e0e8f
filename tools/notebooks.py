"""The course notebooks: built from short cell sources, checked, executed with a real kernel.

    python tools/notebooks.py build          write notebooks/NN_<name>.ipynb from NN_<name>.py
    python tools/notebooks.py check          fail if a committed notebook differs from its build
    python tools/notebooks.py run [NN ...]   execute notebooks headless (nbclient + ipykernel);
                                             every task cell must report its tests passing
    python tools/notebooks.py run 03 --expect own    ... on the learner's own module
    python tools/notebooks.py run --save DIR        ... and keep the executed copies in DIR

One source of truth: `notebooks/NN_<name>.py`, beside its notebook (so that relative links
read the same in both), holds the lesson and the experiments in the percent format (`# %%`
starts a code cell, `# %% [markdown]` a markdown cell whose lines start with `# `). This
script adds the first cell (which implementation is installed) and one cell per task of the
module's `tests/tasks.txt`, in the order to do them: `tinytorch test <module> --task <name>` runs
that task's contract tests on whatever implementation is installed. The notebooks never hold
package code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CELLS = NOTEBOOKS  # the cell sources sit beside the notebooks they build
PACKAGES = ROOT / "packages"
CELL_MARK = re.compile(r"^# %%( \[markdown\])?\s*$")

SETUP = '''\
# Which implementation this kernel imports: "reference" or "own" (your package, pip install -e).
import importlib.util
import sys

import tt_setup

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
if HAVE_MATPLOTLIB:
    import matplotlib.pyplot as plt
else:  # every plot below also prints its numbers
    print("matplotlib is not installed: plots print their numbers (pip install matplotlib)")
[(r.distribution, r.version, r.kind) for r in tt_setup.module_report()
 if r.distribution in {names}]'''

TASKS_INTRO = """\
## Tasks: the contract tests

One cell per task, in the order to do them (`packages/{dist}/tests/tasks.txt` maps each task
to its tests). Each runs the official tests of that task on the installed `{dist}`, reference or
your own: `tinytorch test {short} --task <name>` (the same as `tinytorch test {short}` limited to
that task's tests). A task is done when its cell ends with `OK`; a stub still raising
`NotImplementedError` is named in the summary."""


def notebook_name(cells_file: Path) -> str:
    return cells_file.stem  # 03_activations


def distribution(cells_file: Path) -> str:
    return "tt-" + notebook_name(cells_file).split("_", 1)[1]


def parse_cells(text: str) -> list[tuple[str, str]]:
    """[(kind, source)] of a percent-format file; markdown lines lose their leading `# `."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        mark = CELL_MARK.match(line)
        if mark:
            cells.append(("markdown" if mark[1] else "code", []))
        elif not cells:
            if line.strip():
                raise ValueError(f"text before the first `# %%` cell mark: {line!r}")
        elif cells[-1][0] == "markdown":
            if line and not line.startswith("#"):
                raise ValueError(f"a markdown cell's line must start with '# ': {line!r}")
            cells[-1][1].append(line[2:])
        else:
            cells[-1][1].append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def task_names(dist: str) -> list[str]:
    """The tasks of a module in the order to do them: the task names of its tests/tasks.txt."""
    if str(PACKAGES / "tinytorch" / "src") not in sys.path:  # read by the checkout's tinytorch
        sys.path.insert(0, str(PACKAGES / "tinytorch" / "src"))  # (also where none is installed)
    from tinytorch.tasks import read_task_map

    return list(read_task_map(PACKAGES / dist / "tests"))


def cell(kind: str, source: str, **metadata) -> dict:
    lines = source.splitlines(keepends=True)
    made = {"cell_type": kind, "metadata": metadata, "source": lines}
    if kind == "code":
        made.update(execution_count=None, outputs=[])
    return made


def build_notebook(cells_file: Path) -> dict:
    dist = distribution(cells_file)
    short = dist.removeprefix("tt-")
    cells = parse_cells(cells_file.read_text(encoding="utf-8"))
    if not cells or cells[0][0] != "markdown":
        raise ValueError(f"{cells_file.name}: the first cell must be the lesson (markdown)")
    uses = sorted(set(re.findall(r"\btt_(\w+)", "\n".join(s for _, s in cells))))
    names = sorted({dist} | {f"tt-{u}" for u in uses if (PACKAGES / f"tt-{u}").is_dir()})
    made = [cell(*cells[0]), cell("code", SETUP.format(names=tuple(names)))]
    made += [cell(kind, source) for kind, source in cells[1:]]
    made.append(cell("markdown", TASKS_INTRO.format(dist=dist, short=short)))
    for task in task_names(dist):
        made.append(cell("code", f"!{{sys.executable}} -m tinytorch test {short} --task {task}",
                         tinytorch={"module": dist, "task": task}))
    return {"cells": made, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def rendered(cells_file: Path) -> str:
    notebook = build_notebook(cells_file)
    for number, made in enumerate(notebook["cells"]):  # stable ids: no churn between builds
        made["id"] = f"{notebook_name(cells_file).split('_')[0]}-{number:02d}"
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def sources() -> list[Path]:
    return sorted(CELLS.glob("[0-9][0-9]_*.py"))


def target(cells_file: Path) -> Path:
    return NOTEBOOKS / f"{notebook_name(cells_file)}.ipynb"


def build() -> int:
    for cells_file in sources():
        path = target(cells_file)
        temporary = path.with_suffix(".ipynb.tmp")
        temporary.write_text(rendered(cells_file), encoding="utf-8")
        temporary.replace(path)
    print(f"built {len(sources())} notebooks in {NOTEBOOKS.name}/")
    return 0


def check() -> int:
    stale = [target(c).name for c in sources()
             if not target(c).is_file() or target(c).read_text(encoding="utf-8") != rendered(c)]
    if stale:
        print(f"out of date (run python tools/notebooks.py build): {', '.join(stale)}")
        return 1
    print(f"{len(sources())} notebooks match their cell sources")
    return 0


def task_problem(made: dict, expect: str) -> str | None:
    """Why an executed task cell does not show its tests passing on `expect` code, or None."""
    text = "".join(out.get("text", "") for out in made.get("outputs", []))
    meta = made["metadata"]["tinytorch"]
    passed = (rf"OK: the \d+ contract test\(s\) of {re.escape(meta['module'])} selected by "
              rf"`--task {re.escape(meta['task'])}` pass")
    if not re.search(passed, text):
        return f"task {meta['task']} did not pass:\n{text[-2000:]}"
    if not re.search(rf"implementation: {meta['module']} \S+ \({expect}\)", text):
        return f"task {meta['task']} ran on the wrong implementation (not {expect}):\n{text}"
    return None


def execute(path: Path, expect: str, timeout: int, save: Path | None) -> list[str]:
    """Run every cell with a fresh python3 kernel; the problems found (empty: all good).

    With `save`, the executed notebook (outputs included) is written into that folder."""
    # a `python3` kernel spec of this environment wins over one in the user's home folder, and
    # jupyter_client starts a kernel spec's bare `python` as this interpreter (sys.executable)
    os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="tinytorch-notebook-") as workdir:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": workdir}})
        try:
            client.execute()
        except CellExecutionError as error:
            return [f"a cell raised: {error}"]
        finally:
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                temporary = save / f"{path.name}.tmp"
                nbformat.write(notebook, temporary)
                temporary.replace(save / path.name)
    problems = [task_problem(c, expect) for c in notebook.cells
                if "tinytorch" in c.get("metadata", {})]
    return [p for p in problems if p]


def run(selected: list[str], expect: str, timeout: int, save: Path | None = None) -> int:
    chosen = [c for c in sources()
              if not selected or any(c.stem.startswith(s) or c.stem.endswith(s)
                                     for s in selected)]
    if not chosen:
        print(f"no notebook matches {selected}", file=sys.stderr)
        return 2
    failed = []
    for cells_file in chosen:
        start = time.perf_counter()
        problems = execute(target(cells_file), expect, timeout, save)
        seconds = time.perf_counter() - start
        print(f"{target(cells_file).name:<28} {'ok' if not problems else 'FAILED':<6} "
              f"{seconds:6.1f} s", flush=True)
        for problem in problems:
            print("    " + problem.replace("\n", "\n    "))
        if problems:
            failed.append(target(cells_file).name)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"{len(chosen)} notebook(s) executed on the {expect} code: every task passes")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="write the notebooks from their cell sources")
    commands.add_parser("check", help="fail if a notebook is not its cells' build")
    runner = commands.add_parser("run", help="execute notebooks with a python3 kernel")
    runner.add_argument("notebooks", nargs="*", help="03 or activations (default: all)")
    runner.add_argument("--expect", choices=("reference", "own"), default="reference",
                        help="which implementation the task cells must run on (default: "
                             "%(default)s)")
    runner.add_argument("--timeout", type=int, default=900,
                        help="seconds one cell may take (default: %(default)s)")
    runner.add_argument("--save", type=Path, metavar="DIR",
                        help="also write the executed notebooks, with their outputs, into DIR")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build()
    if args.command == "check":
        return check()
    return run(args.notebooks, args.expect, args.timeout, args.save)


if __name__ == "__main__":
    sys.exit(main())

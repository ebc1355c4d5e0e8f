"""`tinytorch new`: the scaffold of a module is a complete package whose solutions raise.

The scaffolds are checked for every module where that is cheap (text only), and imported and
run for tt-activations, the small module the course starts the loop with.
"""

import ast
import json
import os
import shutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tinytorch as tinytorch_package
import tt_setup
from packaging.specifiers import SpecifierSet

from tinytorch.course import CourseError, course_entry, course_root, dependants, find_module
from tinytorch.new import create_package, fill_package, own_version
from tinytorch.scaffold import BEGIN, END, contract, find_regions, see_also

MODULES = [module.distribution for module in tt_setup.COURSE_MODULES]


def tinytorch(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tinytorch", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def activations(tmp_path_factory):
    """`tinytorch new activations DIR`, run as a learner would."""
    dest = tmp_path_factory.mktemp("learner") / "my-activations"
    done = tinytorch("new", "activations", str(dest))
    assert done.returncode == 0, done.stderr
    return dest


@pytest.fixture(scope="module")
def scaffolds(tmp_path_factory):
    """The scaffold of every module, written in-process (text only, no install)."""
    root = tmp_path_factory.mktemp("scaffolds")
    return {name: (root / name, create_package(course_entry(name), root / name))
            for name in MODULES}


def test_scaffold_is_a_complete_package(activations):
    entry = course_entry("activations")
    reference = sorted(p.name for p in entry.source_dir.glob("*.py"))
    assert sorted(p.name for p in (activations / "src/tt_activations").glob("*.py")) == reference
    assert (activations / "README.md").is_file() and (activations / "COURSE.md").is_file()
    assert not (activations / "tests").exists()  # the contract tests stay the course's
    pyproject = (activations / "pyproject.toml").read_text()
    assert 'name = "tt-activations"' in pyproject
    reference_pyproject = (entry.root / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[.*?\]", reference_pyproject, re.M | re.S).group(0)
    assert deps in pyproject
    init = (activations / "src/tt_activations/__init__.py").read_text()
    assert init == (entry.source_dir / "__init__.py").read_text()  # same public API
    version = (activations / "src/tt_activations/_version.py").read_text()
    assert version == f'__version__ = "{entry.version}+own"\n'


def test_stubs_name_the_module_and_the_task(activations):
    text = (activations / "src/tt_activations/functional.py").read_text()
    raised = [node.exc.args[0].value for node in ast.walk(ast.parse(text))
              if isinstance(node, ast.Raise) and isinstance(node.exc.args[0], ast.Constant)]
    assert "tt-activations: implement relu(x) - max(x, 0), elementwise [see COURSE.md]" in raised
    reference = (course_entry("activations").source_dir / "functional.py").read_text()
    assert text.count("raise NotImplementedError(") == len(find_regions(reference))
    lines = text.splitlines()
    for region in find_regions(text):  # between the markers: the raise and nothing else
        body = "".join(line.strip() for line in lines[region.begin + 1: region.end])
        assert re.match(r'raise NotImplementedError\("tt-activations: implement ', body), body
        assert body.count("raise") == 1 and body.endswith('")')
    assert text.count(BEGIN) == text.count(END) == len(find_regions(reference))


def test_readme_lists_every_task_and_the_commands(activations):
    readme = (activations / "README.md").read_text()
    assert "implement relu(x) - max(x, 0), elementwise" in readme
    assert readme.count("| `src/tt_activations/functional.py:") == 6
    for command in (f"pip install -e {activations}", "tinytorch test activations",
                    "tinytorch doctor", "--force-reinstall"):
        assert command in readme


def test_readme_commands_work_from_wheels_and_from_a_checkout(activations):
    readme = (activations / "README.md").read_text()
    entry = course_entry("activations")
    assert "tinytorch run xornet" in readme and "capstones/" not in readme
    wheels = f"--find-links WHEELS '{entry.distribution}=={entry.version}'"
    lines = readme.splitlines()
    restore = [i for i, line in enumerate(lines) if wheels in line]
    assert restore and "installed from wheels" in lines[restore[0] + 1]
    # the one checkout path is the editable install of the reference, said to need a checkout
    checkout = [i for i, line in enumerate(lines) if "packages/" in line]
    assert [lines[i].strip() for i in checkout] == [f"pip install -e packages/{entry.distribution}"]
    assert "in a TinyTorch checkout" in lines[checkout[0] + 1]


def test_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = tinytorch("new", "activations", str(tmp_path))
    assert done.returncode == 2
    assert "not empty" in done.stderr and str(tmp_path) in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_empty_existing_directory_is_fine(tmp_path):
    done = tinytorch("new", "03", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "src/tt_activations/functional.py").is_file()


def test_unknown_module_is_a_clear_error(tmp_path):
    done = tinytorch("new", "convolutions", str(tmp_path / "x"))
    assert done.returncode == 2 and "no course module 'convolutions'" in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", ["activations", "tt-activations", "tt_activations", "03", "3"])
def test_module_names(name):
    assert find_module(name).distribution == "tt-activations"
    with pytest.raises(CourseError):
        find_module("18")


def test_own_version_satisfies_the_dependants_ranges_and_the_pins():
    version = own_version("0.1.0")
    assert version == "0.1.0+own"
    assert version in SpecifierSet("~=0.1.0") and version in SpecifierSet("==0.1.0")
    assert tt_setup.classify_install("tt-activations", version, None, None) == "own"


def test_every_scaffold_compiles_and_every_region_is_stubbed(scaffolds):
    for name, (dest, tasks) in scaffolds.items():
        entry = course_entry(name)
        regions = sum(len(find_regions(p.read_text())) for p in entry.source_dir.rglob("*.py"))
        assert len(tasks) == regions, name
        for path in (dest / "src").rglob("*.py"):
            compile(path.read_text(), str(path), "exec")  # SyntaxError names file and line
        for task in tasks:
            line = (dest / task.path).read_text().splitlines()[task.line - 1]
            assert line.strip().startswith("raise NotImplementedError(")
            assert task.message.startswith(f"{name}: implement ")


def test_every_scaffold_imports_in_place_of_the_reference(scaffolds):
    """Module-level code is untouched: all seventeen stubbed packages import together."""
    paths = os.pathsep.join(str(dest / "src") for dest, _ in scaffolds.values())
    code = ("import importlib, tt_setup\n"
            "for m in tt_setup.COURSE_MODULES:\n"
            "    mod = importlib.import_module(m.import_name)\n"
            "    assert mod.__version__.endswith('+own'), (m, mod.__file__)\n"
            "    missing = [n for n in mod.__all__ if not hasattr(mod, n)]\n"
            "    assert not missing, (m, missing)\n"
            "import numpy as np\nfrom tt_activations import relu\n"
            "from tt_tensor import from_numpy\n"
            # from_numpy wraps the array as it is: tt-tensor's to_array (a stub) is not reached
            "try:\n    relu(from_numpy(np.ones(1)))\nexcept NotImplementedError as e:\n"
            "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=paths), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("tt-activations: implement relu(x) - max(x, 0), elementwise "
                                   "[see COURSE.md]")


def test_filling_the_stubs_gives_back_the_reference(scaffolds):
    """The markers round-trip: scaffold, then fill from the reference = the reference."""
    for name, (dest, _) in scaffolds.items():
        entry = course_entry(name)
        fill_package(dest, entry)
        for path in entry.source_dir.rglob("*.py"):
            if "__pycache__" in path.parts or path.name == "_version.py":
                continue
            mine = dest / "src" / entry.import_name / path.relative_to(entry.source_dir)
            assert mine.read_text() == path.read_text(), mine


def test_dependants_follow_the_course_graph():
    found = dependants("tt-layers")
    assert {"tt-networks", "tt-autograd", "tt-training", "tt-systems"} <= set(found)
    assert "tt-tensor" not in found and "tt-layers" not in found
    assert dependants("tt-systems") == []


def test_course_folder_can_be_overridden(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_COURSE", str(tmp_path))
    assert course_root() == tmp_path.resolve()
    with pytest.raises(CourseError, match="no .*tt_activations"):
        course_entry("activations")



def test_every_stub_message_states_its_contract_and_a_document(scaffolds):
    """The message comes from the task's docstring (one source of truth) and names a document
    that exists; a gradient rule, which has no docstring, names the Node API's section."""
    for name, (dest, tasks) in scaffolds.items():
        entry = course_entry(name)
        for task in tasks:
            contract, see = re.fullmatch(rf"{name}: implement .+? - (.+) \[see (.+)\]",
                                         task.message, re.S).groups()
            assert contract.strip(), (name, task.message)
            if see == "COURSE.md":
                assert (dest / "COURSE.md").is_file()
    autograd = {t.name: t.message for t in scaffolds["tt-autograd"][1]}
    assert "d out/da = b, d out/db = a" in autograd["_mul"]
    assert "the gradients are (g * b, g * a)" in autograd["_mul"]
    rules = {name: message for name, message in autograd.items()
             if name.startswith("_") and "(g, node, out, needs)" in message}
    assert len(rules) >= 20  # every primitive's rule is a task
    for name, message in rules.items():
        # its own math (out = ..., then the gradient it returns) and the Node API's document
        assert re.search(r" - out = .+ gradients? (is|are) ", message), (name, message)
        assert '[see "The graph" (the Node API)' in message and "tt-tensor's README" in message
    readme = (course_entry("tensor").root / "README.md").read_text()
    assert "\n## The graph\n" in readme and "node.inputs" in readme


def test_a_see_sentence_naming_a_file_is_left_out_whole():
    doc = 'Returns x.\nSee COURSE.md, "The graph". Keeps y.\n\nSee README.md.\n\nMore.'
    assert contract("f", doc) == "Returns x. Keeps y. More"
    assert see_also(doc) == 'COURSE.md, "The graph"'


def test_a_fused_backward_states_its_own_formula(scaffolds):
    attention = {t.name: t.message for t in scaffolds["tt-attention"][1]}
    forward = attention["ScaledMaskedSoftmax.forward"]
    backward = attention["ScaledMaskedSoftmax.backward"]
    assert "y = softmax(scale * x + bias)" in forward
    assert "dx = scale * y * (g - sum(g * y))" in backward and "softmax(" not in backward


def test_a_stub_message_follows_its_docstring(scaffolds):
    messages = {t.name: t.message for t in scaffolds["tt-networks"][1]}
    # the docstring's rule (divide by the step actually taken), not a different formula
    assert "/ (upper - lower)" in messages["numerical_gradient"]
    assert "2 eps)" not in messages["numerical_gradient"].split(" [see")[0].split("(2 eps")[0]
    sgd = {t.name: t.message for t in scaffolds["tt-optimizers"][1]}["SGD._update"]
    assert "g = grad + weight_decay * p; b = g (first step);" in sgd  # formula lines kept apart


def shipped_notebook(name):
    """The course's notebook `name`, found apart from tinytorch.course: in the wheel's
    tinytorch/_notebooks/ or, installed editable, in the checkout's notebooks/ (the source)."""
    # editable: <checkout>/packages/tinytorch/src/tinytorch
    package = Path(tinytorch_package.__file__).resolve().parent
    for path in (package / "_notebooks" / name, package.parents[3] / "notebooks" / name):
        if path.is_file():
            return path
    pytest.fail(f"no {name} in the wheel's _notebooks/ nor in a checkout's notebooks/")


def test_every_scaffold_holds_its_modules_notebook_as_the_course_ships_it(scaffolds):
    for name, (dest, _) in scaffolds.items():
        number, short = find_module(name).number, name.removeprefix("tt-")
        notebook = dest / f"{number:02d}_{short}.ipynb"
        assert notebook.read_bytes() == shipped_notebook(notebook.name).read_bytes(), name
        assert [p.name for p in dest.glob("*.ipynb")] == [notebook.name]
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        assert "".join(cells[0]["source"]).startswith(f"# {number:02d} {short}:")
        tasks = [c["metadata"]["tinytorch"] for c in cells if "tinytorch" in c["metadata"]]
        assert tasks and {task["module"] for task in tasks} == {name}


def test_the_readme_and_the_command_name_the_notebook(activations, tmp_path):
    readme = (activations / "README.md").read_text()
    assert "## The notebook" in readme and "jupyter lab 03_activations.ipynb" in readme
    done = tinytorch("new", "activations", str(tmp_path / "mine"))
    assert done.returncode == 0, done.stderr
    assert f"notebook: {tmp_path / 'mine' / '03_activations.ipynb'}" in done.stdout


def test_a_course_folder_without_notebooks_gives_a_scaffold_without_one(tmp_path):
    """A course folder ($TINYTORCH_COURSE) with no notebooks/ beside it: the package is
    written whole, and its README does not promise a notebook."""
    course = tmp_path / "fork" / "packages"
    shutil.copytree(course_entry("activations").root, course / "tt-activations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    dest = tmp_path / "mine"
    tasks = create_package(course_entry("activations", course), dest)
    assert len(tasks) == 6 and (dest / "src/tt_activations/functional.py").is_file()
    assert not list(dest.glob("*.ipynb"))
    assert "notebook" not in (dest / "README.md").read_text().lower()

"""The task lists: every module's tests/tasks.txt agrees with its scaffold, and `tinytorch test`
counts the stubs of a fresh scaffold exactly, whatever the tests reach."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
import tt_setup

from tinytorch.course import course_entry
from tinytorch.new import create_package, fill_package
from tinytorch.scaffold import find_regions
from tinytorch.tasks import (
    GIVEN, TaskMapError, course_tasks, installed_functions, matches, node_key, read_given,
    read_task_map,
)

MODULES = [module.distribution for module in tt_setup.COURSE_MODULES]
# Task maps another change is rewriting, which do not name every test yet: take a module out
# once `python tools/tasks.py verify <module>` passes for it (CONTRIBUTING.md).
MAPS_BEING_REWRITTEN: set[str] = set()  # every map is verified now


def collected(entry):
    """The keys (file::test[params]) of every contract test of a module, as pytest collects."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", str(entry.tests_dir)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return [node_key(line) for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.parametrize("name", MODULES)
def test_the_task_map_names_every_task_and_only_existing_tests(name):
    entry = course_entry(name)
    mapping = read_task_map(entry.tests_dir)
    assert list(mapping) and sorted(mapping) == sorted(t.name for t in course_tasks(
        entry.source_dir)), f"{name}: tests/tasks.txt and the solution regions disagree"
    keys = collected(entry)
    given = read_given(entry.tests_dir)
    for task, patterns in [*mapping.items(), (GIVEN, given)]:
        assert patterns or task == GIVEN, f"{name}: task {task} has no test"
        for pattern in patterns:
            assert any(matches(pattern, key) for key in keys), \
                f"{name}: {task}: {pattern} names no contract test"
    if name not in MAPS_BEING_REWRITTEN:  # every test is a task's or given code's
        loose = [key for key in keys
                 if not any(matches(p, key) for p in [*given, *sum(mapping.values(), [])])]
        assert not loose, f"{name}: tests/tasks.txt maps no task or (given) to {loose}"


@pytest.mark.parametrize("name", MODULES)
def test_tinytorch_test_counts_every_stub_of_a_fresh_scaffold(name, tmp_path):
    entry = course_entry(name)
    tasks = create_package(entry, tmp_path / "own")
    assert [t.name for t in tasks] == list(read_task_map(entry.tests_dir))  # in that order
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "own" / "src"))
    # -x: pytest stops at the first failure; the count must not depend on what ran
    done = subprocess.run([sys.executable, "-m", "tinytorch", "test", name, "--", "-x"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    counts = re.search(r"tasks: (\d+), stub (\d+),", done.stdout)
    assert counts, done.stdout
    assert tuple(int(n) for n in counts.groups()) == (len(tasks), len(tasks))
    assert "not a function of the installed package" not in done.stdout
    assert f"{len(tasks)} of {len(tasks)} task(s) are still stubs" in done.stdout
    for number, task in enumerate(tasks, 1):  # one row per task, in the scaffold's order
        assert re.search(rf"^\s+{number}\s+{re.escape(task.name)}\s+stub\s", done.stdout,
                         re.M), (task.name, done.stdout)


def write_region(text, task, body):
    """The source with the region of `task` holding `body` (one line) instead of its stub."""
    (region,) = [r for r in find_regions(text) if r.qualname == task]
    lines = text.splitlines()
    lines[region.begin + 1: region.end] = [region.indent + body]
    return "\n".join(lines) + "\n"


def test_each_task_is_judged_by_its_own_tests(tmp_path):
    """relu written, sigmoid wrong, the rest stubs: each row says so on its own."""
    entry = course_entry("activations")
    dest = tmp_path / "own"
    create_package(entry, dest)
    path = dest / "src/tt_activations/functional.py"
    text = write_region(path.read_text(), "relu", "return x * (x.data > 0)")
    path.write_text(write_region(text, "sigmoid", "return x"))
    found = installed_functions(dest / "src/tt_activations", "tt-activations")
    assert not found["relu"].stub and not found["sigmoid"].stub and found["gelu"].stub
    done = subprocess.run([sys.executable, "-m", "tinytorch", "test", "activations"],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(dest / "src")))
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r"^\s+\d+\s+(\w+)\s+(stub|failing|waiting|passing)\s", done.stdout,
                        re.M)}
    assert rows["relu"] == "passing", done.stdout
    assert rows["sigmoid"] == "failing"
    assert rows["gelu"] == rows["softmax"] == "stub"
    assert "tasks: 6, stub 4, failing 1, waiting 0" in done.stdout


def test_the_where_column_names_the_line_the_scaffold_readme_names(tmp_path):
    """While a task is a stub, `tinytorch test` locates it at its raise, as the scaffold's
    README and `tinytorch new` do; once written, at its def."""
    entry = course_entry("systems")
    dest = tmp_path / "own"
    tasks = create_package(entry, dest)
    found = installed_functions(dest / "src" / entry.import_name, entry.distribution)
    for task in tasks:
        assert (found[task.name].path, found[task.name].line) == (dest / task.path, task.line)
    path = dest / "src/tt_systems/costs.py"
    path.write_text(write_region(path.read_text(), "matmul_flops", "return 0"))
    written = installed_functions(dest / "src/tt_systems", entry.distribution)["matmul_flops"]
    assert not written.stub
    assert path.read_text().splitlines()[written.line - 1].startswith("def matmul_flops(")


def test_a_broken_task_map_is_a_clear_error(tmp_path):
    (tmp_path / "tasks.txt").write_text(textwrap.dedent("""\
        relu: test_a.py::test_relu
            test_a.py::test_more
        relu: test_b.py::test_x
        """))
    with pytest.raises(TaskMapError, match=r"tasks.txt:3: task relu is listed twice"):
        read_task_map(tmp_path)
    (tmp_path / "tasks.txt").write_text("    test_a.py::test_x\n")
    with pytest.raises(TaskMapError, match="before any task"):
        read_task_map(tmp_path)


def test_the_given_group_is_not_a_task(tmp_path):
    (tmp_path / "tasks.txt").write_text(textwrap.dedent("""\
        relu: test_a.py::test_relu
        (given): test_a.py::test_api
            test_b.py::test_*
        """))
    assert read_task_map(tmp_path) == {"relu": ["test_a.py::test_relu"]}
    assert read_given(tmp_path) == ["test_a.py::test_api", "test_b.py::test_*"]
    (tmp_path / "tasks.txt").write_text("(other): test_a.py::test_x\n")
    with pytest.raises(TaskMapError, match="expected 'task: patterns'"):
        read_task_map(tmp_path)


@pytest.mark.parametrize("pattern, key, expected", [
    ("f.py::test_relu", "f.py::test_relu[float32]", True),
    ("f.py::test_relu[float32]", "f.py::test_relu[float64]", False),
    ("f.py::test_x[*relu*]", "f.py::test_x[float32-relu]", True),
    ("f.py::test_*", "f.py::test_relu", True),
    ("f.py::test_relu", "f.py::test_relu_grad", False),
])
def test_patterns(pattern, key, expected):
    assert matches(pattern, key) is expected


def test_a_task_organised_differently_is_judged_by_its_tests(tmp_path):
    """A learner's package without the task's function (renamed, merged) is not a stub."""
    entry = course_entry("networks")
    dest = tmp_path / "own"
    create_package(entry, dest)
    fill_package(dest, entry)
    path = dest / "src/tt_networks/losses.py"
    path.write_text(path.read_text().replace("_clamped_log(", "_my_clamped_log("))
    done = subprocess.run([sys.executable, "-m", "tinytorch", "test", "networks"],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(dest / "src")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^\s+\d+\s+_clamped_log\s+passing\s", done.stdout, re.M), done.stdout
    assert "tasks: 8, stub 0, failing 0, waiting 0, not run 0, passing 8" in done.stdout
    assert "(judged by their tests only): _clamped_log" in done.stdout

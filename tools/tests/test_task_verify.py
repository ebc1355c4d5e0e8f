"""`python tools/tasks.py verify` on a tiny fake package: a truthful task map passes; each way a
map can lie (a test mapped nowhere, a test under the wrong task, a task whose tests cannot see
its stub, a test of given code that needs a task) is named."""

import textwrap

import pytest

import task_verify
import tasks

SOURCE = '''\
"""A fake module with two tasks; quadruple uses double."""

__all__ = ["double", "quadruple", "NAME"]
NAME = "fake"


def double(x):
    """2 * x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


def quadruple(x):
    """4 * x, as double(double(x))."""
    ### BEGIN SOLUTION
    return double(double(x))
    ### END SOLUTION
'''

TESTS = '''\
import tt_fake


def test_double():
    assert tt_fake.double(3) == 6


def test_quadruple():
    assert tt_fake.quadruple(3) == 12


def test_name():
    assert tt_fake.NAME == "fake"
'''

TRUE_MAP = """\
double: test_fake.py::test_double
quadruple: test_fake.py::test_quadruple
(given): test_fake.py::test_name
"""


@pytest.fixture
def package(tmp_path):
    """packages/tt-fake with its source, contract tests and a truthful task map."""
    folder = tmp_path / "packages" / "tt-fake"
    (folder / "src" / "tt_fake").mkdir(parents=True)
    (folder / "src" / "tt_fake" / "__init__.py").write_text(SOURCE)
    (folder / "tests").mkdir()
    (folder / "tests" / "test_fake.py").write_text(TESTS)
    (folder / "tests" / "tasks.txt").write_text(TRUE_MAP)
    return folder


def with_map(folder, text):
    (folder / "tests" / "tasks.txt").write_text(textwrap.dedent(text))
    return task_verify.verify(folder)


def test_a_truthful_map_passes(package):
    verdict = task_verify.verify(package)
    assert verdict.violations == []
    rows = {t.name: (t.mapped, t.failed) for t in verdict.tasks}
    # stubbing double also fails quadruple's test: allowed, quadruple comes later
    assert rows["double"] == (["test_fake.py::test_double"],
                              ["test_fake.py::test_double", "test_fake.py::test_quadruple"])
    assert rows["quadruple"] == (["test_fake.py::test_quadruple"],
                                 ["test_fake.py::test_quadruple"])
    assert "OK:" in task_verify.table(verdict)[-1]


def test_a_test_mapped_nowhere_is_named(package):
    verdict = with_map(package, """\
        double: test_fake.py::test_double
        quadruple: test_fake.py::test_quadruple
        """)
    assert verdict.violations == ["test_fake.py::test_name is mapped to no task and not to "
                                  "(given)"]


def test_a_test_under_an_earlier_task_is_named(package):
    verdict = with_map(package, """\
        double: test_fake.py::test_double
            test_fake.py::test_quadruple
        quadruple: test_fake.py::test_quadruple
        (given): test_fake.py::test_name
        """)
    assert verdict.violations == [
        "quadruple stubbed fails test_fake.py::test_quadruple, which is mapped to earlier "
        "task(s) double"]


def test_a_task_whose_tests_do_not_see_its_stub_is_named(package):
    verdict = with_map(package, """\
        double: test_fake.py::test_double
            test_fake.py::test_quadruple
        quadruple: test_fake.py::test_name
        """)
    assert ("quadruple stubbed fails test_fake.py::test_quadruple, which is mapped to earlier "
            "task(s) double") in verdict.violations
    assert "quadruple: none of its 1 mapped test(s) fails when it is a stub" in \
        verdict.violations


def test_the_order_matters(package):
    """quadruple first: its test fails while double, a later task, is a stub."""
    verdict = with_map(package, """\
        quadruple: test_fake.py::test_quadruple
        double: test_fake.py::test_double
        (given): test_fake.py::test_name
        """)
    assert verdict.violations == [
        "double stubbed fails test_fake.py::test_quadruple, which is mapped to earlier "
        "task(s) quadruple"]
    about, given = verdict.truthful_map()  # what verify --write writes: double first
    assert about == {"double": ["test_fake.py::test_double"],
                     "quadruple": ["test_fake.py::test_quadruple"]}
    assert list(about) == ["double", "quadruple"] and given == ["test_fake.py::test_name"]


def test_given_tests_must_not_need_a_task_and_patterns_must_name_tests(package):
    verdict = with_map(package, """\
        double: test_fake.py::test_double
        quadruple: test_fake.py::test_quadruple
            test_fake.py::test_gone
        (given): test_fake.py::test_name test_fake.py::test_quadruple
        """)
    assert verdict.violations == [
        "quadruple: pattern test_fake.py::test_gone names no contract test",
        "double stubbed fails test_fake.py::test_quadruple, a test of given code",
        "quadruple stubbed fails test_fake.py::test_quadruple, a test of given code"]


def test_a_failing_reference_and_a_wrong_task_list_are_named(package):
    tests = package / "tests" / "test_fake.py"
    tests.write_text(tests.read_text().replace('== "fake"', '== "other"'))
    assert "test_fake.py::test_name fails on the reference" in \
        task_verify.verify(package).violations
    verdict = with_map(package, "double: test_fake.py::test_double\n")
    assert verdict.violations == ["tests/tasks.txt lists ['double'], the solution regions are "
                                  "['double', 'quadruple']"]


def test_the_command_exits_1_on_a_violation(package, monkeypatch, capsys):
    monkeypatch.setattr(tasks, "ROOT", package.parent.parent)
    assert tasks.main(["verify", "tt-fake"]) == 0
    assert "OK:" in capsys.readouterr().out
    (package / "tests" / "tasks.txt").write_text(
        "double: test_fake.py::test_double\nquadruple: test_fake.py::test_quadruple\n")
    assert tasks.main(["verify", "tt-fake"]) == 1
    assert "1 violation(s):" in capsys.readouterr().out

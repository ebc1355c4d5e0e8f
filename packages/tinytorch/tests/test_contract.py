"""`tinytorch test`: the official contract tests, a summary per test file, never a crash.

The learner's package is put in front of the reference with PYTHONPATH (what an install does,
without touching this environment); the tests always come from the course folder.
"""

import os
import subprocess
import sys

import pytest
import tt_setup

from tinytorch.contract import checked_entry, extra_notes
from tinytorch.course import course_entry
from tinytorch.new import create_package


def tinytorch(*args, pythonpath=None):
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "tinytorch", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def summary_row(stdout, filename):
    """(passed, failed, skipped) of one test file's row in the summary."""
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == filename:
            return tuple(int(n) for n in parts[1:4])
    raise AssertionError(f"no summary row for {filename} in:\n{stdout}")


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("stub") / "act"
    create_package(course_entry("activations"), dest)
    return dest


def test_reference_passes_with_a_summary_per_test_file():
    done = tinytorch("test", "activations")
    assert done.returncode == 0, done.stdout + done.stderr
    tests = course_entry("activations").tests_dir
    assert f"tests:          {tests}" in done.stdout
    record = next(r for r in tt_setup.module_report() if r.distribution == "tt-activations")
    assert f"tt-activations {record.version} ({record.kind}) at {record.location}" in done.stdout
    for path in sorted(tests.glob("test_*.py")):
        passed, failed, _ = summary_row(done.stdout, path.name)
        assert passed > 0 and failed == 0
    assert "OK: every contract test of tt-activations passes" in done.stdout


def test_stubs_fail_with_their_messages_and_no_crash(stubbed):
    done = tinytorch("test", "activations", pythonpath=stubbed / "src")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    passed, failed, _ = summary_row(done.stdout, "test_activations.py")
    assert failed > 0
    assert summary_row(done.stdout, "test_public_api.py")[1] == 0  # the API is all there
    for task in ("relu(x) - max(x, 0), elementwise", "softmax(x, axis)", "log_softmax(x, axis)"):
        assert f"): tt-activations: implement {task}" in done.stdout
    assert "6 of 6 task(s) are still stubs" in done.stdout


def test_pytest_arguments_after_the_double_dash(stubbed):
    done = tinytorch("test", "activations", "--", "-k", "public_api", pythonpath=stubbed / "src")
    assert done.returncode == 0, done.stdout
    assert summary_row(done.stdout, "test_public_api.py") == (2, 0, 0)
    assert "test_activations.py" not in done.stdout.split("summary of")[1]
    # a subset passed: the last line says which, never that every contract test passes
    assert done.stdout.rstrip().splitlines()[-1] == (
        "OK: the 2 contract test(s) of tt-activations selected by `-k public_api` pass; "
        "`tinytorch test activations` runs them all")


def task_row(stdout, task):
    """(status, passed, mapped) of a task's row in the per-task table."""
    for line in stdout.splitlines():
        parts = line.split()
        if parts[1:2] == [task] and parts[0].isdigit():
            status = " ".join(parts[2:-2])
            passed, mapped = parts[-2].split("/")
            return status, int(passed), int(mapped)
    raise AssertionError(f"no task row for {task} in:\n{stdout}")


@pytest.mark.parametrize("where", ["after", "before", "equals"])
def test_task_option_runs_only_that_tasks_tests(where):
    args = {"after": ["activations", "--task", "softmax"],
            "before": ["--task", "softmax", "activations"],
            "equals": ["activations", "--task=softmax"]}[where]
    done = tinytorch("test", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    status, passed, mapped = task_row(done.stdout, "softmax")
    assert status == "passing" and passed == mapped > 0
    assert summary_row(done.stdout, "test_activations.py")[0] == passed  # nothing else ran
    for other in ("relu", "sigmoid", "tanh"):  # (a test of softmax may check log_softmax too)
        assert task_row(done.stdout, other) == ("not run", 0, 0)
    assert "selected by `--task softmax`" in done.stdout


def test_task_option_on_a_stub_fails_with_its_message(stubbed):
    done = tinytorch("test", "activations", "--task", "relu", pythonpath=stubbed / "src")
    assert done.returncode == 1
    assert task_row(done.stdout, "relu")[0] == "stub"
    assert "tt-activations: implement relu" in done.stdout
    assert task_row(done.stdout, "softmax")[1:] == (0, 0)  # its tests did not run


@pytest.mark.parametrize("args, message", [
    (["--task", "nosuch"], "tt-activations has no task 'nosuch'; its tasks: relu, sigmoid"),
    (["--task"], "--task needs a task name"),
])
def test_unknown_or_missing_task_name(args, message):
    done = tinytorch("test", "activations", *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_package_that_does_not_import_counts_as_failed_not_as_a_crash(tmp_path):
    broken = tmp_path / "tt_activations"
    broken.mkdir()
    (broken / "__init__.py").write_text("def relu(:\n")
    done = tinytorch("test", "activations", pythonpath=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not be collected (counted as failed): SyntaxError" in done.stdout
    assert summary_row(done.stdout, "test_activations.py")[1] >= 1


def test_a_test_process_that_dies_is_reported(tmp_path):
    dying = tmp_path / "tt_activations"
    dying.mkdir()
    (dying / "__init__.py").write_text("import os\nos._exit(7)\n")
    done = tinytorch("test", "activations", pythonpath=tmp_path)
    assert done.returncode == 1
    assert "died (exit code 7)" in done.stdout


def test_tests_in_the_current_directory_are_never_used(tmp_path, stubbed):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fake.py").write_text("def test_ok():\n    assert 1\n")
    done = subprocess.run([sys.executable, "-m", "tinytorch", "test", "activations"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(stubbed / "src")))
    assert done.returncode == 1 and "test_fake" not in done.stdout


def test_unknown_module():
    done = tinytorch("test", "nosuch")
    assert done.returncode == 2 and "no course module 'nosuch'" in done.stderr


@pytest.mark.parametrize("name", [m.distribution for m in tt_setup.COURSE_MODULES]
                         + [m.import_name for m in tt_setup.COURSE_MODULES] + ["tinytorch"])
def test_every_distribution_name_is_accepted(name):
    entry = checked_entry(name)
    assert entry.distribution == name.replace("_", "-") and entry.tests_dir.is_dir()


def test_the_meta_package_tests_itself():
    done = tinytorch("test", "tinytorch", "--", "-k", "test_module_names")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the official contract tests of tinytorch" in done.stdout
    assert f"tests:          {checked_entry('tinytorch').tests_dir}" in done.stdout
    assert summary_row(done.stdout, "test_new.py")[:2] == (5, 0)
    assert "OK: the 5 contract test(s) of tinytorch selected by `-k test_module_names` pass; " \
           "`tinytorch test tinytorch` runs them all" in done.stdout


def test_the_tests_see_the_callers_environment_unchanged(tmp_path):
    """The test process keeps the current folder off its own sys.path without putting
    PYTHONSAFEPATH in the environment the tests, and the programs they start, inherit."""
    tests = tmp_path / "course" / "tinytorch" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_env.py").write_text(
        "import os\n\n\ndef test_environment():\n"
        "    assert os.environ.get('PYTHONSAFEPATH') is None\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    env["TINYTORCH_COURSE"] = str(tmp_path / "course")
    done = subprocess.run([sys.executable, "-m", "tinytorch", "test", "tinytorch"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary_row(done.stdout, "test_env.py") == (1, 0, 0)


def test_a_test_file_needing_an_extra_names_it(tmp_path):
    """A contract test file that imports what one of the package's extras installs (here
    tinytorch's [plots], matplotlib) cannot be collected without it: the report names the
    extra and its pip command, not only the import error."""
    tests = tmp_path / "course" / "tinytorch" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_pictures.py").write_text(
        "import matplotlib\n\n\ndef test_draw():\n    assert matplotlib\n", encoding="utf-8")
    blocked = tmp_path / "blocked" / "matplotlib"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text(  # importing it fails as if it were not installed
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n",
        encoding="utf-8")
    env = dict(os.environ, TINYTORCH_COURSE=str(tmp_path / "course"),
               PYTHONPATH=str(tmp_path / "blocked"))
    done = subprocess.run([sys.executable, "-m", "tinytorch", "test", "tinytorch"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert summary_row(done.stdout, "test_pictures.py")[1] == 1
    assert ("note: test_pictures.py could not be collected: it needs matplotlib, which the "
            "[plots] extra of tinytorch installs: pip install 'tinytorch[plots]'") in done.stdout


def test_a_missing_module_no_extra_installs_gets_no_extra_note():
    files = {"test_x.py": {"collection_error": "ModuleNotFoundError: No module named 'nosuch'"},
             "test_y.py": {"collection_error": None}}
    assert extra_notes("tt-systems", files) == []
    files["test_x.py"]["collection_error"] = \
        "ModuleNotFoundError: No module named 'prometheus_client.parser'"
    assert extra_notes("tt-systems", files) == [
        "note: test_x.py could not be collected: it needs prometheus_client.parser, which the "
        "[metrics] extra of tt-systems installs: pip install 'tt-systems[metrics]'"]

"""The `tinytorch` command: --version and doctor, run as a user would, in a subprocess."""

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy
import tt_setup

import tinytorch


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tinytorch", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_version_lists_tinytorch_and_every_module():
    done = run("--version")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"tinytorch {tinytorch.__version__}"
    for module, line in zip(tt_setup.COURSE_MODULES, lines[1:], strict=True):
        assert module.distribution in line
        try:
            assert metadata.version(module.distribution) in line
        except metadata.PackageNotFoundError:
            assert "not installed" in line


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "tinytorch"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tinytorch ")


def test_doctor_prints_the_report_and_exits_by_the_checks():
    done = run("doctor")
    expected_ok = all(check.ok for check in tt_setup.doctor())
    assert done.returncode == (0 if expected_ok else 1), done.stdout
    for module in tt_setup.COURSE_MODULES:
        assert module.distribution in done.stdout
    assert "pip check" in done.stdout and "BLAS" in done.stdout


def test_doctor_exits_1_and_hints_when_a_module_fails_to_import(tmp_path):
    broken = tmp_path / "shadow"  # found before site-packages: a learner's broken tt_tensor
    (broken / "tt_tensor").mkdir(parents=True)
    (broken / "tt_tensor" / "__init__.py").write_text("raise RuntimeError('broken on purpose')\n")
    env = dict(os.environ, PYTHONPATH=str(broken))
    done = run("doctor", env=env)
    assert done.returncode == 1, done.stdout
    assert "FAIL  import tt_tensor" in done.stdout
    assert "broken on purpose" in done.stdout and "hint:" in done.stdout


def test_no_command_prints_usage_and_exits_2():
    done = run()
    assert done.returncode == 2
    assert "usage: tinytorch" in done.stderr


def test_doctor_json_is_the_report_as_data():
    done = run("doctor", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == (0 if report["ok"] else 1)
    assert report["python"] == platform.python_version()
    assert report["numpy"] == numpy.__version__
    assert report["blas"] == tt_setup.system_info()["blas"]
    rows = [{key: row[key] for key in ("number", "distribution", "import_name", "installed",
                                       "version", "location", "editable", "kind")}
            for row in report["modules"]]
    assert rows == [vars(record) for record in tt_setup.module_report()]
    assert all(row["pip"] in ("ok", "conflict", "-") for row in report["modules"])
    assert {check["name"] for check in report["checks"]} >= {"BLAS", "pip check"}


def test_doctor_json_reports_a_module_that_fails_to_import(tmp_path):
    broken = tmp_path / "shadow"
    (broken / "tt_tensor").mkdir(parents=True)
    (broken / "tt_tensor" / "__init__.py").write_text("raise RuntimeError('broken on purpose')\n")
    done = run("doctor", "--json", env=dict(os.environ, PYTHONPATH=str(broken)))
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["ok"] is False
    [failed] = [check for check in report["checks"] if check["name"] == "import tt_tensor"]
    assert failed["ok"] is False and "broken on purpose" in failed["detail"]

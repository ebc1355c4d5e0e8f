"""doctor() returns checks with fix hints; format_report() renders them with the modules."""

import json
import subprocess
import sys
import venv

import pytest

from tt_setup import (
    Check,
    ModuleRecord,
    check_extras,
    doctor,
    format_report,
    module_report,
    report_dict,
    system_info,
)


def by_name(checks):
    return {check.name: check for check in checks}


def test_doctor_returns_checks_each_with_a_hint():
    checks = doctor()
    assert checks and all(isinstance(check, Check) for check in checks)
    assert all(check.hint for check in checks)
    names = by_name(checks)
    for name in ("python >= 3.10", "numpy >= 1.24", "BLAS", "pip check", "import tt_setup"):
        assert name in names


def test_doctor_passes_python_and_numpy_here():
    names = by_name(doctor())
    assert names["python >= 3.10"].ok
    assert names["numpy >= 1.24"].ok
    assert names["import tt_setup"].ok


def test_doctor_checks_the_import_of_every_installed_module():
    installed = [record.import_name for record in module_report() if record.installed]
    imports = [check.name for check in doctor() if check.name.startswith("import ")]
    assert imports == [f"import {name}" for name in installed]


def test_a_module_that_fails_to_import_fails_with_a_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "tt_setup", None)  # `import tt_setup` now raises
    check = by_name(doctor())["import tt_setup"]
    assert not check.ok
    assert "ModuleNotFoundError" in check.detail
    assert "pip install -e ./packages/tt-setup" in check.hint


@pytest.fixture(scope="module")
def python_without_pip(tmp_path_factory):
    directory = tmp_path_factory.mktemp("nopip")
    venv.create(directory, with_pip=False)
    return str(directory / "bin" / "python")


def test_missing_pip_fails_the_pip_check_with_a_hint(monkeypatch, python_without_pip):
    monkeypatch.setattr(sys, "executable", python_without_pip)
    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("PATH", "")  # no uv to fall back on
    check = by_name(doctor())["pip check"]
    assert not check.ok
    assert "ensurepip" in check.hint


def test_pip_check_agrees_with_pip():
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True)
    assert by_name(doctor())["pip check"].ok == (done.returncode == 0)


def test_report_shows_modules_checks_and_hints():
    records = [ModuleRecord(1, "tt-setup", "tt_setup", True, "0.1.0", "/src/tt-setup",
                            True, "reference"),
               ModuleRecord(2, "tt-tensor", "tt_tensor", False)]
    checks = [Check("python >= 3.10", True, "3.12.1", "install Python"),
              Check("pip check", False, "tt-x 0.1 requires tt-y", "install tt-y")]
    text = format_report(checks, records, system_info())
    assert "01  tt-setup" in text and "reference" in text and "/src/tt-setup" in text
    assert "02  tt-tensor" in text and "not installed" in text
    assert "FAIL  pip check" in text and "hint: install tt-y" in text
    assert "hint: install Python" not in text  # hints only for failed checks
    assert text.splitlines()[-1] == "1 of 2 checks failed"


def test_an_extra_whose_package_is_missing_passes_with_a_warning_and_the_command():
    requires = ["numpy>=1.24", 'numpy>=1.24; extra == "fast"',
                'tt-no-such-package>=0.1 ; extra == "metrics"', "pytest; extra=='metrics'"]
    checks = {check.name: check for check in check_extras("tt-x", requires)}
    assert set(checks) == {"tt-x[fast]", "tt-x[metrics]"}      # the plain requirement is none
    fast, metrics = checks["tt-x[fast]"], checks["tt-x[metrics]"]
    assert fast.ok and not fast.warn and fast.detail == "installed"
    assert metrics.ok and metrics.warn                          # optional: never a failure
    assert "tt-no-such-package" in metrics.detail and "pytest" not in metrics.detail
    assert "pip install 'tt-x[metrics]'" in metrics.hint
    assert check_extras("tt-not-installed-at-all") == []


def test_a_warning_shows_its_hint_and_is_counted_apart_from_failures():
    checks = [Check("python >= 3.10", True, "3.12.1", "install Python"),
              *check_extras("tt-x", ['tt-no-such-package; extra == "metrics"'])]
    text = format_report(checks, [], system_info())
    assert "warn  tt-x[metrics]" in text and "hint: pip install 'tt-x[metrics]'" in text
    assert text.splitlines()[-1] == "all 2 checks passed, 1 with a warning"
    data = report_dict(checks, [], system_info())
    assert data["ok"] and data["checks"][1]["warn"] is True


def test_doctor_prints_nothing(capsys):
    doctor()
    module_report()
    assert capsys.readouterr() == ("", "")


def test_module_rows_say_whether_pip_check_names_them():
    records = [ModuleRecord(2, "tt-tensor", "tt_tensor", True, "0.1.0", "/a", True, "reference"),
               ModuleRecord(3, "tt-activations", "tt_activations", True, "0.1.0+own", "/b",
                            True, "own"),
               ModuleRecord(4, "tt-layers", "tt_layers", False)]
    broken = Check("pip check", False, "tt-activations 0.1.0+own has requirement "
                   "tt-tensor~=0.2.0, but you have tt-tensor 0.1.0.", "fix it")
    rows = {line.split()[1]: line.split() for line in
            format_report([broken], records, system_info()).splitlines()
            if line.strip()[:2].isdigit()}
    assert rows["tt-tensor"][4] == "conflict" and rows["tt-activations"][4] == "conflict"
    assert rows["tt-layers"][-1] == "-"  # not installed: pip check says nothing about it
    clean = Check("pip check", True, "No broken requirements found.")
    text = format_report([clean], records[:1], system_info())
    assert "reference  ok" in text


def test_report_survives_a_system_info_that_failed():
    info = {"error": "tt_setup.system_info() failed: NotImplementedError: tt-setup: implement"}
    text = format_report([Check("BLAS", False, "system_info() failed", "finish it")], [], info)
    assert "system_info() failed: NotImplementedError" in text



def test_report_dict_is_json_and_carries_the_text_report_s_facts():
    records = [ModuleRecord(2, "tt-tensor", "tt_tensor", True, "0.1.0", "/a", True, "reference"),
               ModuleRecord(3, "tt-activations", "tt_activations", True, "0.1.0+own", "/b",
                            True, "own"),
               ModuleRecord(4, "tt-layers", "tt_layers", False)]
    checks = [Check("python >= 3.10", True, "3.12.1", "install Python"),
              Check("pip check", False, "tt-activations 0.1.0+own has requirement "
                    "tt-tensor~=0.2.0, but you have tt-tensor 0.1.0.", "fix it")]
    info = system_info()
    report = json.loads(json.dumps(report_dict(checks, records, info)))
    assert report["ok"] is False
    assert (report["python"], report["numpy"], report["blas"]) == (
        info["python_version"], info["numpy_version"], info["blas"])
    assert report["system"] == json.loads(json.dumps(info))
    modules = {row["distribution"]: row for row in report["modules"]}
    assert modules["tt-activations"] == {
        "number": 3, "distribution": "tt-activations", "import_name": "tt_activations",
        "installed": True, "version": "0.1.0+own", "location": "/b", "editable": True,
        "kind": "own", "pip": "conflict"}
    assert modules["tt-layers"]["installed"] is False and modules["tt-layers"]["pip"] == "-"
    assert report["checks"][1] == {"name": "pip check", "ok": False,
                                   "detail": checks[1].detail, "hint": "fix it", "warn": False}


def test_report_dict_survives_a_system_info_that_failed():
    info = {"error": "tt_setup.system_info() failed: NotImplementedError"}
    report = report_dict([Check("BLAS", False, "failed", "finish it")], [], info)
    assert report["system"] == info and report["python"] is None and report["ok"] is False


def test_without_pip_uv_checks_the_environment(monkeypatch, python_without_pip, tmp_path):
    """A venv made by uv has no pip: `uv pip check --python <this python>` answers instead."""
    seen = tmp_path / "args.txt"
    fake = tmp_path / "uv"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {seen}\necho 'tt-x 0.2.0 requires tt-y'\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", python_without_pip)
    monkeypatch.setenv("UV", str(fake))
    check = by_name(doctor())["pip check"]
    assert seen.read_text().split() == ["pip", "check", "--python", python_without_pip]
    assert not check.ok and "tt-x 0.2.0 requires tt-y" in check.detail

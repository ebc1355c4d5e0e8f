"""The CLI's wiring: module 17's commands go to tt_systems.COMMANDS, doctor survives a
learner's unfinished tt-setup, and a wheel carries the course (sources and contract tests)."""

import importlib.util
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import tt_systems

from tinytorch import cli
from tinytorch.course import course_entry
from tinytorch.new import create_package

PACKAGE = Path(__file__).resolve().parent.parent  # packages/tinytorch


def test_help_lists_every_command():
    done = subprocess.run([sys.executable, "-m", "tinytorch", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0
    for name in ("doctor", "new", "test", *tt_systems.COMMANDS):
        assert name in done.stdout
    assert cli.SYSTEMS_COMMANDS == {name: help_text
                                    for name, (_, help_text) in tt_systems.COMMANDS.items()}
    for help_text in cli.SYSTEMS_COMMANDS.values():  # one source: the course table
        assert help_text.split(":")[0] in " ".join(done.stdout.split())


@pytest.mark.parametrize("name", sorted(tt_systems.COMMANDS))
def test_systems_commands_are_dispatched_with_their_arguments(monkeypatch, name):
    calls = []
    fake = {key: ((lambda argv, key=key: calls.append((key, argv)) or 7), help_text)
            for key, (_, help_text) in tt_systems.COMMANDS.items()}
    monkeypatch.setattr(tt_systems, "COMMANDS", fake)
    assert cli.main([name, "--steps", "3", "out"]) == 7
    assert calls == [(name, ["--steps", "3", "out"])]


def test_a_real_systems_command_runs_through_tinytorch():
    done = subprocess.run([sys.executable, "-m", "tinytorch", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    direct = subprocess.run([sys.executable, "-m", "tt_systems", "bench", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert done.returncode == direct.returncode == 0, done.stderr
    # the same parser; each names the command as it was typed
    assert done.stdout.startswith("usage: tinytorch bench ")
    assert direct.stdout.startswith("usage: python -m tt_systems bench ")
    usage, _, rest = done.stdout.partition("\n\n")
    direct_usage, _, direct_rest = direct.stdout.partition("\n\n")
    assert rest == direct_rest                        # the description and every option
    assert usage.split()[3:] == direct_usage.split()[5:]  # usage, wrapped at another width


def test_systems_command_without_tt_systems_names_the_extra(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tt_systems" else real(name, *a))
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "tinytorch[language]" in capsys.readouterr().err


def test_doctor_survives_an_unfinished_own_tt_setup(tmp_path):
    create_package(course_entry("setup"), tmp_path / "setup")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "setup" / "src"))
    done = subprocess.run([sys.executable, "-m", "tinytorch", "doctor"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "system_info() failed: NotImplementedError: tt-setup: implement system_info()" \
        in done.stdout


def tinytorch_wheel(tmp_path) -> tuple[list[str], Path, dict]:
    """(the files of a tinytorch wheel, the folder they are in, the env that imports them).

    In a checkout (these tests beside hatch_build.py) the wheel is built and unpacked here;
    from a wheel install (`tinytorch test tinytorch`) it is the installed one, from its RECORD.
    """
    env = {k: v for k, v in os.environ.items() if k != "TINYTORCH_COURSE"}
    if (PACKAGE / "hatch_build.py").is_file():
        # hatchling is in every dev, tox and nox environment (no build isolation: no index)
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                               "--no-build-isolation", "--wheel-dir", str(tmp_path),
                               str(PACKAGE)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        (wheel,) = tmp_path.glob("tinytorch-*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        zipfile.ZipFile(wheel).extractall(tmp_path / "site")
        return names, tmp_path / "site", dict(env, PYTHONPATH=str(tmp_path / "site"))
    dist = metadata.distribution("tinytorch")
    return [f.as_posix() for f in dist.files], Path(dist.locate_file("")), env


def test_wheel_ships_every_module_and_finds_it(tmp_path):
    """The tinytorch wheel (hatch_build.py) carries every module's sources and contract tests,
    and a tinytorch imported from it finds them there."""
    names, site, env = tinytorch_wheel(tmp_path)
    for module in ("tt-activations", "tt-autograd", "tt-systems"):
        entry = course_entry(module)
        shipped = [*entry.source_dir.glob("*.py"), *entry.tests_dir.glob("test_*.py")]
        assert len(shipped) > len(list(entry.source_dir.glob("*.py"))) > 0, entry.root
        for path in shipped:
            inside = path.relative_to(entry.root.parent).as_posix()
            assert f"tinytorch/_course/{inside}" in names
    code = "import tinytorch.course as c; print(c.course_root())"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=120)
    assert found.stdout.strip() == str((site / "tinytorch" / "_course").resolve()), found.stderr

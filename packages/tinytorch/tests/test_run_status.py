"""`tinytorch run` finds and starts the capstones; `tinytorch status` reports a mixed stack of
own and reference modules; `tinytorch test` records its result for it."""

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tinytorch.course import course_entry
from tinytorch.new import create_package
from tinytorch.run import CAPSTONES, capstones_root
from tinytorch.state import RESULTS_FILE, record_result, read_results


def tinytorch(*args, python=sys.executable, **kw):
    return subprocess.run([python, "-m", "tinytorch", *args], capture_output=True, text=True,
                          timeout=600, **kw)


def test_run_lists_the_capstones_and_refuses_an_unknown_one():
    listing = tinytorch("run", "--help")
    assert listing.returncode == 0
    for name, capstone in CAPSTONES.items():
        assert name in listing.stdout and f"[{capstone.extra}]" in listing.stdout
    assert tinytorch("run").returncode == 2
    unknown = tinytorch("run", "mnist")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "no capstone 'mnist'" in unknown.stderr


def test_every_capstone_program_is_found():
    for capstone in CAPSTONES.values():
        assert (capstones_root() / capstone.folder / capstone.script).is_file()


@pytest.mark.parametrize("name", sorted(CAPSTONES))
def test_capstone_help_names_the_command_and_shows_defaults(name):
    shown = tinytorch("run", name, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: tinytorch run {name} ")
    for option in ("--out", "--seed", "--threads"):
        assert option in shown.stdout
    assert "(default: " in shown.stdout
    assert "--data-dir" not in shown.stdout  # old spellings are accepted, not advertised


@pytest.mark.parametrize("name", sorted(CAPSTONES))
def test_capstones_start_when_the_script_folder_is_not_on_sys_path(name):
    """PYTHONSAFEPATH=1 (Python >= 3.11) leaves a script's own folder off sys.path: TinyGPT's
    train.py must still find data.py beside it."""
    shown = tinytorch("run", name, "--help", env=dict(os.environ, PYTHONSAFEPATH="1"))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: tinytorch run {name} ")


def test_state_file_keeps_one_result_per_module_and_survives_damage(state_dir):
    record_result("tt-tensor", {"ok": True, "passed": 3, "failed": 0})
    record_result("tt-layers", {"ok": False, "passed": 1, "failed": 2})
    results = read_results()
    assert results["tt-tensor"]["passed"] == 3 and results["tt-layers"]["failed"] == 2
    (state_dir / RESULTS_FILE).write_text("{not json", encoding="utf-8")
    assert read_results() == {}
    record_result("tt-tensor", {"ok": True, "passed": 4, "failed": 0})
    assert list(read_results()) == ["tt-tensor"]
    assert [p.name for p in state_dir.iterdir()] == [RESULTS_FILE]  # no temporary left


def venv_with_own_activations(tmp_path):
    """A fresh venv seeing this environment's packages, with a `tinytorch new` scaffold of
    activations installed as the learner's own (what an editable pip install writes: a path
    file and a dist-info whose version carries +own). Returns (python, number of stubs)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")],
                   check=True, timeout=120)
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = str(tmp_path / "venv" / bindir / ("python.exe" if os.name == "nt" else "python"))
    site = Path(subprocess.run([python, "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    tasks = create_package(course_entry("activations"), tmp_path / "mine")
    version = metadata.version("tt-activations")
    info = site / f"tt_activations-{version}+own.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tt-activations\n"
                                   f"Version: {version}+own\n", encoding="utf-8")
    (site / "00-own.pth").write_text(str(tmp_path / "mine" / "src") + "\n", encoding="utf-8")
    here = Path(metadata.distribution("tt-setup").locate_file(""))  # this env's site-packages
    (site / "zz-this-env.pth").write_text(f"import site; site.addsitedir({str(here)!r})\n",
                                          encoding="utf-8")
    return python, len(tasks)


def test_status_on_a_mixed_own_and_reference_stack(tmp_path, state_dir):
    python, tasks = venv_with_own_activations(tmp_path)
    tested = tinytorch("test", "activations", python=python)
    assert tested.returncode == 1  # the stubs fail their tests
    shown = tinytorch("status", "--json", python=python)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    rows = {row["distribution"]: row for row in data["modules"]}
    own = rows["tt-activations"]
    assert own["kind"] == "own" and own["stubs_left"] == tasks > 0
    assert own["last_test"]["ok"] is False and own["last_test"]["failed"] > 0
    assert own["last_test"]["version"] == own["version"] and own["version"].endswith("+own")
    for name in ("tt-tensor", "tt-layers", "tt-networks"):
        assert rows[name]["kind"] == "reference" and rows[name]["stubs_left"] == 0
        assert rows[name]["last_test"] is None
    # The venv's result is its own: this environment (same state folder) does not see it.
    assert "tt-activations" not in read_results()
    assert len(list(state_dir.glob("test-results-*.json"))) == 1
    capstones = {row["name"]: row for row in data["capstones"]}
    assert capstones["xornet"]["can_run"] is True
    assert capstones["xornet"]["modules_with_stubs"] == ["tt-activations"]
    text = tinytorch("status", python=python).stdout
    assert "will stop at the stubs of tt-activations" in text
    own_line = next(line for line in text.splitlines() if " tt-activations " in line)
    assert " own " in own_line and f" {tasks} " in own_line and "FAILED" in own_line


def test_threads_are_set_before_numpy_loads_and_bad_values_left_to_argparse(monkeypatch):
    from tinytorch.capstone import THREAD_VARIABLES, apply_threads

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    apply_threads(["--threads", "0", "--quick"])
    assert not any(name in os.environ for name in THREAD_VARIABLES)
    apply_threads(["--quick", "--threads=3"])
    assert all(os.environ[name] == "3" for name in THREAD_VARIABLES)


def test_blas_spin_gets_a_default_and_a_learners_own_value_is_kept(monkeypatch):
    from tinytorch.capstone import BLAS_SPIN_DEFAULT, BLAS_SPIN_VARIABLE, apply_threads

    monkeypatch.delenv(BLAS_SPIN_VARIABLE, raising=False)
    apply_threads(["--quick"])
    assert os.environ[BLAS_SPIN_VARIABLE] == BLAS_SPIN_DEFAULT
    monkeypatch.setenv(BLAS_SPIN_VARIABLE, "28")
    apply_threads(["--threads", "2"])
    assert os.environ[BLAS_SPIN_VARIABLE] == "28"


def test_resume_command_names_how_the_program_was_started(monkeypatch):
    from tinytorch.capstone import RUN_AS_ENV, resume_command

    monkeypatch.setenv(RUN_AS_ENV, "tinytorch run cifar10")
    assert resume_command("x/train.py", ["--data", "d d", "--force"]) == \
        "tinytorch run cifar10 --data 'd d' --resume"
    monkeypatch.delenv(RUN_AS_ENV)
    words = resume_command(str(Path("caps") / "train.py"), ["--resume"]).split()
    assert words[1:] == [os.path.join("caps", "train.py"), "--resume"]

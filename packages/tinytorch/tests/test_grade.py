"""`tinytorch grade` over a class of six submissions made here, graded two at a time.

alice: her own tt-activations, correct.         bob: own tt-activations whose sigmoid is wrong.
carol: own tt-optimizers whose Adam never steps (the CNN stays untrained: below the CIFAR bar).
dave: own tt-activations that hangs on import.  eve: a folder that is not a package.
frank: alice's package as a .tar.gz that also prints without end on import.

The venvs take the reference layer from wheels built once from this checkout, or, when tinytorch
is installed from wheels (`tinytorch test tinytorch`), from a copy of the installed reference
distributions: the grader's own two ways, without --wheels.
"""

import csv
import dataclasses
import importlib.util
import json
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

import pytest
import tt_activations
from tinytorch.cli import main
from tinytorch.course import course_entry

TIMEOUT = 90  # seconds per submission: dave's hang must cost no more than this
BUGS = {
    "bob": ("activations", "\n\ndef sigmoid(x):  # the bug under test: the identity\n"
                           "    return x\n"),
    "carol": ("optimizers", "\n\nclass Adam(Adam):  # the bug under test: never updates\n"
                            "    def step(self):\n        return None\n"),
    "dave": ("activations", "\nimport time\nwhile True:  # the bug under test: hangs\n"
                            "    time.sleep(0.2)\n"),
    "frank": ("activations", "\nimport sys\nwhile True:  # the bug under test: endless output\n"
                             "    sys.stdout.write('spam ' * 200 + '\\n')\n"),
}


def own_copy(module: str, dest: Path, bug: str = "") -> Path:
    """A learner's package: the reference sources, version 0.1.0+own, plus `bug` appended."""
    entry = course_entry(module)
    shutil.copytree(entry.root, dest, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    package = dest / "src" / entry.import_name
    (package / "_version.py").write_text(f'__version__ = "{entry.version}+own"\n')
    with open(package / "__init__.py", "a", encoding="utf-8") as handle:
        handle.write(bug)
    return dest


@pytest.fixture(scope="module")
def graded(tmp_path_factory, tiny_data):
    """Run the grader once over the class; (submissions folder, output folder, exit code)."""
    from tinytorch.grade_setup import NEEDS_HATCHLING

    assert importlib.util.find_spec("hatchling") is not None, NEEDS_HATCHLING  # not a skip
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    own_copy("activations", subs / "alice" / "my-activations")
    for student in ("bob", "carol", "dave"):
        module, bug = BUGS[student]
        own_copy(module, subs / student / f"my-{module}", bug)
    (subs / "eve").mkdir()
    (subs / "eve" / "notes.txt").write_text("I ran out of time.\n")
    frank = own_copy("activations", root / "frank-src" / "my-activations", BUGS["frank"][1])
    with tarfile.open(subs / "frank.tar.gz", "w:gz") as archive:
        archive.add(frank, arcname="my-activations")
    out = root / "grades"
    code = main(["grade", str(subs), "--out", str(out), "--jobs", "2", "--timeout",
                 str(TIMEOUT), "--memory", "3072", "--quick", "--data", str(tiny_data)])
    return subs, out, code


def gradebook(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_every_student_has_a_row_and_a_report(graded):
    _, out, code = graded
    assert code == 0
    assert set(gradebook(out)) == {"alice", "bob", "carol", "dave", "eve", "frank"}
    for name in gradebook(out):
        assert (out / "results" / f"{name}.json").is_file()
        assert (out / "results" / f"{name}.txt").read_text().startswith(name)


def test_correct_submission_passes_everything(graded):
    row = gradebook(graded[1])["alice"]
    assert (row["status"], row["score"]) == ("graded", "1.00")
    assert [row[f"milestone_{n}"] for n in (1, 2, 3)] == ["passed"] * 3
    assert int(row["contract_passed"]) > 0 and row["contract_failed"] == "0"
    result = json.loads((graded[1] / "results" / "alice.json").read_text())
    own = [m for m in result["modules"] if m["distribution"] == "tt-activations"][0]
    assert (own["kind"], own["version"]) == ("own", f"{tt_activations.__version__}+own")


def test_failing_contract_test_is_counted(graded):
    row = gradebook(graded[1])["bob"]
    assert row["status"] == "graded" and int(row["contract_failed"]) > 0
    assert row["milestone_1"] == "passed"  # XORNet uses tanh, not the broken sigmoid


def test_untrained_cnn_is_below_the_cifar_bar(graded):
    row = gradebook(graded[1])["carol"]
    assert row["milestone_2"] == "failed"
    assert float(row["cifar_test_accuracy"]) <= 0.5
    assert row["milestone_1"] == "passed"  # XORNet's SGD is written out, not Adam
    assert float(row["score"]) <= 1.0 - 0.35


def test_hang_is_stopped_by_the_time_limit(graded):
    row = gradebook(graded[1])["dave"]
    assert "time limit" in row["notes"] and row["score"] == "0.00"
    assert float(row["seconds"]) < TIMEOUT + 60


def test_not_a_package_is_reported(graded):
    row = gradebook(graded[1])["eve"]
    assert (row["status"], row["score"]) == ("not a package", "0.00")


def test_endless_output_is_capped(graded):
    _, out, _ = graded
    row = gradebook(out)["frank"]
    assert "output limit" in row["notes"] and row["score"] == "0.00"
    from tinytorch.grade import OUTPUT_CAP
    for log in (out / "work" / "frank").glob("*.log"):
        assert log.stat().st_size <= OUTPUT_CAP


def test_students_were_graded_in_parallel(graded):
    """Two jobs: the whole class took less than the sum of the students' times."""
    _, out, _ = graded
    results = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    stamps = sorted((r["started"], r["ended"]) for r in results)
    overlaps = sum(1 for (s1, e1), (s2, _) in zip(stamps, stamps[1:]) if s2 < e1)
    assert overlaps >= 1


def test_rerun_skips_graded_and_merge_joins_shards(graded, tmp_path, capsys):
    subs, out, _ = graded
    before = (out / "results" / "alice.json").read_bytes()
    assert main(["grade", str(subs), "--out", str(out), "--jobs", "2", "--quick"]) == 0
    assert "6 already graded" in capsys.readouterr().out
    assert (out / "results" / "alice.json").read_bytes() == before
    shard = tmp_path / "shard2"
    (shard / "results").mkdir(parents=True)
    shutil.copy(out / "results" / "eve.json", shard / "results" / "eve.json")
    assert main(["grade", "--merge", str(out), str(shard), "--out", str(tmp_path)]) == 0
    assert set(gradebook(tmp_path)) == set(gradebook(out))


def test_shard_takes_every_nth_submission(tmp_path):
    from tinytorch.grade_setup import shard

    items = [tmp_path / name for name in "abcde"]
    assert shard(items, "1/2") == items[0::2] and shard(items, "2/2") == items[1::2]
    assert sorted(shard(items, "1/2") + shard(items, "2/2")) == items
    with pytest.raises(Exception, match="i/n"):
        shard(items, "3/2")


def test_an_installed_distribution_is_copied_as_its_wheel_would_install(tmp_path):
    """The reference layer of a wheel install: each distribution's RECORD, copied (tqdm here,
    installed from a wheel in every environment that runs these tests)."""
    from tinytorch.grade_setup import copy_installed

    site = tmp_path / "site"
    copy_installed(["tqdm"], site)
    assert not [p for p in site.rglob("*") if "__pycache__" in p.parts]  # pip's, not the wheel's
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import tqdm; "
            "from importlib import metadata; print(tqdm.__file__); print(metadata.version('tqdm'))")
    done = subprocess.run([sys.executable, "-S", "-c", code, str(site)], capture_output=True,
                          text=True, timeout=120)  # -S: no site-packages, only the copy
    assert done.returncode == 0, done.stderr
    where, version = done.stdout.split()
    assert Path(where).is_relative_to(site) and version == metadata.version("tqdm")


def test_a_missing_or_own_module_cannot_be_the_reference_layer(tmp_path, monkeypatch):
    from tinytorch import grade_setup

    with pytest.raises(grade_setup.GradeError, match="tt-nosuch, which is not installed"):
        grade_setup.copy_installed(["tt-nosuch"], tmp_path / "site")
    own = [r for r in grade_setup.module_report() if r.distribution == "tt-activations"]
    monkeypatch.setattr(grade_setup, "module_report",
                        lambda: [dataclasses.replace(r, kind="own") for r in own])
    with pytest.raises(grade_setup.GradeError, match=r"reference tt-activations.*(own|editable)"):
        grade_setup.copy_installed(["tt-activations"], tmp_path / "site")


def test_without_hatchling_grading_stops_before_any_work(tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "hatchling" else real(name, *a))
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")]) == 2
    assert "pip install 'tinytorch[grade]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

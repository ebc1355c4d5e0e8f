"""The CIFAR-10 capstone end to end, in seconds, on tiny files in the official format."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "train.py"


def load_fake_cifar_writer():
    """tools/fake_cifar.py's write_fake_cifar (one writer for these tests and the smoke run)."""
    path = Path(__file__).resolve().parents[3] / "tools" / "fake_cifar.py"
    spec = importlib.util.spec_from_file_location("fake_cifar", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_fake_cifar


write_fake_cifar = load_fake_cifar_writer()


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300)


def test_quick_run_writes_results_and_checkpoints(tmp_path):
    data = write_fake_cifar(tmp_path / "data")
    out = tmp_path / "out"
    done = run("--data-dir", str(data), "--quick", "--epochs", "2", "--out", str(out),
               "--no-progress")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["capstone"] == "cifar10-cnn"
    assert results["epochs_run"] == 2 and len(results["history"]) == 2
    assert 0.0 <= results["test_accuracy"] <= 1.0
    assert results["history"][-1]["train_loss"] < results["history"][0]["train_loss"]
    assert (out / "last.npz").is_file() and (out / "best.npz").is_file()
    assert "test accuracy" in done.stdout


def test_interrupted_then_resumed_run_equals_the_uninterrupted_run(tmp_path):
    data = write_fake_cifar(tmp_path / "data")
    common = ("--data-dir", str(data), "--quick", "--epochs", "2", "--no-progress")
    assert run(*common, "--out", str(tmp_path / "full")).returncode == 0
    assert run(*common, "--out", str(tmp_path / "cut"), "--stop-after", "1").returncode == 0
    done = run(*common, "--out", str(tmp_path / "cut"), "--resume")
    assert done.returncode == 0, done.stderr
    full = json.loads((tmp_path / "full" / "results.json").read_text())
    cut = json.loads((tmp_path / "cut" / "results.json").read_text())
    assert [h["epoch"] for h in cut["history"]] == [1, 2]
    for key in ("train_loss", "val_loss", "val_accuracy", "lr"):
        assert [h[key] for h in cut["history"]] == [h[key] for h in full["history"]], key
    with np.load(tmp_path / "full" / "last.npz") as a, np.load(tmp_path / "cut" / "last.npz") as b:
        weights = [k for k in a.files if k != "__meta__"]
        assert weights and all(np.array_equal(a[k], b[k]) for k in weights)


def test_missing_data_names_the_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run("--data-dir", str(tmp_path / "empty"), "--quick", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cifar-10-batches-py" in done.stderr


def load_program():
    spec = importlib.util.spec_from_file_location("cifar10_train", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ctrl_c_says_where_the_checkpoint_is_and_resume_finishes_the_run(tmp_path, capsys,
                                                                        monkeypatch):
    data = write_fake_cifar(tmp_path / "data")
    out = tmp_path / "out"
    args = ["--data-dir", str(data), "--quick", "--epochs", "2", "--out", str(out),
            "--no-progress"]
    program = load_program()
    real = program.make_loaders

    def interrupted_in_epoch_2(data_dir, cfg):   # Ctrl-C at the first batch of epoch 2
        train, test = real(data_dir, cfg)
        batches = iter(range(10 ** 6))

        class Loader(type(train)):
            def __iter__(self):
                for batch in super().__iter__():
                    if next(batches) == len(self):
                        raise KeyboardInterrupt
                    yield batch
        train.__class__ = Loader
        return train, test

    monkeypatch.setattr(program, "make_loaders", interrupted_in_epoch_2)
    with pytest.raises(SystemExit) as stop:
        program.main(args)
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"the last checkpoint is {out / 'last.npz'} (end of epoch 1)" in err
    assert err.strip().endswith("--resume")
    monkeypatch.setattr(program, "make_loaders", real)
    assert program.main(args + ["--resume"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert [h["epoch"] for h in results["history"]] == [1, 2]

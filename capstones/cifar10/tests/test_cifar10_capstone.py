"""The CIFAR-10 capstone end to end, in seconds, on tiny files in the official format."""

import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "train.py"


def write_fake_cifar(root, per_batch=40, seed=0):
    """cifar-10-batches-py/ with five train batches, a test batch and batches.meta.

    Each class gets a different mean colour, so a CNN can learn it in a few steps.
    """
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        labels = rng.integers(0, 10, per_batch)
        colours = (labels[:, None] * 25).repeat(3072, axis=1)
        data = np.clip(colours + rng.integers(0, 30, (per_batch, 3072)), 0, 255).astype(np.uint8)
        batch = {b"batch_label": name.encode(), b"labels": labels.tolist(), b"data": data,
                 b"filenames": [f"{i}.png".encode() for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)],
            b"num_cases_per_batch": per_batch}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


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

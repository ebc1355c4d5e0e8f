"""The CIFAR-10 capstone end to end, in seconds, on tiny files in the official format."""

import importlib.util
import json
import re
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


def test_resnet9_preset_quick_run_trains_with_its_recipe(tmp_path):
    data = write_fake_cifar(tmp_path / "data")
    out = tmp_path / "out"
    done = run("--data", str(data), "--preset", "resnet9", "--quick", "--epochs", "2",
               "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    cfg = results["capstone_config"]
    assert (cfg["model"], cfg["optimizer"], cfg["padding_mode"]) == ("resnet9", "sgd", "reflect")
    assert (cfg["label_smoothing"], cfg["weight_decay"], cfg["flip_tta"]) == (0.2, 5e-4, True)
    assert cfg["epochs"] == 2 and cfg["batch_size"] == 32 and cfg["limit"] == 256
    assert results["history"][-1]["train_loss"] < results["history"][0]["train_loss"]
    assert 0.0 <= results["test_accuracy"] <= 1.0
    assert results["peak_rss_bytes"] > 0
    assert "with flip TTA" in done.stdout


def test_resnet9_shapes_and_residual_shortcut():
    program = load_program()
    from tt_tensor import from_numpy

    model = program.build_resnet9()
    x = from_numpy(np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32))
    assert model(x).shape == (2, 10)
    # a residual block adds its input to its body's output
    block = next(m for m in model.modules() if type(m).__name__ == "Residual")
    h = from_numpy(np.random.default_rng(1).random((2, 32, 16, 16), dtype=np.float32))
    np.testing.assert_allclose(block(h).data, h.data + block.body(h).data, rtol=1e-6)
    # quarter width: Page's ResNet-9 at widths 16/32/64/128 (conv weights, BN, linear)
    convs = [(16, 3), (32, 16), (32, 32), (32, 32), (64, 32), (128, 64), (128, 128), (128, 128)]
    expected = sum(o * i * 9 + 2 * o for o, i in convs) + 128 * 10
    assert sum(p.data.size for p in model.parameters()) == expected


def test_flip_tta_predicts_from_the_summed_logits_of_image_and_mirror():
    program = load_program()
    from tt_tensor import from_numpy

    model = program.build_resnet9()
    rng = np.random.default_rng(2)
    images = rng.random((6, 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, 6)
    loader = [(from_numpy(images), from_numpy(labels))]
    predicted, true = program.predictions(model, loader, flip_tta=True)
    model.eval()
    logits = model(from_numpy(images)).data + model(from_numpy(images[..., ::-1].copy())).data
    np.testing.assert_array_equal(predicted, logits.argmax(axis=1))
    np.testing.assert_array_equal(true, labels)
    plain, _ = program.predictions(model, loader)
    np.testing.assert_array_equal(plain, model(from_numpy(images)).data.argmax(axis=1))


def bar_frames(err):
    """The frames tqdm drew on stderr (split at carriage returns and newlines, ANSI codes out)."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", err)
    return [frame.strip() for frame in re.split(r"[\r\n]", text) if frame.strip()]


def test_quick_run_shows_one_bar_for_the_run_and_one_line_per_epoch(tmp_path):
    """With progress on: stdout holds one summary line per epoch, in order, then the result;
    every frame on stderr is the one bar of the run (`epoch k/2`, steps out of the run's total,
    which gives the overall ETA, n within epoch k), ending at the total with the rate of the
    last step, the rate the last summary line gives."""
    data = write_fake_cifar(tmp_path / "data")
    out = tmp_path / "out"
    done = run("--data", str(data), "--quick", "--epochs", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    total, per_epoch = results["steps_run"], results["steps_run"] // 2
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"]
    assert all(line.startswith("epoch ") for line in lines[:2]) and len(lines) == 3
    assert lines[2].startswith("test accuracy")
    frames = bar_frames(done.stderr)
    assert frames and all(re.match(r"epoch [12]/2: +\d+%\|", f) for f in frames), frames
    for frame in frames:
        epoch = int(frame[6])
        steps = re.search(rf"\| (\d+)/{total} \[\d\d:\d\d<", frame)
        assert steps, frame
        assert per_epoch * (epoch - 1) <= int(steps[1]) <= per_epoch * epoch, frame
    assert frames[-1].startswith("epoch 2/2: 100%") and f"{total}/{total}" in frames[-1]
    last_lr = re.search(r"lr=(\S+?)\]", frames[-1])[1]
    assert re.search(rf"lr {re.escape(last_lr)}( at the last step|,)", lines[1]), lines[1]

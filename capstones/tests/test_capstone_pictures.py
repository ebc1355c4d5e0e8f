"""Each capstone, started by `tinytorch run`, draws its pictures when matplotlib is installed
and says what to install when it is not, keeping the data in its results file either way.

matplotlib's absence is simulated without touching any library: the child process gets a
PYTHONPATH entry holding a `matplotlib` package whose import raises ModuleNotFoundError, as an
uninstalled one would.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
HINT = "pip install 'tinytorch[plots]'"


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_matplotlib(tmp_path):
    """An environment in which `import matplotlib` fails as if it were not installed."""
    shadow = tmp_path / "no-matplotlib" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n")
    paths = [str(shadow.parent), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def run(*args, env=None):
    done = subprocess.run([sys.executable, "-m", "tinytorch", "run", *args], capture_output=True,
                          text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def assert_pictures(out, names):
    for name in names:
        assert (out / name).read_bytes()[:8] == PNG, name
    assert not [p.name for p in out.iterdir() if p.suffix == ".tmp"]


def test_xornet_draws_curves_and_the_decision_boundary(tmp_path):
    out = tmp_path / "run"
    run("xornet", "--steps", "300", "--out", str(out))
    assert_pictures(out, ["curves.png", "decision_boundary.png"])
    results = json.loads((out / "xornet.json").read_text())
    assert results["history"][-1]["step"] == 300
    grid = results["decision_grid"]
    axis, probs = np.array(grid["axis"]), np.array(grid["p_class_1"])  # rows: x2, columns: x1
    for a in (0, 1):
        for b in (0, 1):
            p = probs[np.argmin(abs(axis - b)), np.argmin(abs(axis - a))]
            assert (p > 0.5) == bool(a ^ b), (a, b, p)


def test_xornet_without_matplotlib_says_what_to_install(tmp_path, no_matplotlib):
    out = tmp_path / "run"
    done = run("xornet", "--steps", "300", "--out", str(out), env=no_matplotlib)
    assert HINT in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["xornet.json"]
    assert "decision_grid" in json.loads((out / "xornet.json").read_text())


@pytest.fixture(scope="module")
def cifar_data(tmp_path_factory):
    return load_tool("fake_cifar").write_fake_cifar(tmp_path_factory.mktemp("cifar"))


def check_cifar_results(out):
    results = json.loads((out / "results.json").read_text())
    counts = np.array(results["confusion_matrix"])
    assert counts.shape == (10, 10) and counts.sum() == 40  # the 40 fake test images
    assert np.trace(counts) / counts.sum() == pytest.approx(results["test_accuracy"])
    assert len(results["sample_predictions"]) == 16
    return results


def test_cifar10_quick_draws_curves_confusion_matrix_and_predictions(tmp_path, cifar_data):
    out = tmp_path / "run"
    run("cifar10", "--quick", "--data", str(cifar_data), "--out", str(out), "--no-progress")
    assert_pictures(out, ["curves.png", "confusion_matrix.png", "predictions.png"])
    check_cifar_results(out)


def test_cifar10_without_matplotlib_says_what_to_install(tmp_path, cifar_data, no_matplotlib):
    out = tmp_path / "run"
    done = run("cifar10", "--quick", "--data", str(cifar_data), "--out", str(out),
               "--no-progress", env=no_matplotlib)
    assert HINT in done.stdout
    assert not list(out.glob("*.png"))
    assert HINT in check_cifar_results(out)["plot"]


def test_a_refused_run_folder_names_the_tinytorch_run_command(tmp_path, cifar_data):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text("")
    done = subprocess.run([sys.executable, "-m", "tinytorch", "run", "cifar10", "--data",
                           str(cifar_data), "--out", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert f"tinytorch run cifar10 --data {cifar_data} --out {out} --resume" in done.stderr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text("the cat sat on the mat. the dog sat on the log.\n" * 200)
    return path


def tinygpt(corpus, out, env=None):
    return run("tinygpt", "--quick", "--iters", "20", "--eval-interval", "10", "--data",
               str(corpus), "--out", str(out), "--no-progress", env=env)


def test_tinygpt_draws_curves_and_attention(tmp_path, corpus):
    out = tmp_path / "run"
    tinygpt(corpus, out)
    assert_pictures(out, ["curves.png", "attention.png"])
    attention = json.loads((out / "results.json").read_text())["attention"]
    weights = np.array(attention["weights"])  # (layers, heads, T, T) of the quick preset
    T = len(attention["text"])
    assert weights.shape == (2, 2, T, T) and T > 1
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-3)  # each row is a softmax
    assert np.all(np.triu(weights, k=1) == 0)  # causal: no position reads a later one


def test_tinygpt_without_matplotlib_says_what_to_install(tmp_path, corpus, no_matplotlib):
    out = tmp_path / "run"
    done = tinygpt(corpus, out, env=no_matplotlib)
    assert HINT in done.stdout
    assert not list(out.glob("*.png"))
    assert "attention" in json.loads((out / "results.json").read_text())

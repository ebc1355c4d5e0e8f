"""Runs the XORNet program as a learner would and checks its results file."""

import importlib
import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

PROGRAM = Path(__file__).resolve().parents[1] / "xornet.py"
STEPS = 200  # seed 0 separates XOR after ~120 steps at lr 1.0; 200 leaves a margin


def run(tmp_path, *args):
    out = tmp_path / "results"
    result = subprocess.run([sys.executable, str(PROGRAM), "--out", str(out), *args],
                            capture_output=True, text=True, timeout=120)
    payload_path = out / "xornet.json"
    payload = json.loads(payload_path.read_text()) if payload_path.exists() else None
    return result, payload, out


def autograd_available():
    spec = importlib.util.find_spec("tt_autograd")
    return spec is not None and hasattr(importlib.import_module("tt_autograd"), "backward")


def test_numerical_gradients_reach_full_accuracy(tmp_path):
    result, payload, out = run(tmp_path, "--method", "numerical", "--steps", str(STEPS),
                               "--seed", "0", "--hidden", "4", "--lr", "1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gradient method: numerical" in result.stdout
    assert payload["accuracy"] == 1.0
    assert payload["gradient_method"] == "numerical"
    assert payload["steps"] == STEPS
    assert 0.0 < payload["final_loss"] < np.log(2.0)  # better than guessing 0.5 everywhere
    assert payload["wall_seconds"] > 0.0
    assert payload["forward_passes_per_step"] == 1 + 2 * (4 * 2 + 4 + 4 + 1)
    assert payload["config"] == {"hidden": 4, "steps": STEPS, "lr": 1.0, "seed": 0,
                                 "method": "numerical", "out": str(out), "threads": None}
    assert payload["python"] == platform.python_version()
    assert payload["numpy"] == np.__version__
    written = {p.name for p in out.iterdir()}  # no temporary file left behind
    assert "xornet.json" in written
    assert written <= {"xornet.json", "curves.png", "decision_boundary.png"}


def test_exit_code_follows_accuracy(tmp_path):
    # without training the random init decides; the exit code must agree with the JSON
    result, payload, _ = run(tmp_path, "--method", "numerical", "--steps", "0")
    assert payload["steps"] == 0
    assert result.returncode == (0 if payload["accuracy"] == 1.0 else 1)
    assert payload["accuracy"] in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_auto_picks_backprop_only_when_autograd_has_backward(tmp_path):
    expected = "backprop" if autograd_available() else "numerical"
    result, payload, _ = run(tmp_path, "--steps", str(STEPS))
    assert payload["gradient_method"] == expected
    assert f"gradient method: {expected}" in result.stdout
    assert result.returncode == 0 and payload["accuracy"] == 1.0


def test_backprop_request_without_autograd_fails_clearly(tmp_path):
    result, payload, _ = run(tmp_path, "--method", "backprop", "--steps", str(STEPS))
    if autograd_available():
        assert result.returncode == 0 and payload["gradient_method"] == "backprop"
    else:
        assert result.returncode != 0 and payload is None
        assert "tt-autograd" in result.stderr


def test_bad_arguments_are_rejected(tmp_path):
    result, payload, _ = run(tmp_path, "--hidden", "0")
    assert result.returncode == 2 and payload is None
    assert "--hidden" in result.stderr

"""Every `tinytorch profile | bench | serve | export` with bad arguments, run as a user would
(`python -m tt_systems`, the same mains): exit status 2, one line on stderr, no traceback."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from tt_systems import export
from tt_training import save_checkpoint
from tt_transformers import GPT, GPTConfig

CONFIG = GPTConfig(block_size=8, vocab_size=5, n_layer=1, n_head=1, n_embd=8)


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """Named paths the table refers to: folders and files good and bad."""
    root = tmp_path_factory.mktemp("fuzz")
    np.random.seed(0)
    model = GPT(CONFIG)
    run = root / "run"
    run.mkdir()
    save_checkpoint(run / "ckpt.npz", {"model": model.state_dict()})
    (run / "config.json").write_text(json.dumps({"model": vars(CONFIG)}))
    (run / "vocab.json").write_text(json.dumps({"chars": "abcde"}))
    export(model, CONFIG, "abcde", root / "export")
    (root / "empty").mkdir()
    (root / "notes").mkdir()
    (root / "notes" / "a.txt").write_text("x")
    (root / "file.txt").write_text("not a folder")
    bad_run = root / "bad_run"
    bad_run.mkdir()
    for name in ("config.json", "vocab.json"):
        (bad_run / name).write_bytes((run / name).read_bytes())
    (bad_run / "ckpt.npz").write_bytes(b"PK\x03\x04 cut short")
    return {name: str(root / name) for name in
            ("run", "export", "empty", "notes", "bad_run", "missing")} | \
        {"in_missing": str(root / "missing" / "x.json"), "file": str(root / "file.txt")}


BAD = {
    "profile": [
        ["--batch-size", "0"], ["--batch-size", "-3"], ["--batch-size", "ten"],
        ["--batch-size", "1000000000"], ["--steps", "0"], ["--top", "-5"], ["--top", "0"],
        ["--model", "resnet"], ["--sort-by", "speed"], ["--json", "{empty}"],
        ["--json", "{in_missing}"], ["--no-such-option"],
    ],
    "bench": [
        ["quantize", "--repeats", "0"], ["--repeats", "-1"], ["--repeats", "many"],
        ["everything"], ["quantize", "--gpt", "{missing}"], ["quantize", "--gpt", "{file}"],
        ["quantize", "--gpt", "{empty}"], ["serve", "--gpt", "{bad_run}"],
        ["quantize", "--gpt", "{export}", "--text", "{missing}"],
        ["quantize", "--gpt", "{export}", "--text", "{empty}"],
        ["quantize", "--text", "{file}"],
    ],
    "serve": [
        [], ["{missing}"], ["{file}"], ["{empty}"], ["{notes}"], ["{bad_run}"],
        ["{export}", "--port", "70000"], ["{export}", "--port", "-1"],
        ["{export}", "--port", "http"], ["{export}", "--max-concurrent", "0"],
        ["{export}", "--max-new-tokens", "0"], ["{export}", "--max-prompt-chars", "-3"],
        ["{export}", "--max-connections", "0"], ["{export}", "--request-seconds", "0"],
        ["{export}", "--request-seconds", "inf"], ["{export}", "--request-seconds", "nan"],
    ],
    "export": [
        [], ["{run}"], ["{missing}", "--out", "{empty}"], ["{file}", "--out", "{empty}"],
        ["{empty}", "--out", "{missing}"], ["{bad_run}", "--out", "{missing}"],
        ["{run}", "--out", "{run}"], ["{run}", "--out", "{file}"],
        ["{run}", "--out", "{notes}"],
    ],
}
CASES = [(command, args) for command, table in BAD.items() for args in table]


def run(command, args):
    return subprocess.run([sys.executable, "-m", "tt_systems", command, *args],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_exit_2(done, command):
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    # named as the user typed it (not `tinytorch {command}`, which they did not run)
    assert len(lines) == 1 and lines[0].startswith(f"python -m tt_systems {command}: "), \
        done.stderr


@pytest.mark.parametrize("command,args", CASES, ids=[f"{c} {' '.join(a)}" for c, a in CASES])
def test_bad_arguments_exit_2_with_one_line(places, command, args):
    done = run(command, [arg.format(**places) for arg in args])
    assert_one_line_exit_2(done, command)
    assert done.stdout == ""


def test_a_port_in_use_exits_2(places):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", [places["export"], "--port", str(port)])
    assert_one_line_exit_2(done, "serve")
    assert f"127.0.0.1:{port}" in done.stderr


def test_nothing_was_written_by_the_refused_exports(places):
    # the table ran `export RUN --out RUN` and into a folder of other files: both untouched
    assert json.loads(open(f"{places['run']}/config.json").read()) == {"model": vars(CONFIG)}
    assert os.listdir(places["notes"]) == ["a.txt"]

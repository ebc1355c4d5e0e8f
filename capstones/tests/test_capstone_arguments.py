"""The three capstone programs answer bad arguments, a run folder already in use and a missing
course module with one clear line, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {"xornet": ROOT / "xornet" / "xornet.py", "cifar10": ROOT / "cifar10" / "train.py",
           "tinygpt": ROOT / "tinygpt" / "train.py", "sample": ROOT / "tinygpt" / "sample.py"}

# (capstone, arguments, what the error line must name); FILE is an existing file, MISSING a
# path that does not exist, EMPTY an empty folder
BAD_ARGUMENTS = [
    ("xornet", ["--hidden", "0"], "--hidden"),
    ("xornet", ["--steps", "-1"], "--steps"),
    ("xornet", ["--lr", "0"], "--lr"),
    ("xornet", ["--out", "FILE"], "is a file, not a folder"),
    ("cifar10", ["--batch-size", "0"], "--batch-size"),
    ("cifar10", ["--epochs", "-1"], "--epochs"),
    ("cifar10", ["--stop-after", "0"], "--stop-after"),
    ("cifar10", ["--max-lr", "-1"], "--max-lr"),
    ("cifar10", ["--seed", "-3"], "--seed"),
    ("cifar10", ["--data-dir", "MISSING"], "does not exist"),
    ("cifar10", ["--data-dir", "FILE"], "is a file, not a folder"),
    ("cifar10", ["--data-dir", "EMPTY", "--out", "EMPTY/out"], "cifar-10-batches-py"),
    ("cifar10", ["--out", "FILE"], "is a file, not a folder"),
    ("cifar10", ["--resume", "--out", "EMPTY"], "nothing to resume"),
    ("cifar10", ["--epochs", "many"], "--epochs"),
    ("tinygpt", ["--iters", "-5"], "--iters"),
    ("tinygpt", ["--eval-iters", "0"], "--eval-iters"),
    ("tinygpt", ["--eval-interval", "0"], "--eval-interval"),
    ("tinygpt", ["--dropout", "1.5"], "--dropout"),
    ("tinygpt", ["--seed", "-1"], "--seed"),
    ("tinygpt", ["--data", "MISSING"], "does not exist"),
    ("tinygpt", ["--data", "EMPTY"], "is a folder without tinyshakespeare/input.txt"),
    ("tinygpt", ["--out", "FILE"], "is a file, not a folder"),
    ("tinygpt", ["--cache-dir", "FILE"], "is a file, not a folder"),
    ("tinygpt", ["--resume", "--out", "EMPTY"], "nothing to resume"),
    ("tinygpt", ["--resume", "--force"], "pick one"),
    ("sample", ["--max-new-tokens", "-1"], "--max-new-tokens"),
    ("sample", ["--top-k", "0"], "--top-k"),
    ("sample", ["--top-p", "1.5"], "--top-p"),
    ("sample", ["--temperature", "-1"], "--temperature"),
    ("sample", ["--out", "EMPTY"], "is missing"),
]


def run(script, *args, code=None):
    command = [sys.executable, str(script), *args] if code is None else \
        [sys.executable, "-c", code]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def places(tmp_path):
    (tmp_path / "file.txt").write_text("not a folder\n")
    (tmp_path / "empty").mkdir()
    return {"FILE": str(tmp_path / "file.txt"), "MISSING": str(tmp_path / "missing"),
            "EMPTY": str(tmp_path / "empty")}


@pytest.mark.parametrize("capstone, args, named", BAD_ARGUMENTS,
                         ids=[f"{c}:{' '.join(a)}" for c, a, _ in BAD_ARGUMENTS])
def test_bad_arguments_exit_2_with_one_line(places, capstone, args, named):
    args = [places.get(a, a).replace("EMPTY", places["EMPTY"]) for a in args]
    done = run(SCRIPTS[capstone], *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "error:" in last and named in last, done.stderr


@pytest.mark.parametrize("capstone", ["cifar10", "tinygpt"])
def test_a_folder_holding_a_run_is_refused_without_resume_or_force(tmp_path, capstone):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"kind": "epoch", "step": 1}\n')
    done = run(SCRIPTS[capstone], "--quick", "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert f"{out} already holds a run (metrics.jsonl)" in line
    assert "--resume" in line and "--force" in line
    assert (out / "metrics.jsonl").read_text() == '{"kind": "epoch", "step": 1}\n'


@pytest.mark.parametrize("capstone, blocked, extra", [
    ("xornet", "tt_layers", "foundations"), ("cifar10", "tt_spatial", "vision"),
    ("tinygpt", "tt_transformers", "language"),
])
def test_a_missing_course_module_names_the_extra_to_install(capstone, blocked, extra):
    script = SCRIPTS[capstone]
    # sys.modules[name] = None makes `import name` fail as if the package were not installed
    code = (f"import runpy, sys; sys.modules[{blocked!r}] = None; "
            f"sys.path.insert(0, {str(script.parent)!r}); "
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    done = run(script, code=code)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"pip install 'tinytorch[{extra}]'" in done.stderr and blocked in done.stderr

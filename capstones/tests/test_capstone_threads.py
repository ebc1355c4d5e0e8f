"""`--threads N` reaches BLAS: every capstone program applies it before anything it imports has
loaded NumPy (BLAS reads its thread count once, when NumPy loads it)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ["xornet/xornet.py", "cifar10/train.py", "tinygpt/train.py", "tinygpt/sample.py"]

# Runs a capstone with apply_threads replaced by a spy that records whether NumPy was already
# imported when the program set the thread count, then stops the program there.
SPY = """
import runpy, sys
import tinytorch.capstone as capstone

def spy(argv=None):
    loaded = "numpy" in sys.modules
    print("numpy loaded before apply_threads:", loaded)
    raise SystemExit(3 if loaded else 0)

capstone.apply_threads = spy
sys.argv = [sys.argv[1], "--threads", "1"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize("script", SCRIPTS)
def test_threads_are_set_before_numpy_loads(script):
    path = ROOT / script
    done = subprocess.run([sys.executable, "-c", SPY, str(path)], capture_output=True,
                          text=True, cwd=path.parent, timeout=120)
    assert "numpy loaded before apply_threads:" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, f"{script}: {done.stdout.strip()}\n{done.stderr}"


def test_importing_tinytorch_and_its_capstone_helpers_leaves_numpy_unloaded():
    code = ("import sys, tinytorch, tt_setup\n"
            "from tinytorch import capstone, plots\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numpy')[:3])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout

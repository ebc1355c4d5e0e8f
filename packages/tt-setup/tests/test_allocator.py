"""tune_allocator: applied on glibc, harmless, and results stay the same."""

import platform
import subprocess
import sys

import numpy as np

from tt_setup import tune_allocator


def test_tune_allocator_applies_on_glibc_and_keeps_results():
    code = ("import numpy as np, tt_setup; a = np.arange(10.0**6); "
            "ok = tt_setup.tune_allocator(); print(ok, float((a * 2).sum()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    applied, total = out.stdout.split()
    if platform.libc_ver()[0] == "glibc":
        assert applied == "True"
    assert float(total) == float((np.arange(10.0**6) * 2).sum())
    assert out.stderr == ""


def test_tune_allocator_returns_a_bool():
    assert isinstance(tune_allocator(), bool)

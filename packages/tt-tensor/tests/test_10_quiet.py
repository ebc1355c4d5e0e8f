"""Task 10: a library prints nothing, on import or on use."""

import subprocess
import sys

import numpy as np

import tt_tensor as tt


def test_import_prints_nothing():
    result = subprocess.run(
        [sys.executable, "-c", "import tt_tensor"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_ops_print_nothing(capsys):
    x = tt.randn(2, 3, 4, requires_grad=True)
    w = tt.randn(4, 5)
    out = (x @ w).exp().sum(-1).mean() + tt.sqrt(tt.abs(x)).max()
    out = out + tt.sliding_window(tt.pad(x, 1), (2, 2), 2).var()
    out = out + tt.stack([x[0], x[1]]).clip(-1.0, 1.0).min() + tt.where(x > 0, x, 0.0).sum()
    with tt.no_grad():
        tt.cat([x, x], axis=1).reshape(4, -1).T.flatten()
    repr(out)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert np.isfinite(out.item())

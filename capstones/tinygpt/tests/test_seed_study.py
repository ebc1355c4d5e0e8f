"""bench/seeds.py: seed lists, reuse of finished runs, and the summary's arithmetic."""

import importlib.util
import json
from argparse import Namespace
from pathlib import Path

import pytest

SEEDS_PY = Path(__file__).resolve().parents[1] / "bench" / "seeds.py"
spec = importlib.util.spec_from_file_location("tinygpt_seeds", SEEDS_PY)
seeds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seeds)


def test_parse_seeds_ranges_and_lists():
    assert seeds.parse_seeds("0-3") == [0, 1, 2, 3]
    assert seeds.parse_seeds("0-2,1337") == [0, 1, 2, 1337]
    assert seeds.parse_seeds("7") == [7]
    with pytest.raises(ValueError):
        seeds.parse_seeds("a-b")


def test_a_finished_run_is_read_not_repeated(tmp_path):
    done = tmp_path / "tinytorch-5"
    done.mkdir()
    (done / "results.json").write_text(json.dumps({"final_val_loss": 1.9,
                                                   "final_val_loss_full": 1.95}))
    # data points nowhere: training would fail, so success means the run was not started
    args = Namespace(out=tmp_path, data=tmp_path / "missing.txt", torch_python=None)
    assert seeds.run_one("tinytorch", 5, args) == ("tinytorch", 5, {
        "final_val_loss": 1.9, "final_val_loss_full": 1.95})


def test_a_failed_run_names_its_log(tmp_path):
    args = Namespace(out=tmp_path, data=tmp_path / "missing.txt", torch_python=None)
    with pytest.raises(RuntimeError, match="tinytorch seed 3 failed.*log.txt"):
        seeds.run_one("tinytorch", 3, args)


def test_summary_mean_std_and_count_under_the_bar():
    est, full = [1.87, 1.89, 1.91], [1.90, 1.90, 1.93]
    rows = [("tinytorch", s, {"final_val_loss": e, "final_val_loss_full": f})
            for s, (e, f) in enumerate(zip(est, full))]
    (line,) = seeds.summary(rows, bar=1.88)
    # mean 1.89 and sample std 0.02 (deviations -0.02, 0, 0.02; divide by n - 1 = 2);
    # whole split: mean 1.91, deviations -0.01, -0.01, 0.02 -> std sqrt(0.0006 / 2)
    assert line == "| tinytorch | 3 | 1.890 +- 0.020 | 1.910 +- 0.017 | 1 of 3 |"

"""The benchmark table's FLOP counts and rates: closed forms checked against what runs."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cnn_step = load("capstones/cifar10/bench/cnn_step.py", "cnn_step")
gpt_step = load("capstones/tinygpt/bench/gpt_step.py", "gpt_step")
runner = load("bench/run.py", "bench_run")


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("batch", [1, 3])
def test_cnn_step_flops_equal_the_profiled_matmul_flops(batch, fast):
    """Plain: every product is a matmul node. Fast paths: the convolutions are fused nodes
    whose count also holds their bias adds (forward) and bias gradients (backward)."""
    import tt_spatial
    from tt_systems import Profiler

    switch = getattr(tt_spatial, "use_fast_paths", None)  # optional, not in all
    before = switch(fast) if switch else None
    try:
        x = np.random.default_rng(0).random((batch, 3, 32, 32), dtype=np.float32)
        step, _ = cnn_step.tinytorch_step_fn(x, np.arange(batch) % 10)
        with Profiler() as prof:
            step()
    finally:
        if switch:
            switch(before)
    counted = sum(r.flops for r in prof.records if r.name in ("matmul", "Conv2dIm2col"))
    fused = any(r.name == "Conv2dIm2col" for r in prof.records)
    assert fused == (fast and switch is not None)
    bias_terms = 2 * batch * (32 * 30 * 30 + 64 * 13 * 13) if fused else 0
    assert counted - bias_terms == cnn_step.step_flops(batch)


def test_gpt_step_flops_equal_the_sum_over_its_products():
    B, T, C, L, V = 2, 5, 8, 3, 11
    N = B * T
    products = [(N, C, 3 * C), (N, C, C), (N, C, 4 * C), (N, 4 * C, C)]   # (m, k, n) per layer
    per_layer = sum(2 * m * k * n for m, k, n in products) + 2 * (2 * B * T * T * C)
    forward = L * per_layer + 2 * N * C * V
    assert gpt_step.step_flops(B, T, C, L, V) == 3 * forward


def test_sgemm_peak_is_a_rate_of_two_n_cubed_per_product():
    peak = runner.sgemm_peak(n=64, repeats=2)
    assert np.isfinite(peak) and peak > 0


def test_flop_rates_divide_by_the_median_time_and_the_peak():
    rows = [{"flops": 3e9, "median_ms": 100.0}, {"median_ms": 5.0}]
    runner.add_flop_rates(rows, peak_gflops=60.0)
    assert rows[0]["gflops"] == pytest.approx(3e9 / 0.1 / 1e9)
    assert rows[0]["peak_fraction"] == pytest.approx(30.0 / 60.0)
    assert "gflops" not in rows[1]
    table = runner.markdown([{**rows[0], "benchmark": "b", "case": "c", "impl": "i",
                              "threads": 1, "baseline": "i", "vs_baseline": 1.0,
                              "vs_baseline_p10": None}],
                            [{"benchmark": "b", "threads": 1, "sgemm_peak_gflops": 60.0}])
    assert "| 30.0 | 50% |" in table and "60.0 GFLOP/s (b, 1 thread(s))" in table

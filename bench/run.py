"""TinyTorch benchmarks: run named benchmarks, print a Markdown table, write bench/results.json.

    python bench/run.py                    # every benchmark, with 1 and 2 BLAS threads
    python bench/run.py mlp --threads 1    # one benchmark, one thread count
    python bench/run.py --list

A benchmark is a Python file registered in BENCHMARKS below. It defines
`run(steps, warmup) -> list of rows` (dicts with at least case, impl, median_ms) and `BASELINE`,
the impl every other impl of the same case is compared to. Each (benchmark, thread count) runs
in a fresh process, because BLAS libraries read OMP_NUM_THREADS / OPENBLAS_NUM_THREADS once,
at import; the process gets the capstones' OPENBLAS_THREAD_TIMEOUT (tinytorch.capstone's
BLAS_SPIN_DEFAULT) unless the environment sets one. PyTorch rows appear when `import torch`
works in the interpreter that runs this script; nothing here requires it.

A row may carry `flops`, the floating-point operations of one timed step (each benchmark counts
them in closed form from its shapes and documents the count); the table then shows the achieved
GFLOP/s (flops / median time) and that as a fraction of the sgemm peak, which each benchmark
process measures for itself after its steps, with its own thread count: the best of a few
float32 (N x N) @ (N x N) products, 2 N^3 FLOPs each (`sgemm_peak`). A row may also name its own
`baseline` impl (else the module's BASELINE is used).
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (benchmark file relative to the repository root, what it measures)
BENCHMARKS = {
    "mlp": ("packages/tt-autograd/bench/mlp_step.py",
            "MLP training step (autograd engine overhead; target <= 1.3x NumPy)"),
    "cnn": ("capstones/cifar10/bench/cnn_step.py",
            "CIFAR-10 course CNN training step (target >= 0.5x PyTorch throughput)"),
    "gpt": ("capstones/tinygpt/bench/gpt_step.py",
            "TinyGPT training step, nanoGPT CPU config (target <= 2x PyTorch)"),
    "gpt-generate": ("capstones/tinygpt/bench/gpt_generate.py",
                     "500 generated tokens, KV cache vs recomputation (target >= 3x)"),
}

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PEAK_N, PEAK_REPEATS = 2048, 5  # 17.2 GFLOP a product: long enough to reach BLAS's peak


def load(name):
    """The benchmark module registered under `name`."""
    path = ROOT / BENCHMARKS[name][0]
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def environment():
    """What the numbers depend on: versions, BLAS, CPU, thread settings."""
    import numpy as np

    info = {
        "python": platform.python_version(), "numpy": np.__version__,
        "machine": platform.machine(), "cpus": os.cpu_count(), "cpu": _cpu_model(),
        "load_average_1min": os.getloadavg()[0],  # other processes share the cores
        # thread counts are per row; these change which BLAS kernel runs
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                          "OPENBLAS_THREAD_TIMEOUT")
                if k in os.environ},
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: show_config has no dict mode
        info["blas"] = "unknown"
    try:
        import torch
    except ImportError:
        info["torch"] = None
    else:
        info["torch"] = torch.__version__
    return info


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def sgemm_peak(n=PEAK_N, repeats=PEAK_REPEATS):
    """The best GFLOP/s of `repeats` float32 (n, n) @ (n, n) products (2 n^3 FLOPs each).

    NumPy's matmul calls BLAS sgemm on contiguous float32 arrays; with the thread count of
    this process, that is the fastest this machine multiplies matrices, the ceiling every
    matmul-bound step is measured against.
    """
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def add_flop_rates(rows, peak_gflops):
    """GFLOP/s of each row that counts its FLOPs, and its fraction of the sgemm peak."""
    for row in rows:
        if row.get("flops"):
            row["gflops"] = row["flops"] / (row["median_ms"] * 1e-3) / 1e9
            row["peak_fraction"] = row["gflops"] / peak_gflops


def child(name, steps, warmup):
    """Run one benchmark in this process and print its rows as JSON."""
    module = load(name)
    info = environment()  # before the run: the load average is then other processes only
    if _torch_importable():
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    rows = module.run(steps=steps, warmup=warmup)
    if any(row.get("flops") for row in rows):
        info["sgemm_peak_gflops"] = sgemm_peak()  # same process, same threads as the steps
        add_flop_rates(rows, info["sgemm_peak_gflops"])
    for row in rows:
        row["benchmark"] = name
        row.setdefault("baseline", module.BASELINE)
    print(json.dumps({"rows": rows, "environment": info}))


def _torch_importable():
    return importlib.util.find_spec("torch") is not None


def run_in_subprocess(name, threads, steps, warmup):
    from tinytorch.capstone import BLAS_SPIN_DEFAULT, BLAS_SPIN_VARIABLE

    env = dict(os.environ, **{var: str(threads) for var in THREAD_VARS})
    env.setdefault(BLAS_SPIN_VARIABLE, BLAS_SPIN_DEFAULT)  # as the capstones run (PyTorch's
    # MKL does not read it)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name,
           "--steps", str(steps), "--warmup", str(warmup)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmark {name!r} with {threads} thread(s) failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for row in result["rows"]:
        row["threads"] = threads
    return result


def add_ratios(rows):
    """Each row's median (and 10th percentile) over its baseline's, same case and threads.

    The 10th-percentile ratio is the one to read when other processes share the cores: it
    compares the steps that ran undisturbed.
    """
    base = {(r["benchmark"], r["case"], r["threads"]): r
            for r in rows if r["impl"] == r["baseline"]}
    for r in rows:
        ref = base.get((r["benchmark"], r["case"], r["threads"]))
        r["vs_baseline"] = r["median_ms"] / ref["median_ms"] if ref else None
        has_p10 = ref is not None and "p10_ms" in r and "p10_ms" in ref
        r["vs_baseline_p10"] = r["p10_ms"] / ref["p10_ms"] if has_p10 else None


def markdown(rows, environments=()):
    lines = ["| benchmark | case | impl | threads | median ms | p10-p90 ms "
             "| x baseline (median) | x baseline (p10) | GFLOP/s | of sgemm peak | note |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ratio = f"{r['vs_baseline']:.2f} ({r['baseline']})" if r["vs_baseline"] else ""
        ratio10 = f"{r['vs_baseline_p10']:.2f}" if r["vs_baseline_p10"] else ""
        spread = f"{r['p10_ms']:.2f}-{r['p90_ms']:.2f}" if "p10_ms" in r else ""
        rate = f"{r['gflops']:.1f}" if "gflops" in r else ""
        share = f"{r['peak_fraction']:.0%}" if "peak_fraction" in r else ""
        lines.append(f"| {r['benchmark']} | {r['case']} | {r['impl']} | {r['threads']} | "
                     f"{r['median_ms']:.2f} | {spread} | {ratio} | {ratio10} | {rate} | "
                     f"{share} | {r.get('note', '')} |")
    peaks = [f"{e['sgemm_peak_gflops']:.1f} GFLOP/s ({e['benchmark']}, {e['threads']} thread(s))"
             for e in environments if "sgemm_peak_gflops" in e]
    if peaks:
        lines.append(f"\nsgemm peak (float32 {PEAK_N}x{PEAK_N} matmul, best of {PEAK_REPEATS}, "
                     f"measured in each benchmark's process): " + "; ".join(peaks))
    return "\n".join(lines)


def write_json(path, payload):
    """Write to a temporary name, then rename: never a half-written results file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of "
                                                 f"{', '.join(BENCHMARKS)})")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts, e.g. 1,2")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per impl")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.steps, args.warmup)
    if args.list:
        for name, (path, what) in BENCHMARKS.items():
            print(f"{name:10s} {what}  [{path}]")
        return None
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(BENCHMARKS)}")
    threads = [int(t) for t in args.threads.split(",")]
    rows, environments = [], []
    for name in args.names or list(BENCHMARKS):
        for n in threads:
            result = run_in_subprocess(name, n, args.steps, args.warmup)
            rows += result["rows"]
            environments.append({"benchmark": name, "threads": n, **result["environment"]})
    add_ratios(rows)
    print(markdown(rows, environments))
    write_json(args.out, {
        "command": " ".join([Path(sys.executable).name, "bench/run.py", *(argv or sys.argv[1:])]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environments": environments,  # one per (benchmark, thread count) process
        "rows": rows,
    })
    print(f"\nwrote {args.out}")
    return None


if __name__ == "__main__":
    main()

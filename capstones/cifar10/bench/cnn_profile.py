"""Where the time of one CIFAR-10 CNN training step goes (the `cnn` benchmark's step).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python capstones/cifar10/bench/cnn_profile.py

Prints three tables (Markdown), each over the same batch of 64 as the benchmark:

1. The step split into its matrix products and everything else, each part at its fastest
   over the steps (the machine is shared: the fastest step is the one least disturbed).
   "GEMM" is the time of the step's products (conv forward, weight and input gradients;
   Linear forward and backward) replayed alone at the same shapes and memory layouts: what
   BLAS takes for them here. The sgemm floor is the step's FLOPs (cnn_step.step_flops) at
   this process's sgemm peak (bench/run.py's sgemm_peak). Each other row is the op's time in
   tt-systems' Profiler minus the GEMMs inside it; "Python and graph" is the fastest
   unprofiled step minus every measured part (recording nodes, the engine's sweep, module
   calls, the allocations and ReLU's comparison that no op hook sees).
2. tt-systems' Profiler, per (op, phase), for one step.
3. cProfile's functions by own time (tottime), per step.

Times depend on the load of the machine: read the shares, and run it on an idle machine.
"""

import argparse
import cProfile
import importlib.util
import io
import pstats
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cnn_step = _load(HERE / "cnn_step.py", "cnn_step")
runner = _load(HERE.parents[2] / "bench" / "run.py", "bench_run")

# The step's products, as (op, phase, m, k, n, a_transposed, b_transposed): an (m, k) @ (k, n)
# product whose operands are views of row-major arrays (transposed where flagged), as the
# fast paths (tt_spatial's Conv2dIm2col) and tt-autograd's matmul rule lay them out.
B = cnn_step.BATCH
GEMMS = [
    ("Conv2dIm2col", "forward", 32, 27, B * 900, False, False),      # W1 @ cols1
    ("Conv2dIm2col", "forward", 64, 288, B * 169, False, False),     # W2 @ cols2
    ("Conv2dIm2col", "backward", 32, B * 900, 27, False, True),      # dW1 = g @ cols1.T
    ("Conv2dIm2col", "backward", 64, B * 169, 288, False, True),     # dW2 = g @ cols2.T
    ("Conv2dIm2col", "backward", 288, 64, B * 169, True, False),     # dcols2 = W2.T @ g
    ("matmul", "forward", B, 2304, 256, False, True),                # x @ W3.T
    ("matmul", "forward", B, 256, 10, False, True),                  # h @ W4.T
    ("matmul", "backward", B, 256, 2304, False, False),              # dx = g @ W3
    ("matmul", "backward", 256, B, 2304, True, False),               # dW3 = g.T @ x
    ("matmul", "backward", B, 10, 256, False, False),                # dh = g @ W4
    ("matmul", "backward", 10, B, 256, True, False),                 # dW4 = g.T @ h
]


def gemm_seconds(m, k, n, a_t, b_t, repeats=20):
    """Fastest of `repeats` (m, k) @ (k, n) float32 products with the given operand layouts."""
    rng = np.random.default_rng(0)
    a = rng.random((k, m) if a_t else (m, k), dtype=np.float32)
    b = rng.random((n, k) if b_t else (k, n), dtype=np.float32)
    a, b = (a.T if a_t else a), (b.T if b_t else b)
    a @ b
    return float(timed(lambda: a @ b, repeats).min())


def timed(fn, n):
    """The wall time of each of n calls of fn(), in seconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return np.array(times)


def profiled(x, y, steps):
    """Each of `steps` steps under its own Profiler, the optimizer's step timed apart.

    Returns ({(op, phase): its fastest step's seconds}, the fastest optimizer step's seconds,
    the last step's Profiler)."""
    from tt_networks import cross_entropy
    from tt_systems import Profiler
    from tt_tensor import from_numpy

    model, opt = cnn_step.tinytorch_model()
    xt, yt = from_numpy(x), from_numpy(y)
    optimizer = []

    def step():
        loss = cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        start = time.perf_counter()
        opt.step()
        optimizer.append(time.perf_counter() - start)

    for _ in range(3):
        step()
    optimizer.clear()
    per_op = {}
    for _ in range(steps):
        with Profiler(model) as prof:
            step()
        for r in prof.records:
            per_op.setdefault((r.name, r.phase), []).append(r.seconds)
    return {k: min(v) for k, v in per_op.items()}, min(optimizer), prof


# (part, the ops it sums, phase or None for both): the rows of the split table
PARTS = [
    ("conv: im2col copy, bias", ("Conv2dIm2col",), "forward"),
    ("conv: col2im, layout copies, bias grad", ("Conv2dIm2col",), "backward"),
    ("batch norm forward", ("BatchNormTrain",), "forward"),
    ("batch norm backward", ("BatchNormTrain",), "backward"),
    ("ReLU (mul by its mask), forward", ("mul",), "forward"),
    ("ReLU (mul by its mask), backward", ("mul",), "backward"),
    ("max-pool forward", ("MaxPool2dWindows",), "forward"),
    ("max-pool backward", ("MaxPool2dWindows",), "backward"),
    ("Linear: bias, transposes, flatten", ("matmul", "add", "permute", "reshape"), None),
    ("loss (cross-entropy)", ("CrossEntropyRows",), None),
]


def split_table(step_s, per_op, optimizer_s, peak):
    """Markdown: the step's parts, ms per step and share of the step."""
    gemm = {}
    for op, phase, *shape in GEMMS:
        gemm[(op, phase)] = gemm.get((op, phase), 0.0) + gemm_seconds(*shape)
    gemm_total = sum(gemm.values())
    floor = cnn_step.step_flops() / (peak * 1e9)
    rows = [("GEMMs (BLAS sgemm, replayed alone)", gemm_total)]
    used = set()
    for part, ops, phase in PARTS:
        keys = [k for k in per_op if k[0] in ops and phase in (None, k[1])]
        used.update(keys)
        rows.append((part, sum(per_op[k] - gemm.get(k, 0.0) for k in keys)))
    rows.append(("other ops", sum(v for k, v in per_op.items() if k not in used)))
    rows.append(("optimizer: Adam step", optimizer_s))
    rows.append(("Python and graph (the rest of the step)",
                 step_s - sum(seconds for _, seconds in rows)))
    lines = [f"step {step_s * 1e3:.2f} ms; sgemm floor (FLOPs / peak {peak:.1f} GFLOP/s) "
             f"{floor * 1e3:.2f} ms = {floor / step_s:.0%} of the step; the step's GEMMs "
             f"alone {gemm_total * 1e3:.2f} ms "
             f"({cnn_step.step_flops() / gemm_total / 1e9:.1f} GFLOP/s)", "",
             "| part | ms per step | share of the step |", "|---|---:|---:|"]
    lines += [f"| {part} | {s * 1e3:.2f} | {s / step_s:.0%} |" for part, s in rows]
    return "\n".join(lines)


def cprofile_table(step, steps, top):
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(steps):
        step()
    profile.disable()
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text).sort_stats("tottime")
    lines = ["| function | calls per step | own ms per step | with callees ms per step |",
             "|---|---:|---:|---:|"]
    for func in stats.fcn_list[:top]:
        calls, _, own, cumulative, _ = stats.stats[func]
        where = f"{Path(func[0]).name}:{func1}" if (func1 := func[1]) else func[0]
        lines.append(f"| {func[2]} ({where}) | {calls / steps:g} | {own / steps * 1e3:.2f} | "
                     f"{cumulative / steps * 1e3:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per measurement")
    parser.add_argument("--top", type=int, default=15, help="cProfile rows")
    args = parser.parse_args(argv)
    x, y = cnn_step.make_batch()
    step, _ = cnn_step.tinytorch_step_fn(x, y)
    timed(step, 5)
    times = timed(step, args.steps)
    per_op, optimizer_s, prof = profiled(x, y, args.steps)
    peak = runner.sgemm_peak()
    print(f"## The step split (fastest of {args.steps} steps; median "
          f"{np.median(times) * 1e3:.2f} ms)\n")
    print(split_table(float(times.min()), per_op, optimizer_s, peak))
    print("\n## tt-systems Profiler, per op, one step\n")
    print(prof.table(top=None))
    print("\n## cProfile, by own time\n")
    print(cprofile_table(step, args.steps, args.top))


if __name__ == "__main__":
    sys.exit(main())

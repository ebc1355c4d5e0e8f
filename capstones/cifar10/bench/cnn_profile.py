"""Where the time of one CIFAR-10 CNN training step goes (the `cnn` benchmark's step).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python capstones/cifar10/bench/cnn_profile.py

Prints three tables (Markdown), each over the same batch of 64 as the benchmark:

1. The step split into its matrix products and everything else. Each round runs one step
   under tt-systems' Profiler and then replays the step's GEMMs (conv forward, weight and
   input gradients; Linear forward and backward) alone at the same shapes and memory
   layouts; each part's figure is its fastest round (the machine is shared: the fastest is
   the least disturbed), so the parts add up to about one undisturbed step. Each op's row is
   its Profiler time minus the GEMMs inside it; "Python and graph" is the profiled step's
   wall time minus its ops and optimizer step (node recording, the engine's sweep, module
   calls, ReLU's comparison, which no op hook sees, and the Profiler's own hooks). The sgemm
   floor is the step's FLOPs (cnn_step.step_flops) at this process's sgemm peak (bench/run.py's
   sgemm_peak).
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


def gemm_operands(m, k, n, a_t, b_t):
    """Float32 operands of an (m, k) @ (k, n) product, transposed views where flagged."""
    rng = np.random.default_rng(0)
    a = rng.random((k, m) if a_t else (m, k), dtype=np.float32)
    b = rng.random((n, k) if b_t else (k, n), dtype=np.float32)
    return (a.T if a_t else a), (b.T if b_t else b)


def timed(fn, n):
    """The wall time of each of n calls of fn(), in seconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return np.array(times)


def measure(x, y, steps):
    """`steps` rounds of: one step under its own Profiler (the optimizer's step timed apart),
    then each of the step's GEMMs replayed once. So every part is measured in the same
    rounds, under the same load, and each part's figure is its fastest round.

    Returns ({part key: fastest seconds}, the last step's Profiler); the keys are (op, phase)
    for the ops, ("gemm", op, phase) for the GEMMs (summed per op and phase), "optimizer",
    and "rest": the profiled step's wall time minus its ops and optimizer step.
    """
    from tt_networks import cross_entropy
    from tt_systems import Profiler
    from tt_tensor import from_numpy

    model, opt = cnn_step.tinytorch_model()
    xt, yt = from_numpy(x), from_numpy(y)
    gemms = [(op, phase, *gemm_operands(*shape)) for op, phase, *shape in GEMMS]
    rounds = []

    def step():
        loss = cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        start = time.perf_counter()
        opt.step()
        return time.perf_counter() - start

    for _ in range(3):
        step()
    for _ in range(steps):
        start = time.perf_counter()
        with Profiler(model) as prof:
            optimizer = step()
        wall = time.perf_counter() - start
        parts = {"optimizer": optimizer}
        for r in prof.records:
            parts[(r.name, r.phase)] = parts.get((r.name, r.phase), 0.0) + r.seconds
        parts["rest"] = wall - sum(parts.values())
        for op, phase, a, b in gemms:
            key = ("gemm", op, phase)
            parts[key] = parts.get(key, 0.0) + float(timed(lambda: a @ b, 1)[0])
        rounds.append(parts)
    return {key: min(r[key] for r in rounds) for key in rounds[0]}, prof


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


def split_table(parts, peak, times):
    """Markdown: the step's parts, ms per step and share of their sum."""
    gemm = {key[1:]: v for key, v in parts.items() if key[0] == "gemm"}
    ops = {key: v for key, v in parts.items() if isinstance(key, tuple) and key[0] != "gemm"}
    rows = [("GEMMs (BLAS sgemm, replayed alone)", sum(gemm.values()))]
    used = set()
    for part, names, phase in PARTS:
        keys = [k for k in ops if k[0] in names and phase in (None, k[1])]
        used.update(keys)
        rows.append((part, sum(ops[k] - gemm.get(k, 0.0) for k in keys)))
    rows.append(("other ops", sum(v for k, v in ops.items() if k not in used)))
    rows.append(("optimizer: Adam step", parts["optimizer"]))
    rows.append(("Python and graph: node recording, the engine, module calls, ReLU's "
                 "compare (with the Profiler's hooks)", parts["rest"]))
    total = sum(seconds for _, seconds in rows)
    floor = cnn_step.step_flops() / (peak * 1e9)
    lines = [f"parts summed: {total * 1e3:.2f} ms (the step without the Profiler: fastest "
             f"{times.min() * 1e3:.2f} ms, median {np.median(times) * 1e3:.2f} ms); the "
             f"step's GEMMs {rows[0][1] * 1e3:.2f} ms "
             f"({cnn_step.step_flops() / rows[0][1] / 1e9:.1f} GFLOP/s); sgemm floor "
             f"(FLOPs / peak {peak:.1f} GFLOP/s) {floor * 1e3:.2f} ms", "",
             "| part | ms per step | share |", "|---|---:|---:|"]
    lines += [f"| {part} | {s * 1e3:.2f} | {s / total:.0%} |" for part, s in rows]
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
    parser.add_argument("--steps", type=int, default=30, help="rounds per measurement")
    parser.add_argument("--top", type=int, default=15, help="cProfile rows")
    args = parser.parse_args(argv)
    x, y = cnn_step.make_batch()
    step, _ = cnn_step.tinytorch_step_fn(x, y)
    timed(step, 5)
    times = timed(step, args.steps)
    parts, prof = measure(x, y, args.steps)
    peak = runner.sgemm_peak()
    print(f"## The step split (each part: its fastest of {args.steps} rounds)\n")
    print(split_table(parts, peak, times))
    print("\n## tt-systems Profiler, per op, one step\n")
    print(prof.table(top=None))
    print("\n## cProfile, by own time\n")
    print(cprofile_table(step, args.steps, args.top))


if __name__ == "__main__":
    sys.exit(main())

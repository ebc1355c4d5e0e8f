"""Where the time of the TinyTorch MLP step goes, op by op, forward and backward.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python packages/tt-autograd/bench/profile_step.py

Uses op hooks (tt_tensor.add_op_hook), which report every primitive's forward and every rule's
backward with its wall time. Each op's time is the 10th percentile over the steps (robust to
other processes); "unattributed" is the step's time minus all ops: Python between the ops,
the engine's bookkeeping, the optimizer, and the hooks themselves.
"""

import collections
import time

import numpy as np
from mlp_step import make_problem, numpy_step_fn, tinytorch_step_fn
from tt_tensor import add_op_hook

STEPS, WARMUP = 200, 20


def profile(step):
    """{(phase, op, input shapes): [seconds per step]} and the step times."""
    per_op, step_times, current = collections.defaultdict(list), [], collections.Counter()

    def hook(event):
        shapes = tuple(getattr(t, "shape", None) for t in event.inputs)
        current[(event.phase, event.op, shapes)] += event.seconds

    for _ in range(WARMUP):
        step()
    with add_op_hook(hook):
        for _ in range(STEPS):
            current.clear()
            start = time.perf_counter()
            step()
            step_times.append(time.perf_counter() - start)
            for key, seconds in current.items():
                per_op[key].append(seconds)
    return per_op, np.array(step_times)


def main():
    x, y, params = make_problem()
    numpy_step = numpy_step_fn(x, y, params)[0]
    numpy_ms = np.percentile([_timed(numpy_step) for _ in range(STEPS)], 10) * 1e3
    per_op, step_times = profile(tinytorch_step_fn(x, y, params)[0])
    rows = sorted(((np.percentile(v, 10) * 1e3, k) for k, v in per_op.items()), reverse=True)
    step_ms = np.percentile(step_times, 10) * 1e3
    print(f"TinyTorch step with hooks: {step_ms:.3f} ms (10th percentile); "
          f"hand-written NumPy step: {numpy_ms:.3f} ms (10th percentile)\n")
    print("|   ms | phase | op | input shapes |\n|---:|---|---|---|")
    for ms, (phase, op, shapes) in rows:
        print(f"| {ms:.3f} | {phase} | {op} | {', '.join(map(str, shapes))} |")
    print(f"| {step_ms - sum(ms for ms, _ in rows):.3f} | | unattributed | |")


def _timed(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

"""Cost of one optimizer step on the 784-256-256-10 MLP's parameters (float32, 2 cores).

    python packages/tt-optimizers/benchmarks/step_cost.py

Prints time per step (best of 7 rounds of 100) and the peak memory allocated during one step (tracemalloc, after a
warm-up step), next to a textbook Adam that builds new arrays on every line.
"""

import time
import tracemalloc

import numpy as np
import tt_tensor as tt
from tt_optimizers import SGD, Adam, AdamW

SHAPES = [(784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
REPS, ROUNDS = 100, 7


def make_params(rng):
    params = [tt.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    for p in params:
        p.grad = tt.tensor(rng.standard_normal(p.shape))
    return params


def naive_adam(params, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as usually first written: every expression allocates a new array."""
    for i, p in enumerate(params):
        g = p.grad.data
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        p.data[...] = p.data - lr * (m[i] / (1 - b1**t)) / (np.sqrt(v[i] / (1 - b2**t)) + eps)


def measure(step):
    """(ms per step, peak bytes allocated during one step), after one warm-up step."""
    step()
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best = float("inf")
    for _ in range(ROUNDS):  # best of several rounds: the machine is shared
        start = time.perf_counter()
        for _ in range(REPS):
            step()
        best = min(best, (time.perf_counter() - start) / REPS)
    return best * 1e3, peak


def main():
    rng = np.random.default_rng(0)
    n = sum(int(np.prod(s)) for s in SHAPES)
    print(f"{n} parameters = {4 * n / 1e6:.2f} MB of float32")
    print("| optimizer | ms / step | peak bytes allocated in a step |\n|---|---|---|")
    rows = [("SGD", lambda ps: SGD(ps, lr=0.1)),
            ("SGD momentum=0.9", lambda ps: SGD(ps, lr=0.1, momentum=0.9)),
            ("Adam", Adam), ("AdamW", AdamW)]
    for name, make in rows:
        ms, peak = measure(make(make_params(rng)).step)
        print(f"| {name} | {ms:.3f} | {peak} |")
    params = make_params(rng)
    m = [np.zeros(s, np.float32) for s in SHAPES]
    v = [np.zeros(s, np.float32) for s in SHAPES]
    counter = iter(range(1, 10**9))
    ms, peak = measure(lambda: naive_adam(params, m, v, next(counter)))
    print(f"| Adam, naive NumPy | {ms:.3f} | {peak} |")


if __name__ == "__main__":
    main()

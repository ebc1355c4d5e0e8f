"""Time forward + backward of BatchNorm2d and LayerNorm against hand-written NumPy. Not a test.

The BatchNorm2d case is the course CNN's first one: (64, 32, 30, 30) float32, train mode.
The NumPy reference uses the closed-form backward
dx = scale * (g - mean(g) - xhat * mean(g * xhat)), which no composition can match in passes.

    python packages/tt-normalization/bench/bench_norm.py --threads 1 [--profile]
"""

import argparse
import os
import time

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--threads", type=int, default=1, help="BLAS threads (set before import)")
ARGS.add_argument("--repeats", type=int, default=20, help="timed runs per case")
ARGS.add_argument("--profile", action="store_true", help="also print time per primitive")
ARGS = ARGS.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread count is set)
import tt_tensor as tt  # noqa: E402
from tt_normalization import BatchNorm2d, LayerNorm  # noqa: E402


def timings_ms(fn):
    """(best, median) wall time of fn in ms; the best is the least disturbed by other load."""
    fn()
    times = []
    for _ in range(ARGS.repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times), 1e3 * float(np.median(times))


def np_norm(x, g, axes, weight, bias, eps=1e-5):
    """Forward and closed-form backward of a normalisation over `axes` (weight broadcastable)."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + eps)
    xhat = centred * inv_std
    out = xhat * weight + bias
    gw = g * weight
    dx = inv_std * (gw - gw.mean(axis=axes, keepdims=True)
                    - xhat * (gw * xhat).mean(axis=axes, keepdims=True))
    return out, dx


def cases(rng):
    """(name, layer, x, g, reference) for each benchmark."""
    x_bn = rng.standard_normal((64, 32, 30, 30), dtype=np.float32)
    x_ln = rng.standard_normal((32, 128, 256), dtype=np.float32)
    bn, ln = BatchNorm2d(32), LayerNorm(256)
    w_bn, b_bn = bn.weight.data.reshape(1, 32, 1, 1), bn.bias.data.reshape(1, 32, 1, 1)
    return [
        ("BatchNorm2d(32) (64, 32, 30, 30)", bn, x_bn, rng.standard_normal(x_bn.shape, np.float32),
         lambda x, g: np_norm(x, g, (0, 2, 3), w_bn, b_bn)),
        ("LayerNorm(256) (32, 128, 256)", ln, x_ln, rng.standard_normal(x_ln.shape, np.float32),
         lambda x, g: np_norm(x, g, (2,), ln.weight.data, ln.bias.data)),
    ]


def profile(name, layer, x, g, steps=10):
    totals = {}

    def hook(event):
        key = (event.op, event.phase)
        totals[key] = totals.get(key, 0.0) + 1e3 * event.seconds

    with tt.add_op_hook(hook):
        for _ in range(steps):
            layer(x).backward(g)
    print(f"{name}, per primitive ({steps} steps averaged):")
    for (op, phase), ms in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {op:>10} {phase:>8} {ms / steps:7.2f} ms")


def main():
    rng = np.random.default_rng(0)
    print(f"float32, train mode, {ARGS.threads} BLAS thread(s), {ARGS.repeats} runs: "
          "best / median ms")
    print(f"{'layer':<34}{'forward':>16}{'forward+backward':>18}{'NumPy f+b':>16}")
    for name, layer, x, g, reference in cases(rng):
        xt = tt.from_numpy(x).requires_grad_()
        fwd = timings_ms(lambda: layer(xt))
        both = timings_ms(lambda: layer(xt).backward(g))
        ref = timings_ms(lambda: reference(x, g))
        print(f"{name:<34}{fwd[0]:>8.2f} /{fwd[1]:>6.2f}{both[0]:>10.2f} /{both[1]:>6.2f}"
              f"{ref[0]:>8.2f} /{ref[1]:>6.2f}")
        if ARGS.profile:
            profile(name, layer, xt, g)


if __name__ == "__main__":
    main()

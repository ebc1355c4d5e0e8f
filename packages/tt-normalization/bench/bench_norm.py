"""Time forward + backward of BatchNorm2d and LayerNorm against hand-written NumPy. Not a test.

The BatchNorm2d case is the course CNN's first one: (64, 32, 30, 30) float32, train mode.
The NumPy reference uses the closed-form backward
dx = scale * (g - mean(g) - xhat * mean(g * xhat)), which no composition can match in passes.

    python packages/tt-normalization/bench/bench_norm.py --threads 1 [--profile]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
# before NumPy: bench_args sets the BLAS thread count
from bench_helpers import bench_args, profile, timings_ms  # noqa: E402

ARGS = bench_args(__doc__, profile=True)

import numpy as np  # noqa: E402  (after the thread count is set)
import tt_tensor as tt  # noqa: E402
from tt_normalization import BatchNorm2d, LayerNorm  # noqa: E402


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


def main():
    rng = np.random.default_rng(0)
    print(f"float32, train mode, {ARGS.threads} BLAS thread(s), {ARGS.repeats} runs: "
          "best / median ms")
    print(f"{'layer':<34}{'forward':>16}{'forward+backward':>18}{'NumPy f+b':>16}")
    for name, layer, x, g, reference in cases(rng):
        xt = tt.from_numpy(x).requires_grad_()
        fwd = timings_ms(lambda: layer(xt), ARGS.repeats)
        both = timings_ms(lambda: layer(xt).backward(g), ARGS.repeats)
        ref = timings_ms(lambda: reference(x, g), ARGS.repeats)
        print(f"{name:<34}{fwd[0]:>8.2f} /{fwd[1]:>6.2f}{both[0]:>10.2f} /{both[1]:>6.2f}"
              f"{ref[0]:>8.2f} /{ref[1]:>6.2f}")
        if ARGS.profile:
            profile(name, layer, xt, g)


if __name__ == "__main__":
    main()

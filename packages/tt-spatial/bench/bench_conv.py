"""Time forward + backward of the CIFAR-10 CNN's conv and pool layers at batch 64.

Compares tt_spatial (composed from tt-tensor primitives, differentiated by tt-autograd) with a
hand-written NumPy im2col that does the same arithmetic with no graph. Not a test.

    python packages/tt-spatial/bench/bench_conv.py --threads 1 [--profile]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
# before NumPy: bench_args sets the BLAS thread count
from bench_helpers import bench_args, profile, timings_ms  # noqa: E402

ARGS = bench_args(__doc__, "timed runs per case (median)", profile=True)

import numpy as np  # noqa: E402  (after the thread count is set)
import tt_tensor as tt  # noqa: E402
from tt_spatial import conv2d, max_pool2d  # noqa: E402

# (name, input shape, layer) of the CNN: conv(3->32) -> pool -> conv(32->64) -> pool.
CONV_CASES = [("conv1 3->32 3x3", (64, 3, 32, 32), 32), ("conv2 32->64 3x3", (64, 32, 15, 15), 64)]
POOL_CASES = [("maxpool2 after conv1", (64, 32, 30, 30)),
              ("maxpool2 after conv2", (64, 64, 13, 13))]


# --- the hand-written NumPy reference (same channel-major im2col, no graph) -------------------
def np_conv_fwd(x, w, b):
    B, C, H, W = x.shape
    OC, _, KH, KW = w.shape
    OH, OW = H - KH + 1, W - KW + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (KH, KW), axis=(2, 3))  # (B,C,OH,OW,KH,KW)
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, B * OH * OW)
    out = w.reshape(OC, -1) @ cols + b[:, None]
    return out.reshape(OC, B, OH, OW).transpose(1, 0, 2, 3), cols


def np_conv_bwd(g, x, w, cols, need_dx):
    B, C, H, W = x.shape
    OC, _, KH, KW = w.shape
    OH, OW = H - KH + 1, W - KW + 1
    g2 = g.transpose(1, 0, 2, 3).reshape(OC, -1)  # (OC, B*OH*OW)
    dw, db = (g2 @ cols.T).reshape(w.shape), g2.sum(axis=1)
    if not need_dx:
        return None, dw, db
    dcols = (w.reshape(OC, -1).T @ g2).reshape(C, KH, KW, B, OH, OW)
    dx = np.zeros_like(x)
    for i in range(KH):
        for j in range(KW):
            dx[:, :, i:i + OH, j:j + OW] += dcols[:, i, j].transpose(1, 0, 2, 3)
    return dx, dw, db


def np_pool_fwd_bwd(x, g):
    """2x2 max pool, window offsets first (reducing over trailing size-2 axes is ~30x slower)."""
    B, C, H, W = x.shape
    OH, OW = H // 2, W // 2
    tiles = x[:, :, :OH * 2, :OW * 2].reshape(B, C, OH, 2, OW, 2)
    stacked = tiles.transpose(3, 5, 0, 1, 2, 4).reshape(4, B, C, OH, OW)
    out = stacked.max(axis=0)
    mask = stacked == out
    dstacked = mask * (g / mask.sum(axis=0, dtype=g.dtype))
    dx = np.zeros_like(x)
    dx[:, :, :OH * 2, :OW * 2] = (
        dstacked.reshape(2, 2, B, C, OH, OW).transpose(2, 3, 4, 0, 5, 1)
        .reshape(B, C, OH * 2, OW * 2))
    return dx


# --- the cases ----------------------------------------------------------------------------
def bench_conv(name, shape, oc, rng, repeats):
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((oc, shape[1], 3, 3), dtype=np.float32) * 0.1
    b = np.zeros(oc, np.float32)
    need_dx = shape[1] != 3  # conv1 reads the images, which need no gradient
    xt = tt.from_numpy(x).requires_grad_(need_dx)
    wt, bt = tt.from_numpy(w).requires_grad_(), tt.from_numpy(b).requires_grad_()
    g = rng.standard_normal((shape[0], oc, shape[2] - 2, shape[3] - 2), dtype=np.float32)

    def tiny():
        conv2d(xt, wt, bt).backward(g)

    def numpy_ref():
        out, cols = np_conv_fwd(x, w, b)
        np_conv_bwd(g, x, w, cols, need_dx)

    return name, timings_ms(tiny, repeats), timings_ms(numpy_ref, repeats)


def bench_pool(name, shape, rng, repeats):
    x = rng.standard_normal(shape, dtype=np.float32)
    xt = tt.from_numpy(x).requires_grad_()
    g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2), dtype=np.float32)
    return (name, timings_ms(lambda: max_pool2d(xt, 2).backward(g), repeats),
            timings_ms(lambda: np_pool_fwd_bwd(x, g), repeats))


def profile_all(rng):
    for name, shape, oc in CONV_CASES:
        x = tt.from_numpy(rng.standard_normal(shape, dtype=np.float32))
        x.requires_grad_(shape[1] != 3)
        w = tt.from_numpy(rng.standard_normal((oc, shape[1], 3, 3), dtype=np.float32))
        b = tt.zeros(oc, requires_grad=True)
        g = rng.standard_normal((shape[0], oc, shape[2] - 2, shape[3] - 2), dtype=np.float32)
        profile(name, lambda x: conv2d(x, w.requires_grad_(), b), x, g, width=16)
    for name, shape in POOL_CASES:
        x = tt.from_numpy(rng.standard_normal(shape, dtype=np.float32)).requires_grad_()
        g = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2), dtype=np.float32)
        profile(name, lambda x: max_pool2d(x, 2), x, g, width=16)


def main():
    rng = np.random.default_rng(0)
    print(f"batch 64, float32, {ARGS.threads} BLAS thread(s), {ARGS.repeats} runs: "
          "best / median ms of forward + backward")
    print(f"{'layer':<24}{'tt_spatial':>16}{'NumPy reference':>18}{'ratio (best)':>14}")
    rows = [bench_conv(n, s, oc, rng, ARGS.repeats) for n, s, oc in CONV_CASES]
    rows += [bench_pool(n, s, rng, ARGS.repeats) for n, s in POOL_CASES]
    for name, ours, ref in rows:
        print(f"{name:<24}{ours[0]:>8.2f} /{ours[1]:>6.2f}{ref[0]:>10.2f} /{ref[1]:>6.2f}"
              f"{ours[0] / ref[0]:>14.2f}")
    if ARGS.profile:
        profile_all(rng)


if __name__ == "__main__":
    main()

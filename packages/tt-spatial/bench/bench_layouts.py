"""Why tt_spatial lays its buffers out as it does: plain-NumPy timings of the alternatives.

1. im2col as (B*OH*OW, C*KH*KW) (rows = receptive fields) vs (C*KH*KW, B*OH*OW) (columns):
   the copy that builds it, the two matmuls, and the scatter-add of its gradient.
2. Pooling: reducing (B, C, OH, KH, OW, KW) over its short axes vs stacking the KH*KW window
   offsets first and reducing over axis 0.

    python packages/tt-spatial/bench/bench_layouts.py --threads 1
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
# before NumPy: bench_args sets the BLAS thread count
from bench_helpers import bench_args, timings_ms  # noqa: E402

ARGS = bench_args(__doc__, "timed runs per case (best of)")

import numpy as np  # noqa: E402  (after the thread count is set)


def best_ms(fn):
    return timings_ms(fn, ARGS.repeats)[0]


def scatter_add(dwin, shape, k):
    """The gradient of a sliding-window view: one strided add per kernel offset."""
    dx = np.zeros(shape, np.float32)
    OH, OW = dwin.shape[2], dwin.shape[3]
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + OH, j:j + OW] += dwin[..., i, j]
    return dx


def im2col_layouts(B, C, H, OC, k=3):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, C, H, H), dtype=np.float32)
    w = rng.standard_normal((OC, C * k * k), dtype=np.float32)
    OH = H - k + 1
    N = B * OH * OH
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # (B,C,OH,OW,k,k)
    rows = win.transpose(0, 2, 3, 1, 4, 5).reshape(N, C * k * k)
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * k * k, N)
    g_rows = rng.standard_normal((N, OC), dtype=np.float32)
    g_cols = np.ascontiguousarray(g_rows.T)
    d_rows = (g_rows @ w).reshape(B, OH, OH, C, k, k).transpose(0, 3, 1, 2, 4, 5)
    d_cols = (w.T @ g_cols).reshape(C, k, k, B, OH, OH).transpose(3, 0, 4, 5, 1, 2)
    return {
        "rows (B*OH*OW, C*KH*KW)": [
            best_ms(lambda: win.transpose(0, 2, 3, 1, 4, 5).reshape(N, C * k * k)),
            best_ms(lambda: rows @ w.T), best_ms(lambda: rows.T @ g_rows),
            best_ms(lambda: g_rows @ w), best_ms(lambda: scatter_add(d_rows, x.shape, k))],
        "cols (C*KH*KW, B*OH*OW)": [
            best_ms(lambda: win.transpose(1, 4, 5, 0, 2, 3).reshape(C * k * k, N)),
            best_ms(lambda: w @ cols), best_ms(lambda: g_cols @ cols.T),
            best_ms(lambda: w.T @ g_cols), best_ms(lambda: scatter_add(d_cols, x.shape, k))],
    }


def pooling(B, C, H):
    x = np.random.default_rng(0).standard_normal((B, C, H, H), dtype=np.float32)
    tiles = x.reshape(B, C, H // 2, 2, H // 2, 2)
    return {
        "max over axes (3, 5)": best_ms(lambda: tiles.max(axis=(3, 5))),
        "offsets first, max over axis 0": best_ms(
            lambda: tiles.transpose(3, 5, 0, 1, 2, 4).reshape(4, B, C, H // 2, H // 2).max(0)),
    }


def main():
    print(f"plain NumPy, float32, {ARGS.threads} BLAS thread(s), best of {ARGS.repeats} (ms)")
    header = ["copy", "out=W@cols", "dW", "dcols", "col2im"]
    for B, C, H, OC in [(64, 3, 32, 32), (64, 32, 15, 64)]:
        print(f"conv {C}->{OC} 3x3 on ({B}, {C}, {H}, {H}): " + " | ".join(header))
        for layout, times in im2col_layouts(B, C, H, OC).items():
            print(f"  {layout:<26}" + " ".join(f"{t:>9.2f}" for t in times))
    for B, C, H in [(64, 32, 30), (64, 64, 12)]:
        print(f"2x2 max pool of ({B}, {C}, {H}, {H}), forward:")
        for name, t in pooling(B, C, H).items():
            print(f"  {name:<32}{t:>8.2f}")


if __name__ == "__main__":
    main()

"""What the packages' bench scripts share (they run from a checkout, never from a wheel):
the command line with the BLAS thread count set before NumPy loads, a timer, and a table of
milliseconds per primitive read through tt_tensor's op hooks.

A bench script puts this folder on sys.path and imports it before NumPy:

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
    from bench_helpers import bench_args  # noqa: E402
    ARGS = bench_args(__doc__, profile=True)
"""

import argparse
import os
import time


def bench_args(doc, repeats_help="timed runs per case", profile=False):
    """Parse --threads, --repeats (and --profile) and set the BLAS thread count; NumPy must
    not be imported yet, since BLAS reads the count when it loads."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (set before import)")
    parser.add_argument("--repeats", type=int, default=20, help=repeats_help)
    if profile:
        parser.add_argument("--profile", action="store_true", help="also print time per primitive")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    return args


def timings_ms(fn, repeats):
    """(best, median) wall time of fn in ms after one warm-up call; the best is the least
    disturbed by other load."""
    import numpy as np  # here, so that importing this module leaves the thread count alone

    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times), 1e3 * float(np.median(times))


def profile(name, layer, x, g, steps=10, width=10):
    """Print the milliseconds per primitive (forward and backward) of one step
    `layer(x).backward(g)`, averaged over `steps`, most expensive first."""
    import tt_tensor as tt

    totals = {}

    def hook(event):
        key = (event.op, event.phase)
        totals[key] = totals.get(key, 0.0) + 1e3 * event.seconds

    with tt.add_op_hook(hook):
        for _ in range(steps):
            layer(x).backward(g)
    print(f"{name}, per primitive ({steps} steps averaged):")
    for (op, phase), ms in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {op:>{width}} {phase:>8} {ms / steps:7.2f} ms")

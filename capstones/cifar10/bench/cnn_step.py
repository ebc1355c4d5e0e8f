"""Benchmark `cnn`: one training step of the CIFAR-10 course CNN, TinyTorch vs PyTorch.

conv(3->32, 3x3)-BN-ReLU-maxpool2-conv(32->64, 3x3)-BN-ReLU-maxpool2-Linear(2304->256)-ReLU-
Linear(256->10), cross-entropy, Adam, batch 64, float32. Target: TinyTorch's throughput at
least 0.5x PyTorch's at the same thread count. Run it through the runner:
`python bench/run.py cnn` (PyTorch rows appear when torch is importable).

FLOPs of one step (`step_flops`, the `flops` of each row): the multiply-adds of the convolutions
and Linears, 2 FLOPs each, forward and backward. A layer of forward cost F costs F more for its
weight gradient and F more for its input gradient, except conv1, whose input (the images) needs
none: 2 * 1.56 M + 3 * (6.23 M + 1.18 M + 0.005 M) = 25.4 MFLOP per image, 1.62 GFLOP per batch
of 64. BatchNorm, ReLU, pooling, the loss and Adam (a few FLOPs per element, under 2% of that)
are not counted: the figure is the matmul work, the part BLAS can run at its peak.
"""

import importlib.util
import time

import numpy as np

BATCH = 64
CASE = "CIFAR-10 course CNN, batch 64, Adam, float32"
BASELINE = "torch"


def _conv_flops(c_in, c_out, k, out_hw):
    """Multiply-adds of one k x k convolution per image, as FLOPs: 2 * OC * OH * OW * C*K*K."""
    return 2 * c_out * out_hw * out_hw * c_in * k * k


def step_flops(batch=BATCH):
    """FLOPs of one training step of the course CNN (see the module docstring)."""
    conv1 = _conv_flops(3, 32, 3, 30)             # (3, 32, 32) -> (32, 30, 30)
    conv2 = _conv_flops(32, 64, 3, 13)            # (32, 15, 15) -> (64, 13, 13)
    fc1, fc2 = 2 * 2304 * 256, 2 * 256 * 10
    # forward + weight gradient for all; + input gradient for all but conv1 (no image grad)
    return batch * (2 * conv1 + 3 * (conv2 + fc1 + fc2))


def make_batch(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((BATCH, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, BATCH))


def tinytorch_model():
    """The course CNN in TinyTorch and its Adam optimizer (cnn_profile.py profiles them)."""
    from tt_layers import Flatten, Linear, ReLU
    from tt_networks import Sequential
    from tt_normalization import BatchNorm2d
    from tt_optimizers import Adam
    from tt_spatial import Conv2d, MaxPool2d

    model = Sequential(Conv2d(3, 32, 3), BatchNorm2d(32), ReLU(), MaxPool2d(2),
                       Conv2d(32, 64, 3), BatchNorm2d(64), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(2304, 256), ReLU(), Linear(256, 10))
    return model, Adam(model.parameters(), lr=1e-3)


def tinytorch_step_fn(x, y, model=None, opt=None):
    """step() of one training step on (x, y); model and opt default to tinytorch_model()."""
    import tt_setup
    from tt_networks import cross_entropy
    from tt_tensor import from_numpy

    tuned = tt_setup.tune_allocator()  # what the capstone does; see tt_setup's README
    if model is None:
        model, opt = tinytorch_model()
    xt, yt = from_numpy(x), from_numpy(y)

    def step():
        loss = cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, f"allocator tuned: {tuned}"


def torch_step_fn(x, y):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2304, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = nn.functional.cross_entropy(model(xt), yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step, f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)"


def run(steps=60, warmup=5):
    """Rows {case, impl, median_ms, p10_ms, p90_ms, steps, note}; note gives images/s."""
    x, y = make_batch()
    builders = {"tinytorch": tinytorch_step_fn}
    if importlib.util.find_spec("torch") is not None:
        builders["torch"] = torch_step_fn
    built = {impl: build(x, y) for impl, build in builders.items()}
    for step, _ in built.values():
        for _ in range(warmup):
            step()
    times = {impl: [] for impl in built}
    for _ in range(steps // 5):  # interleaved rounds: load changes hit both alike
        for impl, (step, _) in built.items():
            for _ in range(5):
                start = time.perf_counter()
                step()
                times[impl].append((time.perf_counter() - start) * 1e3)
    rows = []
    for impl, t in times.items():
        t = np.array(t)
        rows.append({"case": CASE, "impl": impl, "steps": len(t), "median_ms": float(np.median(t)),
                     "flops": step_flops(),
                     "p10_ms": float(np.percentile(t, 10)), "p90_ms": float(np.percentile(t, 90)),
                     "note": f"{BATCH * 1e3 / np.median(t):.0f} img/s; {built[impl][1]}"})
    return rows

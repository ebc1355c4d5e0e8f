"""Benchmark `mlp`: one training step of an MLP, TinyTorch vs hand-written NumPy (vs PyTorch).

The step: forward 784-256-256-10 with ReLU, mean cross-entropy, backward, plain SGD update,
batch 128, float32. The NumPy step writes out by hand exactly what autograd derives, so the
ratio TinyTorch / NumPy is the price of the engine (graph recording, rule dispatch, extra
copies). Run it through the runner: `python bench/run.py mlp`.
"""

import time

import numpy as np

SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01
CASE = "784-256-256-10, batch 128, float32"


def make_problem(seed=0):
    """Inputs, labels and PyTorch-style initial weights [(W, b), ...], all float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        params.append((w, b))
    return x, y, params


# --- hand-written NumPy --------------------------------------------------------------------
def numpy_step_fn(x, y, params):
    """A step closure over copies of `params`; returns (step, flat list of parameter arrays)."""
    (w1, b1), (w2, b2), (w3, b3) = [(w.copy(), b.copy()) for w, b in params]
    B = x.shape[0]
    rows = np.arange(B)

    def step():
        h1 = x @ w1.T + b1  # (B, 256)
        a1 = np.maximum(h1, 0)
        h2 = a1 @ w2.T + b2  # (B, 256)
        a2 = np.maximum(h2, 0)
        z = a2 @ w3.T + b3  # (B, 10)
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s)[:, 0] - shifted[rows, y])
        dz = e / s  # softmax - one_hot, divided by B (the mean)
        dz[rows, y] -= 1.0
        dz /= B
        dw3, db3, da2 = dz.T @ a2, dz.sum(axis=0), dz @ w3
        dh2 = da2 * (h2 > 0)
        dw2, db2, da1 = dh2.T @ a1, dh2.sum(axis=0), dh2 @ w2
        dh1 = da1 * (h1 > 0)
        dw1, db1 = dh1.T @ x, dh1.sum(axis=0)
        for p, g in ((w1, dw1), (b1, db1), (w2, dw2), (b2, db2), (w3, dw3), (b3, db3)):
            p -= LR * g
        return float(loss)

    return step, [w1, b1, w2, b2, w3, b3]


# --- TinyTorch ---------------------------------------------------------------------------
def _tinytorch_sgd(parameters):
    """tt_optimizers.SGD when installed (what learners use), else the plain in-place update."""
    try:
        from tt_optimizers import SGD
    except ImportError:
        return None, "plain p.data -= lr * grad"
    return SGD(parameters, lr=LR), "tt_optimizers.SGD"


def tinytorch_step_fn(x, y, params):
    from tt_layers import Linear, ReLU
    from tt_networks import Sequential, cross_entropy
    from tt_tensor import tensor

    layers = [Linear(i, o) for i, o in zip(SIZES[:-1], SIZES[1:])]
    for layer, (w, b) in zip(layers, params):
        layer.weight.data[...] = w
        layer.bias.data[...] = b
    model = Sequential(layers[0], ReLU(), layers[1], ReLU(), layers[2])
    parameters = list(model.parameters())
    opt, how = _tinytorch_sgd(parameters)
    xt = tensor(x)

    def step():
        loss = cross_entropy(model(xt), y)
        for p in parameters:
            p.grad = None
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            for p in parameters:
                p.data -= LR * p.grad.data
        return float(loss.data)

    return step, [p.data for p in parameters], how


# --- PyTorch (optional) -------------------------------------------------------------------
def torch_step_fn(x, y, params):
    import torch

    layers = [torch.nn.Linear(i, o) for i, o in zip(SIZES[:-1], SIZES[1:])]
    with torch.no_grad():
        for layer, (w, b) in zip(layers, params):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(),
                                layers[2])
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step, [p.detach().numpy() for p in model.parameters()]


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --- measuring ----------------------------------------------------------------------------
def time_interleaved(steps_by_impl, steps, warmup, rounds=10):
    """Per-step wall times in ms for each impl, taken in interleaved rounds.

    Round-robin timing (steps / rounds steps of each impl per round) spreads any change in
    machine load evenly over the implementations, so their ratio stays fair.
    """
    for step in steps_by_impl.values():
        for _ in range(warmup):
            step()
    times = {impl: [] for impl in steps_by_impl}
    per_round = max(1, steps // rounds)
    for _ in range(rounds):
        for impl, step in steps_by_impl.items():
            for _ in range(per_round):
                start = time.perf_counter()
                step()
                times[impl].append((time.perf_counter() - start) * 1e3)
    return {impl: np.array(t) for impl, t in times.items()}


def check_agreement(builders, x, y, params, n=3):
    """Every implementation takes the same n steps from the same start: same losses, weights."""
    results = {}
    for name, build in builders.items():
        step, arrays = build(x, y, params)[:2]
        losses = [step() for _ in range(n)]
        results[name] = (np.array(losses), [a.copy() for a in arrays])
    ref_losses, ref_arrays = results["numpy"]
    for name, (losses, arrays) in results.items():
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-4, err_msg=f"{name} loss")
        for a, b in zip(arrays, ref_arrays):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"{name} weights")


BASELINE = "numpy"


def run(steps=200, warmup=20):
    """Rows {case, impl, median_ms, p10_ms, p90_ms, steps, note} for numpy, tinytorch, torch."""
    x, y, params = make_problem()
    builders = {"numpy": numpy_step_fn, "tinytorch": tinytorch_step_fn}
    if _torch_available():
        builders["torch"] = torch_step_fn
    check_agreement(builders, x, y, params)
    built = {impl: build(x, y, params) for impl, build in builders.items()}
    times = time_interleaved({impl: b[0] for impl, b in built.items()}, steps, warmup)
    return [{
        "case": CASE, "impl": impl, "steps": len(t),
        "median_ms": float(np.median(t)),
        "p10_ms": float(np.percentile(t, 10)),
        "p90_ms": float(np.percentile(t, 90)),
        "note": built[impl][2] if len(built[impl]) > 2 else "",
    } for impl, t in times.items()]

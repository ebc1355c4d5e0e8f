"""Measurements behind the README: profiler overhead, int8 speed and accuracy, serving.

Every function returns data (dicts); `tinytorch bench` formats them. Times are the minimum
over `repeats` runs, the least disturbed by other processes on the machine.
"""

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tt_generation import generate
from tt_networks import cross_entropy, mlp
from tt_optimizers import Adam
from tt_tensor import Tensor, no_grad, tensor

from .profiler import Profiler
from .quantize import model_size_bytes, quantize_dynamic
from .server import make_server
from .service import ServeLimits


def make_blobs(n, dim=32, classes=10, spread=2.0, seed=0):
    """(x float32 (n, dim), y int64 (n,)): Gaussian clusters (std `spread` per axis) around
    fixed N(0, 1) centres; with the defaults the clusters overlap (best accuracy ~86%), so a
    quantization error can show up as a change in accuracy."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(1234).normal(0, 1, (classes, dim))
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.normal(0, spread, (n, dim))
    return x.astype(np.float32), y.astype(np.int64)


def train_mlp(sizes=(32, 128, 64, 10), steps=300, batch_size=64, lr=3e-3, seed=0):
    """A small MLP trained on make_blobs; returns (model in eval mode, (x_test, y_test))."""
    np.random.seed(seed)  # tt_layers' initialisers draw from NumPy's global generator
    model = mlp(list(sizes))
    x, y = make_blobs(4096, sizes[0], sizes[-1], seed=seed)
    x_test, y_test = make_blobs(2048, sizes[0], sizes[-1], seed=seed + 1)
    opt = Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.integers(0, len(x), batch_size)
        opt.zero_grad()
        cross_entropy(model(tensor(x[idx])), tensor(y[idx])).backward()
        opt.step()
    return model.eval(), (x_test, y_test)


def min_time(fn, repeats=5):
    """The fastest of `repeats` calls of fn(), in seconds."""
    _check_repeats(repeats)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _check_repeats(repeats):
    """No measurement from zero runs: its time would be inf, and every ratio of it nan."""
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")


def profiler_overhead(sizes=(784, 256, 128, 10), batch_size=64, steps=10, repeats=5, seed=0):
    """Seconds per MLP training step (forward, backward, Adam) without and with a Profiler.

    Runs alternate (off, on, off, on, ...) so that a busy machine hurts both alike.
    """
    np.random.seed(seed)
    model = mlp(list(sizes))
    opt = Adam(model.parameters(), lr=1e-3)
    x = tensor(np.random.randn(batch_size, sizes[0]).astype(np.float32))
    y = tensor(np.random.randint(0, sizes[-1], batch_size))

    def run():
        for _ in range(steps):
            opt.zero_grad()
            cross_entropy(model(x), y).backward()
            opt.step()

    def profiled():
        with Profiler(model):
            run()

    _check_repeats(repeats)
    run()  # warm up
    off, on = float("inf"), float("inf")
    for _ in range(repeats):
        off = min(off, min_time(run, 1))
        on = min(on, min_time(profiled, 1))
    return {"model": f"mlp{list(sizes)}", "batch_size": batch_size,
            "step_ms_off": 1e3 * off / steps, "step_ms_on": 1e3 * on / steps,
            "overhead_percent": 100 * (on - off) / off}


def accuracy_of(output, y):
    return float((np.asarray(output).argmax(axis=-1) == y).mean())


def quantization_benchmark(model, x, y=None, computes=("float", "int8"), repeats=5):
    """Rows for float32 and each int8 path: bytes, ms per forward on x, agreement with
    float32 (max |diff|, relative L2 error) and accuracy when labels y are given."""
    model = model.eval()
    x = x if isinstance(x, Tensor) else tensor(x)
    with no_grad():
        reference = model(x).data
        rows = [_quant_row("float32", model, x, y, reference, repeats)]
        for compute in computes:
            qmodel = quantize_dynamic(model, compute=compute)
            rows.append(_quant_row(f"int8 ({compute})", qmodel, x, y, reference, repeats))
    base = rows[0]
    for row in rows:
        row["size_ratio"] = base["bytes"] / row["bytes"]
        row["speedup"] = base["ms"] / row["ms"]
    return rows


def _quant_row(name, model, x, y, reference, repeats):
    out = model(x).data
    diff = out - reference
    row = {"model": name, "bytes": model_size_bytes(model),
           "ms": 1e3 * min_time(lambda: model(x), repeats),
           "max_abs_diff": float(np.abs(diff).max()),
           "relative_error": float(np.linalg.norm(diff) / max(np.linalg.norm(reference), 1e-30))}
    if y is not None:
        row["accuracy"] = accuracy_of(out, y)
    return row


def lm_loss(model, ids, batches=8, batch_size=8, seed=0):
    """Mean next-token cross-entropy of a language model on random windows of `ids`."""
    block = model.config.block_size
    rng = np.random.default_rng(seed)
    ids = np.asarray(ids, dtype=np.int64)
    losses = []
    with no_grad():
        for _ in range(batches):
            starts = rng.integers(0, len(ids) - block - 1, batch_size)
            xb = np.stack([ids[s:s + block] for s in starts])              # (B, T)
            yb = np.stack([ids[s + 1:s + block + 1] for s in starts])      # (B, T)
            logits = model(xb)                                             # (B, T, V)
            V = logits.shape[-1]
            losses.append(cross_entropy(logits.reshape(-1, V), tensor(yb.reshape(-1))).item())
    return float(np.mean(losses))


def generation_speed(model, tokens=100, repeats=3):
    """[(name, tokens per second)] of greedy generation for float32 and the int8 paths."""
    prompt = np.zeros((1, 1), dtype=np.int64)
    rows = []
    for name, m in [("float32", model)] + [
            (f"int8 ({c})", quantize_dynamic(model, compute=c)) for c in ("float", "int8")]:
        seconds = min_time(lambda: generate(m, prompt, tokens, temperature=0), repeats)
        rows.append((name, tokens / seconds))
    return rows


def _post(url, payload, timeout):
    req = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def serve_benchmark(export_dir, n_requests=20, concurrency=(1, 4), max_new_tokens=20,
                    timeout=120.0):
    """For each max_concurrent: wall seconds for n_requests sent at once (loopback only),
    whether all were answered 200, and whether each equals the same server's answer to the
    same request sent alone (same seed -> same text: no state leaks between requests)."""
    rows = []
    for slots in concurrency:
        server = make_server(export_dir, limits=ServeLimits(max_concurrent=slots))
        prompt = server.service.tokenizer.chars[-1]  # any character the model knows
        payloads = [{"prompt": prompt, "max_new_tokens": max_new_tokens, "seed": i}
                    for i in range(n_requests)]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = server.url + "/generate"
            expected = [_post(url, p, timeout)[1].get("text") for p in payloads]
            start = time.perf_counter()
            with ThreadPoolExecutor(n_requests) as pool:
                answers = list(pool.map(lambda p: _post(url, p, timeout), payloads))
            wall = time.perf_counter() - start
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
        rows.append({"max_concurrent": slots, "requests": n_requests, "wall_seconds": wall,
                     "all_ok": all(status == 200 for status, _ in answers),
                     "same_as_sequential": [a.get("text") for _, a in answers] == expected})
    return rows

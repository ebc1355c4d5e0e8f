"""Where the time of one TinyGPT training step goes (the `gpt` benchmark's step).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python capstones/tinygpt/bench/gpt_profile.py
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python capstones/tinygpt/bench/gpt_profile.py

Prints three tables (Markdown) for the step of gpt_step.py (nanoGPT's CPU model: 4 layers,
4 heads, 128 wide, block 64, batch 12, vocab 65; AdamW, clipping, float32, fast paths on),
at the thread count of the environment (BLAS and the fast paths' workers both read it):

1. The step split into its matrix products and everything else. Each round runs one step
   under tt-systems' Profiler (clip_grad_norm_ and the optimizer's step timed apart), then
   replays the step's GEMMs alone at the same shapes and memory layouts (GEMMS below);
   each part's figure is its fastest round (the machine is shared: the fastest is the
   least disturbed), so the parts add up to about one undisturbed step. An op's row is its
   Profiler time minus the GEMMs inside it; "Python and graph" is the profiled step's wall
   time minus its ops, the clipping and the optimizer (node recording, module calls, the
   engine's sweep and its gradient sums, and the Profiler's own hooks). The sgemm floor is
   the step's FLOPs (gpt_step.step_flops) at this process's sgemm peak (bench/run.py).
2. tt-systems' Profiler, per (op, phase), for one step.
3. cProfile's functions by own time (tottime), per step.

Times depend on the load of the machine: read the shares, and run it on an idle machine.
"""

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
from tt_tensor import FastPathSwitch

HERE = Path(__file__).resolve().parent


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpt_step = _load(HERE / "gpt_step.py", "gpt_step")
runner = _load(HERE.parents[2] / "bench" / "run.py", "bench_run")
# the CNN profile's timing loop and cProfile table, shared rather than written twice
cnn_profile = _load(HERE.parents[1] / "cifar10" / "bench" / "cnn_profile.py", "cnn_profile")
timed, cprofile_table = cnn_profile.timed, cnn_profile.cprofile_table

B, T, C, H, L, V = 12, 64, 128, 4, 4, 65
N, D = B * T, C // H


def rows(m, k):
    """A row-major (m, k) float32 matrix."""
    return np.random.default_rng(m * k).random((m, k), dtype=np.float32)


def cols(m, k):
    """An (m, k) view of a row-major (k, m) matrix: column-major, as W.T is."""
    return rows(k, m).T


def heads():
    """(B, H, T, D) view of a row-major (B, T, H, D) array: q, k, v and y's gradient after
    the head split (reshape, then permute)."""
    return rows(N, C).reshape(B, T, H, D).transpose(0, 2, 1, 3)


def weights():
    """(B, H, T, T) row-major: the attention weights and the scores' gradient."""
    return rows(B * H * T, T).reshape(B, H, T, T)


def linear(name, n_in, n_out):
    """y = x @ W.T; backward dx = g @ W and dW = (g.T @ x) (tt-autograd's matmul rule lays
    W.T's gradient out like W.T, i.e. computes g.T @ x). Each a `matmul` op."""
    return [("matmul", name, "forward", lambda: (rows(N, n_in), cols(n_in, n_out))),
            ("matmul", name, "backward", lambda: (rows(N, n_out), rows(n_out, n_in))),
            ("matmul", name, "backward", lambda: (cols(n_out, N), rows(N, n_in)))]


def attention_op():
    """The op that runs attention's products: tt-attention's fused op where the installed
    tt-attention has one (it splits the batch over its worker threads), else `matmul` (one
    batched product per matmul op, as the composition of scaled_dot_product_attention)."""
    import tt_attention

    fused = hasattr(tt_attention, "ScaledDotProductAttention")
    return "ScaledDotProductAttention" if fused else "matmul"


def attention_products():
    """The batched (B, H) products of one layer's attention: s = q k^T, y = w v; backward
    dv = w^T g, dw = g v^T, dq = ds k, dk = ds^T q (the matmul rule computes the same six
    with the same layouts)."""
    op = attention_op()
    return [(op, "attention q k^T", "forward", lambda: (heads(), heads().swapaxes(-1, -2))),
            (op, "attention w v", "forward", lambda: (weights(), heads())),
            (op, "attention w v", "backward", lambda: (weights().swapaxes(-1, -2), heads())),
            (op, "attention w v", "backward", lambda: (heads(), heads().swapaxes(-1, -2))),
            (op, "attention q k^T", "backward", lambda: (weights(), heads())),
            (op, "attention q k^T", "backward", lambda: (weights().swapaxes(-1, -2), heads()))]


def layer_gemms():
    products = []
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        products += linear(f"Linear {C}->{C} ({name})", C, C)
    products += attention_products()
    products += linear(f"Linear {C}->{4 * C} (c_fc)", C, 4 * C)
    products += linear(f"Linear {4 * C}->{C} (c_proj)", 4 * C, C)
    return products


# (op that runs it, group, phase, operand maker) of every product of one step: L layers and
# the tied head
GEMMS = layer_gemms() * L + linear(f"lm_head {C}->{V}", C, V)
# the attention's products run as its fused op runs them: the batch cut into one chunk per
# worker thread (tt_tensor.FastPathSwitch, as tt-attention's switch), each chunk on its own
# thread; the Linears' products are one BLAS call each (BLAS's own threads)
REPLAY = FastPathSwitch("gpt_profile", "0")
ATTENTION_CHUNK = 1 << 15  # tt-attention's elements per worker


def replay(op, a, b):
    """One product as the step runs it (see REPLAY)."""
    if op != "ScaledDotProductAttention":
        return a @ b
    out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]),
                   dtype=a.dtype)
    REPLAY.run_chunks(lambda lo, hi: np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi]), a.shape[0],
                      B * H * T * T, ATTENTION_CHUNK)
    return out


def measure(steps):
    """`steps` rounds of: one step under its own Profiler, then each GEMM replayed once.

    Returns ({part: fastest seconds}, the last step's Profiler); the keys are (op, phase)
    for the ops, ("gemm", op, group, phase) for the GEMMs, "clip", "optimizer" and "rest".
    """
    from tt_networks import cross_entropy
    from tt_optimizers import clip_grad_norm_
    from tt_systems import Profiler

    model, opt, next_batch = gpt_step.tinytorch_parts()
    gemms = [(op, group, phase, *make()) for op, group, phase, make in GEMMS]

    def step(parts):
        ids, targets = next_batch()
        loss = cross_entropy(model(ids).reshape(N, V), targets)
        opt.zero_grad()
        loss.backward()
        start = time.perf_counter()
        clip_grad_norm_(model.parameters(), 1.0)
        parts["clip"] = time.perf_counter() - start
        start = time.perf_counter()
        opt.step()
        parts["optimizer"] = time.perf_counter() - start

    for _ in range(3):
        step({})
    rounds = []
    for _ in range(steps):
        parts = {}
        start = time.perf_counter()
        with Profiler(model) as prof:
            step(parts)
        wall = time.perf_counter() - start
        for r in prof.records:
            parts[(r.name, r.phase)] = parts.get((r.name, r.phase), 0.0) + r.seconds
        parts["rest"] = wall - sum(parts.values())
        for op, group, phase, a, b in gemms:
            key = ("gemm", op, group, phase)
            parts[key] = parts.get(key, 0.0) + float(timed(lambda: replay(op, a, b), 1)[0])
        rounds.append(parts)
    return {key: min(r[key] for r in rounds) for key in rounds[0]}, prof


# (part, the ops it sums, phase or None for both): the rows of the split table after the
# GEMMs; an op's time here is its Profiler time minus the GEMMs replayed for it
PARTS = [
    ("matmul ops around their GEMMs (layouts, checks, graph)", ("matmul",), None),
    ("fused attention around its GEMMs: softmax, threads", ("ScaledDotProductAttention",),
     None),
    ("LayerNorm forward", ("LayerNormRows",), "forward"),
    ("LayerNorm backward", ("LayerNormRows",), "backward"),
    ("GELU forward", ("GELUTanh",), "forward"),
    ("GELU backward", ("GELUTanh",), "backward"),
    ("attention softmax forward", ("ScaledMaskedSoftmax",), "forward"),
    ("attention softmax backward", ("ScaledMaskedSoftmax",), "backward"),
    ("head split and merge (reshape, permute copies)", ("reshape", "permute"), None),
    ("residual and embedding adds", ("add",), None),
    ("embedding lookups and their backward", ("getitem",), None),
    ("loss (cross-entropy)", ("CrossEntropyRows",), None),
]


def split_table(parts, peak, times):
    """Markdown: the step's parts, ms per step and share of their sum."""
    gemm = {key[1:]: v for key, v in parts.items() if key[0] == "gemm"}   # (op, group, phase)
    ops = {key: v for key, v in parts.items() if isinstance(key, tuple) and key[0] != "gemm"}
    rows_ = [("GEMMs (BLAS sgemm, replayed alone)", sum(gemm.values()))]
    rows_ += [(f"- {group}, {phase}", s) for (_, group, phase), s in sorted(gemm.items())]
    gemm_total, used = rows_[0][1], set()
    for part, names, phase in PARTS:
        keys = [k for k in ops if k[0] in names and phase in (None, k[1])]
        used.update(keys)
        inside = sum(s for (op, _, gemm_phase), s in gemm.items()
                     if op in names and phase in (None, gemm_phase))
        rows_.append((part, sum(ops[k] for k in keys) - inside))
    rows_.append(("other ops", sum(v for k, v in ops.items() if k not in used)))
    rows_.append(("clip_grad_norm_", parts["clip"]))
    rows_.append(("optimizer: AdamW step", parts["optimizer"]))
    rows_.append(("Python and graph: node recording, module calls, the engine and its "
                  "gradient sums (with the Profiler's hooks)", parts["rest"]))
    total = sum(seconds for part, seconds in rows_ if not part.startswith("- "))
    flops = gpt_step.step_flops()
    lines = [f"threads {os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}; parts summed: "
             f"{total * 1e3:.2f} ms (the step without the Profiler: fastest "
             f"{times.min() * 1e3:.2f} ms, median {np.median(times) * 1e3:.2f} ms); the "
             f"step's GEMMs {gemm_total * 1e3:.2f} ms ({flops / gemm_total / 1e9:.1f} GFLOP/s); "
             f"sgemm floor (FLOPs / peak {peak:.1f} GFLOP/s) {flops / peak / 1e6:.2f} ms", "",
             "| part | ms per step | share |", "|---|---:|---:|"]
    lines += [f"| {part} | {s * 1e3:.2f} | {s / total:.0%} |" for part, s in rows_]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="rounds per measurement")
    parser.add_argument("--top", type=int, default=20, help="cProfile rows")
    args = parser.parse_args(argv)
    from tt_setup import tune_allocator

    tune_allocator()  # as train.py and the benchmark do
    step = gpt_step.tinytorch_step_fn()
    timed(step, 5)
    times = timed(step, args.steps)
    parts, prof = measure(args.steps)
    peak = runner.sgemm_peak()
    print(f"## The step split (each part: its fastest of {args.steps} rounds)\n")
    print(split_table(parts, peak, times))
    print("\n## tt-systems Profiler, per op, one step\n")
    print(prof.table(top=None))
    print("\n## cProfile, by own time\n")
    print(cprofile_table(step, args.steps, args.top))


if __name__ == "__main__":
    sys.exit(main())

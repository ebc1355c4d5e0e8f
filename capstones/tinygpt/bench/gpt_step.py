"""Benchmark `gpt`: one training step of nanoGPT's Shakespeare-char CPU model in TinyTorch.

The step of capstones/tinygpt/train.py: GPT 4 layers x 4 heads x 128 wide, block 64, batch 12,
vocab 65, no biases, dropout 0; forward, cross-entropy, backward, clip_grad_norm_(1.0), AdamW
with decay groups. PyTorch is not a dependency: its row is the number recorded in issue #6 on
this machine (torch 2.13.0, same config; 71 ms at 1 thread, 44 ms at 2), marked as recorded;
when `import torch` works, a live PyTorch row (nanoGPT's model, torch_equivalence.py) is
measured too, interleaved with TinyTorch's steps, and becomes the baseline.
Run it through the runner: `python bench/run.py gpt`.

FLOPs of one step (`step_flops`, the `flops` of each row): the matmuls, 2 FLOPs per
multiply-add, N = B*T = 768 positions. Per layer forward: q, k, v and the output projection
2*N*4*C^2, the MLP 2*N*8*C^2, the attention scores q k^T and their product with v
2 * 2*B*T^2*C (dense: the masked half is computed too, as TinyTorch and PyTorch both do);
the tied head 2*N*C*V. Backward is twice the forward (input and weight gradient of each
product; the embedding lookups have no matmul). 3 * (4 * 327.2 M + 12.8 M) = 3.96 GFLOP.
LayerNorm, GELU, softmax, the loss and AdamW are not counted.
"""

import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

CASE = "nanoGPT shakespeare-char step: 4L 4H 128C, B 12, T 64"
RECORDED = "torch 2.13.0 (recorded)"
TORCH_RECORDED_MS = {1: 71.0, 2: 44.0}  # issue #6, measured on this machine
HAVE_TORCH = importlib.util.find_spec("torch") is not None
BASELINE = "torch" if HAVE_TORCH else RECORDED


def step_flops(B=12, T=64, C=128, n_layer=4, V=65):
    """FLOPs of one training step (see the module docstring)."""
    N = B * T
    per_layer = 2 * N * 12 * C * C + 4 * B * T * T * C
    return 3 * (n_layer * per_layer + 2 * N * C * V)


def tinytorch_parts(seed=0):
    """(model, optimizer, next_batch) of the step: the GPT, AdamW with decay groups, and a
    function returning the next (ids (B, T), targets (B*T,)) drawn from fixed random data."""
    from tt_optimizers import AdamW
    from tt_regularization import param_groups_for_weight_decay
    from tt_transformers import GPT, GPTConfig

    np.random.seed(seed)
    model = GPT(GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128))
    optimizer = AdamW(param_groups_for_weight_decay(model, 0.1), lr=1e-3, betas=(0.9, 0.99))
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 65, 100_000)

    def next_batch():
        starts = rng.integers(0, len(data) - 65, 12)
        pos = starts[:, None] + np.arange(64)                    # (B, T)
        return data[pos], data[pos + 1].reshape(768)

    return model, optimizer, next_batch


def tinytorch_step_fn(seed=0):
    from tt_networks import cross_entropy
    from tt_optimizers import clip_grad_norm_

    model, optimizer, next_batch = tinytorch_parts(seed)

    def step():
        ids, targets = next_batch()
        logits = model(ids)                                      # (B, T, V)
        loss = cross_entropy(logits.reshape(768, 65), targets)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    return step


def torch_step_fn(seed=0):
    """The same step in PyTorch: nanoGPT's model (torch_equivalence.TorchGPT), torch AdamW."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from torch_equivalence import TorchGPT, torch_optimizer
    from tt_transformers import GPTConfig

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from train import TrainConfig

    torch.manual_seed(seed)
    model = TorchGPT(GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128))
    optimizer = torch_optimizer(model, TrainConfig())
    data = torch.from_numpy(np.random.default_rng(seed).integers(0, 65, 100_000))

    def step():
        starts = torch.randint(0, len(data) - 65, (12,))
        pos = starts[:, None] + torch.arange(64)
        loss = model(data[pos], data[pos + 1])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    return step


def time_interleaved(steps_by_impl, steps, warmup, rounds=10):
    """Per-step ms for each impl, in alternating rounds so machine load hits all alike."""
    for step in steps_by_impl.values():
        for _ in range(warmup):
            step()
    times = {impl: [] for impl in steps_by_impl}
    for _ in range(rounds):
        for impl, step in steps_by_impl.items():
            for _ in range(max(1, steps // rounds)):
                start = time.perf_counter()
                step()
                times[impl].append((time.perf_counter() - start) * 1e3)
    return {impl: np.array(t) for impl, t in times.items()}


def run(steps=200, warmup=20):
    from tt_setup import tune_allocator

    tune_allocator()  # as train.py does: freed arrays stay in the process (both impls)
    impls = {"tinytorch": tinytorch_step_fn()}
    if HAVE_TORCH:
        impls["torch"] = torch_step_fn()
    rows = [{"case": CASE, "impl": impl, "steps": len(t), "median_ms": float(np.median(t)),
             "flops": step_flops(), "p10_ms": float(np.percentile(t, 10)),
             "p90_ms": float(np.percentile(t, 90)),
             "note": f"{768 / np.median(t) * 1e3:.0f} tokens/s"}
            for impl, t in time_interleaved(impls, steps, warmup).items()]
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    if threads in TORCH_RECORDED_MS:
        rows.append({"case": CASE, "impl": RECORDED, "steps": 0,
                     "median_ms": TORCH_RECORDED_MS[threads],
                     "note": "recorded in issue #6, not re-measured"})
    return rows

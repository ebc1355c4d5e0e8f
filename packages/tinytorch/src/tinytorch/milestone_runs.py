"""The training recipes behind the three milestones (public tt_* names only).

Imported only when a milestone runs, so `tinytorch` itself needs nothing beyond tt-setup.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
from pathlib import Path

import numpy as np


def autograd_available() -> bool:
    if importlib.util.find_spec("tt_autograd") is None:
        return False
    return hasattr(importlib.import_module("tt_autograd"), "backward")


def train_xornet(s) -> tuple[float, float, str]:
    """XORNet's capstone loop: (accuracy, final loss, gradient method)."""
    from tqdm import tqdm
    from tt_networks import accuracy, binary_cross_entropy_with_logits, numerical_gradient
    from tt_tensor import float32, no_grad, tensor

    x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float32)   # (4, 2)
    y = tensor([[0], [1], [1], [0]], dtype=float32)               # (4, 1)
    model = s.factories.xornet()
    method = "backprop" if autograd_available() else "numerical"

    def loss_fn():
        return binary_cross_entropy_with_logits(model(x), y)

    for _ in tqdm(range(s.budget.xor_steps), desc="milestone 1: XORNet", disable=not s.progress):
        params = list(model.parameters())
        if method == "backprop":
            model.zero_grad()
            loss_fn().backward()
            grads = [p.grad.data for p in params]
        else:
            grads = numerical_gradient(loss_fn, params)
        for param, grad in zip(params, grads):
            param.data -= 1.0 * grad  # plain SGD, lr 1.0 (the capstone's default)
    with no_grad():
        logits = model(x)                                         # (4, 1)
        loss = binary_cross_entropy_with_logits(logits, y).item()
    return float(accuracy(logits, y, threshold=0.0)), float(loss), method


def train_cifar(root: Path, s) -> tuple[float, float, int, list[dict]]:
    """The course CNN, Adam with a one-cycle schedule, no augmentation.

    Returns (test accuracy, seconds, test images, the epoch lines of its metrics.jsonl).
    """
    from tt_dataloader import CIFAR10, DataLoader, Normalize
    from tt_networks import cross_entropy
    from tt_optimizers import Adam, OneCycleLR
    from tt_training import Trainer, TrainerConfig

    from .milestones import CIFAR_MEAN, CIFAR_STD

    b = s.budget
    start = time.perf_counter()
    train = CIFAR10(root, train=True, transform=Normalize(CIFAR_MEAN, CIFAR_STD))
    test = CIFAR10(root, train=False, transform=Normalize(CIFAR_MEAN, CIFAR_STD))
    train.data, train.targets = train.data[:b.cifar_train_images], train.targets[
        :b.cifar_train_images]
    if b.cifar_test_images is not None:
        test.data, test.targets = test.data[:b.cifar_test_images], test.targets[
            :b.cifar_test_images]
    train_loader = DataLoader(train, b.cifar_batch_size, shuffle=True, drop_last=True,
                              seed=s.seed)
    test_loader = DataLoader(test, 500)
    model = s.factories.cifar()
    optimizer = Adam(model.parameters(), lr=2e-3)
    scheduler = OneCycleLR(optimizer, max_lr=2e-3, epochs=max(b.cifar_epochs, 1),
                           steps_per_epoch=max(len(train_loader), 1))
    run_dir = s.out / "cifar10-run"  # the Trainer's checkpoint and metrics.jsonl
    config = TrainerConfig(epochs=b.cifar_epochs, scheduler_interval="step",
                           checkpoint_dir=str(run_dir), progress=s.progress)
    # No validation loader: the test split is evaluated once, after the last epoch.
    trainer = Trainer(model, optimizer, cross_entropy, train_loader, None, scheduler,
                      config=config)
    trainer.fit()
    accuracy = trainer.evaluate(test_loader)["accuracy"]
    return float(accuracy), time.perf_counter() - start, len(test.targets), epoch_lines(run_dir)


def epoch_lines(run_dir: Path) -> list[dict]:
    """The per-epoch records of the Trainer's metrics.jsonl (tt-training's documented schema)."""
    from tt_training import METRICS_FILE, read_metrics

    path = run_dir / METRICS_FILE
    if not path.is_file():  # no epoch ran (a zero budget): nothing was logged
        return []
    keys = ("epoch", "step", "lr", "train_loss", "train_accuracy", "seconds")
    return [{k: line[k] for k in keys if k in line} for line in read_metrics(path)
            if line.get("kind") == "epoch"]


def lm_loss(model, x, y):
    """Mean next-character cross-entropy: logits (B, T, V) against targets (B, T)."""
    from tt_networks import cross_entropy

    logits = model(x)                                             # (B, T, V)
    B, T, V = logits.shape
    return cross_entropy(logits.reshape(B * T, V), y.reshape(B * T))


def lr_at(step: int, steps: int, peak: float) -> float:
    """20 linear warm-up steps, then cosine decay from peak to peak / 10."""
    warmup = min(20, max(steps // 10, 1))
    if step < warmup:
        return peak * (step + 1) / (warmup + 1)
    ratio = (step - warmup) / max(1, steps - warmup)
    return peak / 10 + 0.5 * (1 + math.cos(math.pi * ratio)) * (peak - peak / 10)


def val_loss(model, ids: np.ndarray, block: int) -> float:
    """Mean loss over every non-overlapping window of `ids` (no sampling noise)."""
    from tt_tensor import no_grad, tensor

    n = (len(ids) - 1) // block
    starts = np.arange(n) * block
    total = 0.0
    model.eval()
    with no_grad():
        for i in range(0, n, 64):
            rows = starts[i:i + 64, None] + np.arange(block)          # (b, T) positions
            x, y = tensor(ids[rows]), tensor(ids[rows + 1])
            total += lm_loss(model, x, y).item() * len(rows)
    model.train()
    return total / max(n, 1)


def train_tinygpt(path: Path, s) -> dict:
    """Train the Part III GPT on `path` (90/10 split); loss, cache check and a sample."""
    from tqdm import tqdm
    from tt_dataloader import random_blocks, read_text
    from tt_embeddings import CharTokenizer
    from tt_optimizers import AdamW, clip_grad_norm_

    b, shape = s.budget, s.gpt_shape
    text = read_text(path)
    tokenizer = CharTokenizer.from_text(text)
    ids = np.asarray(tokenizer.encode(text), dtype=np.int64)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    if b.gpt_val_chars is not None:
        val_ids = val_ids[:b.gpt_val_chars]
    model = s.factories.gpt(tokenizer.vocab_size, shape)
    optimizer = AdamW(model.parameters(), lr=shape.learning_rate, betas=(0.9, 0.99),
                      weight_decay=0.0)
    rng = np.random.default_rng(s.seed)
    start = time.perf_counter()
    for step in tqdm(range(b.gpt_steps), desc="milestone 3: TinyGPT", disable=not s.progress):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, b.gpt_steps, shape.learning_rate)
        x, y = random_blocks(train_ids, shape.block_size, b.gpt_batch_size, rng)  # (B, T)
        loss = lm_loss(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    train_seconds = time.perf_counter() - start
    result = {"val_loss": float(val_loss(model, val_ids, shape.block_size)),
              "steps": b.gpt_steps, "train_seconds": train_seconds,
              "corpus": path.name, "characters": len(text), "vocab_size": tokenizer.vocab_size,
              "model": {k: getattr(shape, k) for k in ("block_size", "n_layer", "n_head",
                                                       "n_embd")}}
    result.update(generation_checks(model, tokenizer, s))
    return result


def generation_checks(model, tokenizer, s) -> dict:
    """Greedy tokens with and without the KV cache, and a sampled text for the report."""
    from tt_generation import generate

    prompt = np.array([tokenizer.encode("\n")], dtype=np.int64)           # (1, 1)
    n = min(s.criteria.kv_tokens, s.gpt_shape.block_size - 1)  # both paths agree within a block
    cached = generate(model, prompt, n, temperature=0.0, use_cache=True).data
    recomputed = generate(model, prompt, n, temperature=0.0, use_cache=False).data
    sample = generate(model, prompt, s.budget.sample_tokens, temperature=0.8, top_k=200,
                      seed=s.seed)
    return {"kv_cache_matches": bool(np.array_equal(cached, recomputed)),
            "kv_tokens_compared": n, "sample": tokenizer.decode(sample.data[0])}


"""TinyGPT: train a character-level GPT on real text with TinyTorch, then sample from it.

    python capstones/tinygpt/train.py                                  # pydoc text, offline
    python capstones/tinygpt/train.py --corpus shakespeare             # downloads 1.1 MB once
    python capstones/tinygpt/train.py --data input.txt --out runs/tinygpt
    python capstones/tinygpt/train.py --quick                          # seconds, for CI

Defaults are nanoGPT's CPU run of train_shakespeare_char (4 layers, 4 heads, 128 wide, block
64, batch 12, 2000 iterations, AdamW lr 1e-3 cosine to 1e-4, dropout 0). Writes to --out:
ckpt.npz (model + optimizer + RNG + iteration), config.json, vocab.json, results.json and
sample.txt. --resume continues from ckpt.npz exactly where it stopped.
"""

import argparse
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm
from tt_dataloader import random_blocks
from tt_embeddings import CharTokenizer
from tt_generation import generate
from tt_networks import cross_entropy
from tt_optimizers import AdamW, clip_grad_norm_
from tt_regularization import Dropout, param_groups_for_weight_decay
from tt_setup import seed_everything, system_info, tune_allocator
from tt_tensor import no_grad
from tt_training import load_checkpoint, save_checkpoint, write_json
from tt_transformers import GPT, GPTConfig

from data import CORPORA, load_text, make_corpus  # the capstone's own file, beside this one


@dataclass
class TrainConfig:
    """One run. Defaults: nanoGPT's config/train_shakespeare_char.py with its CPU overrides."""

    block_size: int = 64         # context length T
    n_layer: int = 4             # transformer blocks
    n_head: int = 4              # attention heads
    n_embd: int = 128            # embedding width C
    dropout: float = 0.0         # nanoGPT's CPU run turns dropout off (small model, few steps)
    bias: bool = False           # no biases in Linear/LayerNorm (nanoGPT's default)
    batch_size: int = 12         # sequences per step: B * T = 768 tokens
    max_iters: int = 2000        # optimizer steps
    learning_rate: float = 1e-3  # peak lr, after warm-up
    min_lr: float = 1e-4         # lr at the end of the cosine decay
    warmup_iters: int = 100      # linear warm-up steps (nanoGPT)
    lr_decay_iters: int = 2000   # cosine decay reaches min_lr here
    weight_decay: float = 0.1    # AdamW decay on matrices only (tt_regularization groups)
    beta1: float = 0.9
    beta2: float = 0.99          # nanoGPT: 0.99 because few tokens per step
    grad_clip: float = 1.0       # clip the global gradient norm (0 = off)
    eval_interval: int = 250     # evaluate (and checkpoint) every this many steps
    eval_iters: int = 20         # batches per loss estimate (nanoGPT CPU run: 20)
    sample_tokens: int = 500     # length of the sample saved next to the results
    seed: int = 1337             # seeds init, batches and sampling


PRESETS = {
    "nanogpt-cpu": TrainConfig(),
    "quick": TrainConfig(block_size=32, n_layer=2, n_head=2, n_embd=32, batch_size=8,
                         max_iters=60, warmup_iters=5, lr_decay_iters=60, learning_rate=3e-3,
                         eval_interval=20, eval_iters=4, sample_tokens=100),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="train on this UTF-8 text file")
    p.add_argument("--corpus", choices=CORPORA, default="pydoc",
                   help="named corpus when --data is not given (default: pydoc, offline)")
    p.add_argument("--cache-dir", type=Path, help="download cache (default $TINYTORCH_DATA "
                   "or ~/.cache/tinytorch)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="nanogpt-cpu")
    p.add_argument("--quick", action="store_true", help="the tiny 'quick' preset (CI)")
    p.add_argument("--iters", type=int, help="optimizer steps (also sets the decay length)")
    p.add_argument("--eval-interval", type=int)
    p.add_argument("--eval-iters", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--dropout", type=float, help="dropout probability (default 0, as nanoGPT's "
                   "CPU run)")
    p.add_argument("--out", type=Path, default=Path("runs/tinygpt"))
    p.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.npz")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    return p.parse_args(argv)


def config_from_args(args):
    cfg = PRESETS["quick" if args.quick else args.preset]
    changes = {"eval_interval": args.eval_interval, "eval_iters": args.eval_iters,
               "seed": args.seed, "dropout": args.dropout}
    if args.iters is not None:
        changes.update(max_iters=args.iters, lr_decay_iters=args.iters)
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None})


def build_model(cfg, vocab_size):
    """The GPT of this run; Dropout comes from tt-regularization (composed here)."""
    model_cfg = GPTConfig(block_size=cfg.block_size, vocab_size=vocab_size,
                          n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
                          dropout=cfg.dropout, bias=cfg.bias)
    return GPT(model_cfg, make_dropout=Dropout)


def lm_loss(model, x, y):
    """Mean cross-entropy of the next-token predictions: logits (B, T, V) vs targets (B, T)."""
    logits = model(x)                                  # (B, T, V)
    B, T, V = logits.shape
    return cross_entropy(logits.reshape(B * T, V), y.reshape(B * T))


def lr_at(it, cfg):
    """nanoGPT's schedule: linear warm-up, cosine decay to min_lr, then constant."""
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / (cfg.warmup_iters + 1)
    if it > cfg.lr_decay_iters:
        return cfg.min_lr
    ratio = (it - cfg.warmup_iters) / max(1, cfg.lr_decay_iters - cfg.warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))  # 1 -> 0
    return cfg.min_lr + coeff * (cfg.learning_rate - cfg.min_lr)


def estimate_loss(model, corpus, cfg, it):
    """Mean loss over eval_iters random batches of each split (their own seeded RNG, so
    evaluating never changes the training batches)."""
    model.eval()
    out = {}
    with no_grad():
        for split in ("train", "val"):
            rng = np.random.default_rng([cfg.seed, it, split == "val"])
            losses = [lm_loss(model, *random_blocks(getattr(corpus, split), cfg.block_size,
                                                    cfg.batch_size, rng)).item()
                      for _ in range(cfg.eval_iters)]
            out[split] = float(np.mean(losses))
    model.train()
    return out


def full_val_loss(model, ids, cfg):
    """Loss over every non-overlapping window of the validation split (no sampling noise)."""
    T = cfg.block_size
    n = (len(ids) - 1) // T
    starts = np.arange(n) * T
    total = 0.0
    model.eval()
    with no_grad():
        for i in range(0, n, 64):
            s = starts[i:i + 64, None] + np.arange(T)     # (b, T) positions
            total += lm_loss(model, ids[s], ids[s + 1]).item() * len(s)
    model.train()
    return total / max(n, 1)


# ------------------------------------------------------------------ checkpoints


def _module_generators(model):
    """The random generators inside the model (Dropout's masks), in a fixed order."""
    return [m.generator for m in model.modules()
            if isinstance(getattr(m, "generator", None), np.random.Generator)]


def save_state(out, model, optimizer, rng, it, history, cfg):
    """ckpt.npz (atomic): weights, AdamW moments, the batch and dropout RNGs, the step and
    the history."""
    save_checkpoint(out / "ckpt.npz", {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "rng": rng.bit_generator.state, "iter": it, "history": history,
        "model_rngs": [g.bit_generator.state for g in _module_generators(model)],
        "config": asdict(cfg)})


def load_state(out, model, optimizer, rng, cfg):
    """Restore what save_state wrote; returns (iteration, history)."""
    state = load_checkpoint(out / "ckpt.npz")
    if state["config"] != asdict(cfg):
        changed = sorted(k for k in state["config"] if state["config"][k] != asdict(cfg)[k])
        raise ValueError(f"--resume: {out / 'ckpt.npz'} was trained with other settings "
                         f"({', '.join(changed)}); use the same flags")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    rng.bit_generator.state = state["rng"]
    for generator, saved in zip(_module_generators(model), state["model_rngs"]):
        generator.bit_generator.state = saved
    return state["iter"], state["history"]


def write_run_files(out, cfg, model, tokenizer):
    """config.json and vocab.json: what sample.py needs besides the weights."""
    write_json(out / "config.json", {"train": asdict(cfg), "model": asdict(model.config)})
    tokenizer.save(out / "vocab.json")


# ------------------------------------------------------------------ the run


def train(cfg, corpus, out, resume=False, progress=True):
    """Train, evaluate every eval_interval steps, checkpoint.

    Returns (model, history, seconds spent in training steps, number of steps run).
    """
    seed_everything(cfg.seed)
    model = build_model(cfg, corpus.tokenizer.vocab_size)
    optimizer = AdamW(param_groups_for_weight_decay(model, cfg.weight_decay),
                      lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2))
    rng = np.random.default_rng(cfg.seed)  # the training batches
    start, history = 0, {"iter": [], "train_loss": [], "val_loss": []}
    if resume:
        start, history = load_state(out, model, optimizer, rng, cfg)
    write_run_files(out, cfg, model, corpus.tokenizer)
    step_seconds, steps_timed = 0.0, 0
    bar = tqdm(range(start, cfg.max_iters + 1), initial=start, total=cfg.max_iters + 1,
               desc="train", disable=not progress)
    for it in bar:
        if it % cfg.eval_interval == 0 or it == cfg.max_iters:
            evaluate_and_save(model, optimizer, rng, it, history, cfg, corpus, out, bar)
        if it == cfg.max_iters:
            break
        t0 = time.perf_counter()
        loss = train_step(model, optimizer, corpus.train, rng, cfg, it)
        step_seconds += time.perf_counter() - t0
        steps_timed += 1
        bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr_at(it, cfg):.2e}")
    return model, history, step_seconds, steps_timed


def evaluate_and_save(model, optimizer, rng, it, history, cfg, corpus, out, bar):
    """Estimate both losses at step `it`, log them, checkpoint (once per step: a resumed run
    does not repeat the evaluation its checkpoint already holds)."""
    if history["iter"] and history["iter"][-1] == it:
        return
    losses = estimate_loss(model, corpus, cfg, it)
    history["iter"].append(it)
    history["train_loss"].append(losses["train"])
    history["val_loss"].append(losses["val"])
    bar.write(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
    save_state(out, model, optimizer, rng, it, history, cfg)


def train_step(model, optimizer, ids, rng, cfg, it):
    """One AdamW step on a random batch; returns the loss as a float."""
    for group in optimizer.param_groups:
        group["lr"] = lr_at(it, cfg)
    x, y = random_blocks(ids, cfg.block_size, cfg.batch_size, rng)   # (B, T) each
    loss = lm_loss(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    if cfg.grad_clip > 0:
        clip_grad_norm_(model.parameters(), cfg.grad_clip)
    optimizer.step()
    return loss.item()


def sample_text(model, tokenizer, cfg, prompt="\n"):
    """A sample of the trained model (temperature 0.8, top-k 200 as nanoGPT's sample.py)."""
    idx = np.array([tokenizer.encode(prompt)], dtype=np.int64)
    t0 = time.perf_counter()
    ids = generate(model, idx, cfg.sample_tokens, temperature=0.8, top_k=200, seed=cfg.seed)
    seconds = time.perf_counter() - t0
    return tokenizer.decode(ids.data[0]), cfg.sample_tokens / max(seconds, 1e-9)


def main(argv=None):
    args = parse_args(argv)
    cfg = config_from_args(args)
    # Every op result is a fresh NumPy array of 0.1-2 MB; by default glibc hands freed blocks of
    # that size back to the OS and the next one page-faults on every 4 KiB page: measured here,
    # 5,000 faults and ~15 ms of an 85 ms step. Keep them for reuse (a no-op off glibc).
    tune_allocator()
    name, text = load_text(args.data, args.corpus, args.cache_dir)
    out = args.out
    tokenizer = None
    if args.resume and (out / "vocab.json").is_file():
        tokenizer = CharTokenizer.load(out / "vocab.json")  # the vocabulary it was trained on
    corpus = make_corpus(name, text, tokenizer)
    t0 = time.perf_counter()
    model, history, step_s, steps = train(cfg, corpus, out, args.resume, not args.no_progress)
    wall = time.perf_counter() - t0
    sample, sample_tps = sample_text(model, corpus.tokenizer, cfg)
    (out / "sample.txt").write_text(sample, encoding="utf-8")
    ms_per_iter = 1e3 * step_s / max(steps, 1)
    results = {
        "corpus": name, "characters": len(text), "vocab_size": corpus.tokenizer.vocab_size,
        "parameters": model.num_parameters(), "history": history,
        "final_train_loss": history["train_loss"][-1], "final_val_loss": history["val_loss"][-1],
        "final_val_loss_full": full_val_loss(model, corpus.val, cfg),
        "wall_seconds": wall, "steps_this_run": steps, "ms_per_iter": ms_per_iter,
        "tokens_per_second": cfg.batch_size * cfg.block_size / (ms_per_iter / 1e3)
        if steps else None,
        "sample_tokens_per_second": sample_tps, "config": asdict(cfg),
        "machine": system_info(),
    }
    write_json(out / "results.json", results)
    print(f"final val loss {results['final_val_loss']:.4f} (full split "
          f"{results['final_val_loss_full']:.4f}), {ms_per_iter:.1f} ms/iter, "
          f"wall {wall:.0f} s; results in {out / 'results.json'}")
    print(sample)
    return results


if __name__ == "__main__":
    main()

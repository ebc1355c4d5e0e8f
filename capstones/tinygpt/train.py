"""TinyGPT: train a character-level GPT on real text with TinyTorch, then sample from it.

    python capstones/tinygpt/train.py                                  # pydoc text, offline
    python capstones/tinygpt/train.py --corpus shakespeare             # downloads 1.1 MB once
    python capstones/tinygpt/train.py --data input.txt --out runs/tinygpt
    python capstones/tinygpt/train.py --quick                          # seconds, for CI

Defaults are nanoGPT's CPU run of train_shakespeare_char (4 layers, 4 heads, 128 wide, block
64, batch 12, 2000 iterations, AdamW lr 1e-3 cosine to 1e-4, dropout 0). The loop is
tt_training's Trainer with a step budget. Writes to --out: ckpt.npz (model + optimizer + RNGs +
step, at every evaluation), best.npz, metrics.jsonl, config.json, vocab.json, results.json and
sample.txt. --resume continues from ckpt.npz exactly where it stopped; an --out that already
holds a run is refused unless --resume or --force is given.
"""

import argparse
import json
import math
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

try:
    from tt_embeddings import CharTokenizer
    from tt_generation import generate
    from tt_networks import cross_entropy
    from tt_optimizers import AdamW, LambdaLR
    from tt_regularization import Dropout, param_groups_for_weight_decay
    from tt_setup import seed_everything, system_info, tune_allocator
    from tt_tensor import no_grad
    from tt_training import CheckpointError, DivergenceError, Trainer, TrainerConfig, write_json
    from tt_transformers import GPT, GPTConfig

    from data import CORPORA, BlockStream, LossEstimate, load_text, make_corpus  # beside this
except ModuleNotFoundError as err:  # a course module is missing: name the install that has it
    if not (err.name or "").startswith("tt_"):
        raise
    sys.exit(f"TinyGPT needs TinyTorch's language modules ({err.name} is not installed): "
             "pip install 'tinytorch[language]'")

RUN_FILES = ("ckpt.npz", "best.npz", "metrics.jsonl", "results.json")  # what makes OUT a run


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
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", type=Path, help="train on this UTF-8 text file")
    p.add_argument("--corpus", choices=CORPORA, default="pydoc",
                   help="named corpus when --data is not given (pydoc needs no network)")
    p.add_argument("--cache-dir", type=Path, help="download cache (default $TINYTORCH_DATA "
                   "or ~/.cache/tinytorch)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="nanogpt-cpu")
    p.add_argument("--quick", action="store_true", help="the tiny 'quick' preset (CI)")
    p.add_argument("--iters", type=int, help="optimizer steps (also sets the decay length)")
    p.add_argument("--eval-interval", type=int, help="steps between evaluations")
    p.add_argument("--eval-iters", type=int, help="batches per loss estimate")
    p.add_argument("--seed", type=int)
    p.add_argument("--dropout", type=float, help="dropout probability (nanoGPT's CPU run: 0)")
    p.add_argument("--out", type=Path, default=Path("runs/tinygpt"), help="the run folder")
    p.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.npz")
    p.add_argument("--force", action="store_true", help="start over in an OUT that holds a run")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # for the resume command
    check_args(args)
    return args


def usage_error(message):
    """One line on stderr and exit status 2, as argparse does for a bad argument."""
    print(f"train.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_args(args):
    for name in ("iters", "eval_interval", "eval_iters"):
        value = getattr(args, name)
        if value is not None and value < 1:
            usage_error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.seed is not None and args.seed < 0:
        usage_error(f"--seed must be >= 0, got {args.seed}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        usage_error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.data is not None and not args.data.is_file():
        what = "is a folder, not a file" if args.data.is_dir() else "does not exist"
        usage_error(f"--data {args.data} {what}")
    for flag, path in (("--out", args.out), ("--cache-dir", args.cache_dir)):
        if path is not None and path.exists() and not path.is_dir():
            usage_error(f"{flag} {path} is a file, not a folder")
    check_run_folder(args)


def check_run_folder(args):
    """Never overwrite a run by accident; never resume from nothing."""
    out, found = args.out, [name for name in RUN_FILES if (args.out / name).exists()]
    if args.resume and args.force:
        usage_error("--resume continues the run in OUT, --force starts it over: pick one")
    if args.resume:
        missing = [n for n in ("ckpt.npz", "config.json", "vocab.json") if not (out / n).is_file()]
        if missing:
            usage_error(f"--resume: {out} has no {', '.join(missing)}; nothing to resume")
    elif found and not args.force:
        usage_error(f"{out} already holds a run ({', '.join(found)}); continue it with "
                    f"{resume_command(args.argv)} or start over "
                    "with --force")


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


def lm_loss(logits, targets):
    """Mean cross-entropy of the next-token predictions: logits (B, T, V) vs targets (B, T)."""
    B, T, V = logits.shape
    return cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T))


def lr_at(it, cfg):
    """nanoGPT's schedule: linear warm-up, cosine decay to min_lr, then constant."""
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / (cfg.warmup_iters + 1)
    if it > cfg.lr_decay_iters:
        return cfg.min_lr
    ratio = (it - cfg.warmup_iters) / max(1, cfg.lr_decay_iters - cfg.warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))  # 1 -> 0
    return cfg.min_lr + coeff * (cfg.learning_rate - cfg.min_lr)


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
            total += lm_loss(model(ids[s]), ids[s + 1]).item() * len(s)
    model.train()
    return total / max(n, 1)


# ------------------------------------------------------------------ the run


def make_trainer(cfg, corpus, out, progress=True):
    """The model, AdamW with nanoGPT's schedule, the batch stream and the two loss estimates,
    in tt_training's Trainer: a step budget, an evaluation (and checkpoint) every
    eval_interval steps, gradient clipping."""
    seed_everything(cfg.seed)
    model = build_model(cfg, corpus.tokenizer.vocab_size)
    optimizer = AdamW(param_groups_for_weight_decay(model, cfg.weight_decay),
                      lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2))
    scheduler = LambdaLR(optimizer, lambda it: lr_at(it, cfg) / cfg.learning_rate)
    batches = BlockStream(corpus.train, cfg.block_size, cfg.batch_size, cfg.seed)
    # nanoGPT reports an estimate on both splits; the one named "train" is train_loss
    estimates = {split: LossEstimate(getattr(corpus, split), cfg.block_size, cfg.batch_size,
                                     cfg.eval_iters, cfg.seed, split == "val")
                 for split in ("train", "val")}
    config = TrainerConfig(max_steps=cfg.max_iters, eval_every=cfg.eval_interval,
                           scheduler_interval="step", grad_clip=cfg.grad_clip or None,
                           checkpoint_dir=str(out), checkpoint_name="ckpt.npz",
                           log_every=10, progress=progress)  # a step-loss line every 10 steps
    return Trainer(model, optimizer, lm_loss, batches, estimates, scheduler, metrics={},
                   config=config)


def check_same_settings(out, cfg):
    """--resume continues one run: its settings must be the ones it was started with."""
    saved = json.loads((out / "config.json").read_text(encoding="utf-8"))["train"]
    changed = sorted(k for k in asdict(cfg) if saved.get(k) != asdict(cfg)[k])
    if changed:
        usage_error(f"--resume: {out} was trained with other settings ({', '.join(changed)}); "
                    "use the same flags")


def write_run_files(out, cfg, model, tokenizer):
    """config.json and vocab.json: what sample.py needs besides the weights."""
    write_json(out / "config.json", {"train": asdict(cfg), "model": asdict(model.config)})
    tokenizer.save(out / "vocab.json")


def resume_command(argv):
    """The command line that continues this run."""
    args = [a for a in argv if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["python", os.path.relpath(__file__), *args])


def fit(trainer, argv):
    """trainer.fit(); Ctrl-C and divergence end the program with one line, no traceback."""
    try:
        trainer.fit()
    except KeyboardInterrupt:
        saved = trainer.last_checkpoint
        if saved is None:
            print("\ninterrupted before the first checkpoint: nothing to resume",
                  file=sys.stderr)
        else:
            print(f"\ninterrupted at step {trainer.step}; the last checkpoint is {saved[0]} "
                  f"(step {saved[1]}); resume with: {resume_command(argv)}", file=sys.stderr)
        raise SystemExit(130) from None
    except DivergenceError as err:
        print(f"train.py: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def sample_text(model, tokenizer, cfg, prompt="\n"):
    """A sample of the trained model (temperature 0.8, top-k 200 as nanoGPT's sample.py)."""
    idx = np.array([tokenizer.encode(prompt)], dtype=np.int64)
    t0 = time.perf_counter()
    ids = generate(model, idx, cfg.sample_tokens, temperature=0.8, top_k=200, seed=cfg.seed)
    seconds = time.perf_counter() - t0
    return tokenizer.decode(ids.data[0]), cfg.sample_tokens / max(seconds, 1e-9)


def load_corpus(args):
    """The corpus of this run; a resumed run keeps the vocabulary it was trained on."""
    try:
        name, text = load_text(args.data, args.corpus, args.cache_dir)
    except (OSError, ValueError) as err:
        usage_error(str(err))
    tokenizer = CharTokenizer.load(args.out / "vocab.json") if args.resume else None
    return make_corpus(name, text, tokenizer)


def main(argv=None):
    args = parse_args(argv)
    cfg = config_from_args(args)
    # Every op result is a fresh NumPy array of 0.1-2 MB; by default glibc hands freed blocks of
    # that size back to the OS and the next one page-faults on every 4 KiB page: measured here,
    # 5,000 faults and ~15 ms of an 85 ms step. Keep them for reuse (a no-op off glibc).
    tune_allocator()
    out = args.out
    if args.resume:
        check_same_settings(out, cfg)
    corpus = load_corpus(args)
    trainer = make_trainer(cfg, corpus, out, not args.no_progress)
    if args.resume:
        try:
            trainer.resume(out / "ckpt.npz")
        except CheckpointError as err:
            usage_error(str(err))
    first_step = trainer.step
    write_run_files(out, cfg, trainer.model, corpus.tokenizer)
    t0 = time.perf_counter()
    fit(trainer, args.argv)
    wall = time.perf_counter() - t0
    return report(trainer, corpus, cfg, out, first_step, wall)


def report(trainer, corpus, cfg, out, first_step, wall):
    """results.json and sample.txt, and the two lines a learner reads at the end."""
    model, evals = trainer.model, trainer.history
    history = {"iter": [h["step"] for h in evals],
               "train_loss": [h["train_loss"] for h in evals],
               "val_loss": [h["val_loss"] for h in evals]}
    sample, sample_tps = sample_text(model, corpus.tokenizer, cfg)
    (out / "sample.txt").write_text(sample, encoding="utf-8")
    steps = trainer.step - first_step
    step_s = sum(h["train_seconds"] for h in evals if h["step"] > first_step)
    ms_per_iter = 1e3 * step_s / max(steps, 1)
    results = {
        "corpus": corpus.name, "characters": len(corpus.text),
        "vocab_size": corpus.tokenizer.vocab_size,
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
    try:
        main()
    except KeyboardInterrupt:  # outside training (fit() says where its checkpoint is)
        print("\ninterrupted outside training: run the command again (with --resume if the "
              "run folder holds a checkpoint)", file=sys.stderr)
        sys.exit(130)

"""TinyGPT: train a character-level GPT on real text with TinyTorch, then sample from it.

    tinytorch run tinygpt                                    # pydoc text, offline
    tinytorch run tinygpt --corpus shakespeare               # downloads 1.1 MB once
    tinytorch run tinygpt --data input.txt --out runs/tinygpt
    tinytorch run tinygpt --quick                            # seconds, for CI
    .venv/bin/python capstones/tinygpt/train.py --quick      # the same, from a checkout

Defaults are nanoGPT's CPU run of train_shakespeare_char (4 layers, 4 heads, 128 wide, block
64, batch 12, 2000 iterations, AdamW lr 1e-3 cosine to 1e-4, dropout 0). The loop is
tt_training's Trainer with a step budget. Writes to --out: ckpt.npz (model + optimizer + RNGs +
step, at every evaluation), best.npz, metrics.jsonl, config.json, vocab.json, results.json and
sample.txt; with matplotlib (tinytorch[plots]) curves.png and attention.png. --resume
continues from ckpt.npz exactly where it stopped; an --out that already holds a run is refused
unless --resume or --force is given.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tinytorch import plots
from tinytorch.capstone import (
    HelpFormatter, add_run_options, apply_threads, exit_on_ctrl_c, import_beside, interrupted,
    needs_extra, prog, relative_out, resume_command, usage_error,
)

apply_threads()  # before NumPy loads its BLAS

import_beside(__file__)  # data.py sits beside this program

import numpy as np  # noqa: E402

with needs_extra("TinyGPT", "language", "language modules"):
    from tt_attention import MultiHeadAttention
    from tt_embeddings import CharTokenizer
    from tt_generation import generate
    from tt_networks import cross_entropy
    from tt_optimizers import AdamW, LambdaLR
    from tt_regularization import Dropout, param_groups_for_weight_decay
    from tt_setup import seed_everything, system_info, tune_allocator
    from tt_tensor import no_grad
    from tt_layers import register_module_forward_pre_hook
    from tt_training import (
        METRICS_FILE, CheckpointError, DivergenceError, Trainer, TrainerConfig, read_metrics,
        write_json,
    )
    from tt_transformers import GPT, GPTConfig

    from data import CORPORA, BlockStream, LossEstimate, load_text, make_corpus  # beside this

PICTURES = ["curves.png", "attention.png"]
ATTENTION_CHARS = 24  # characters of the sample whose attention is drawn

DATA_FOLDER_FILES = ("tinyshakespeare/input.txt", "input.txt")  # looked for in a --data folder
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
    p = argparse.ArgumentParser(prog=prog(__file__), description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--corpus", choices=CORPORA, default="pydoc",
                   help="named corpus when --data is not given (pydoc needs no network)")
    p.add_argument("--cache-dir", type=Path, help="download cache (default $TINYTORCH_DATA "
                   "or ~/.cache/tinytorch)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="nanogpt-cpu",
                   help="nanogpt-cpu: nanoGPT's CPU run; quick: a tiny model for CI")
    p.add_argument("--quick", action="store_true", help="the tiny 'quick' preset (CI)")
    p.add_argument("--iters", type=int, help="optimizer steps, also the decay length "
                   "(default: preset's)")
    p.add_argument("--eval-interval", type=int, help="steps between evaluations "
                   "(default: preset's)")
    p.add_argument("--eval-iters", type=int, help="batches per loss estimate "
                   "(default: preset's)")
    p.add_argument("--dropout", type=float, help="dropout probability (default: preset's; "
                   "nanoGPT's CPU run: 0)")
    add_run_options(p, out=relative_out("tinygpt"), data_help="train on this UTF-8 text file "
                    "instead of --corpus")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    args = p.parse_args(argv)
    args.data = None if args.data is None else Path(args.data)
    args.out = Path(args.out)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # for the resume command
    check_args(args)
    return args


def check_args(args):
    for name in ("iters", "eval_interval", "eval_iters", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            usage_error(__file__, f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.seed is not None and args.seed < 0:
        usage_error(__file__, f"--seed must be >= 0, got {args.seed}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        usage_error(__file__, f"--dropout must be in [0, 1), got {args.dropout}")
    if args.data is not None and args.data.is_dir():
        # The milestones' and CIFAR-10's --data is a folder: the corpus inside it counts too.
        inside = [args.data / name for name in DATA_FOLDER_FILES]
        found = next((path for path in inside if path.is_file()), None)
        if found is None:
            usage_error(__file__, f"--data {args.data} is a folder without "
                                  f"{' or '.join(DATA_FOLDER_FILES)}")
        args.data = found
    if args.data is not None and not args.data.is_file():
        usage_error(__file__, f"--data {args.data} does not exist")
    for flag, path in (("--out", args.out), ("--cache-dir", args.cache_dir)):
        if path is not None and path.exists() and not path.is_dir():
            usage_error(__file__, f"{flag} {path} is a file, not a folder")
    check_run_folder(args)


def check_run_folder(args):
    """Never overwrite a run by accident; never resume from nothing."""
    out, found = args.out, [name for name in RUN_FILES if (args.out / name).exists()]
    if args.resume and args.force:
        usage_error(__file__, "--resume continues the run in OUT, --force starts it over: pick one")
    if args.resume:
        missing = [n for n in ("ckpt.npz", "config.json", "vocab.json") if not (out / n).is_file()]
        if missing:
            usage_error(__file__, f"--resume: {out} has no {', '.join(missing)}; nothing to resume")
    elif found and not args.force:
        usage_error(__file__, f"{out} already holds a run ({', '.join(found)}); continue it "
                    f"with {resume_command(__file__, args.argv)} or start over with --force")


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
    return GPT(model_cfg, dropout_layer=Dropout)


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
        usage_error(__file__, f"--resume: {out} was trained with other settings "
                    f"({', '.join(changed)}); use the same flags")


def write_run_files(out, cfg, model, tokenizer):
    """config.json and vocab.json: what sample.py needs besides the weights."""
    write_json(out / "config.json", {"train": asdict(cfg), "model": asdict(model.config)})
    tokenizer.save(out / "vocab.json")


def fit(trainer, argv):
    """trainer.fit(); Ctrl-C and divergence end the program with one line, no traceback."""
    try:
        trainer.fit()
    except KeyboardInterrupt:
        saved = trainer.last_checkpoint
        if saved is None:
            interrupted("before the first checkpoint: nothing to resume")
        interrupted(f"at step {trainer.step}; the last checkpoint is {saved[0]} (step "
                    f"{saved[1]}); resume with: {resume_command(__file__, argv)}")
    except DivergenceError as err:
        print(f"{prog(__file__)}: {err}", file=sys.stderr)
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
        usage_error(__file__, str(err))
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
            usage_error(__file__, str(err))
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
    text, weights = attention_maps(model, corpus.tokenizer, sample)
    results["attention"] = {"text": text, "weights": np.round(weights, 4).tolist()}
    results["plot"] = draw(out, text, weights)
    write_json(out / "results.json", results)
    print(f"final val loss {results['final_val_loss']:.4f} (full split "
          f"{results['final_val_loss_full']:.4f}), {ms_per_iter:.1f} ms/iter, "
          f"wall {wall:.0f} s; results in {out / 'results.json'}")
    print(sample)
    print(results["plot"])
    return results


def attention_maps(model, tokenizer, sample):
    """The attention weights of every layer for the first characters of `sample`:
    (text, array (n_layer, n_head, T, T)). Each attention module's input is caught with
    tt_layers' forward pre-hook; MultiHeadAttention.attention_weights gives its weights."""
    text = sample[:min(ATTENTION_CHARS, model.config.block_size)]
    inputs = []

    def keep_input(module, args):
        if isinstance(module, MultiHeadAttention):
            inputs.append((module, args[0]))

    idx = np.array([tokenizer.encode(text)], dtype=np.int64)  # (1, T)
    model.eval()
    with no_grad(), register_module_forward_pre_hook(keep_input):
        model(idx)
        maps = [module.attention_weights(x).data[0] for module, x in inputs]  # (H, T, T) each
    model.train()
    return text, np.stack(maps)


def draw(out, text, weights):
    """curves.png and attention.png in `out`; a note when matplotlib is missing."""
    plt = plots.pyplot()
    if plt is None:
        return plots.missing_note(PICTURES)
    records = [r for r in read_metrics(out / METRICS_FILE) if r["kind"] == "eval"]
    plots.plot_curves(plt, records, out / "curves.png", title="TinyGPT")
    layers, heads, T, _ = weights.shape
    fig, axes = plt.subplots(layers, heads, figsize=(2.6 * heads, 2.6 * layers), squeeze=False)
    labels = [repr(c)[1:-1] or " " for c in text]  # "\n" shows as \n
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer, head]
            ax.imshow(weights[layer, head], cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks(range(T), labels, fontsize=5)
            ax.set_yticks(range(T), labels, fontsize=5)
            ax.set_title(f"layer {layer}, head {head}", fontsize=8)
    fig.suptitle("TinyGPT's attention on its sample\n(row: the position predicting the next "
                 "character; column: the position it reads)", fontsize=9)
    fig.tight_layout()
    plots.save_figure(fig, out / "attention.png")
    return f"pictures in {out}: {', '.join(PICTURES)}"


if __name__ == "__main__":
    sys.exit(exit_on_ctrl_c(main))
